// What the store's SQL avoids so that Citus runs every statement on one agency's shard (docs/scaling.md); the same
// SQL runs unchanged on plain PostgreSQL.
//
// - Every table a statement names is tied to the agency by value (`x.agency_id = \(connection.agencyID)`), joins and
//   subqueries included: DistributableSchemaTests reads the sources for it.
// - A write whose answer casts an enum or a date to text (their output functions are STABLE) reads its rows back
//   through `WITH written AS (INSERT … RETURNING *) SELECT <columns> FROM written`: Citus refuses a non-immutable
//   function in a RETURNING list, and accepts it in a SELECT over the written rows. Same rows, same round trip.
// - No volatile function (gen_random_uuid) in a write: ids come from Swift.
// - An INSERT … SELECT from arrays or JSON joins a row of the same agency (the plan's), so Citus runs it on that shard
//   instead of copying the rows in through the coordinator, which row-level security refuses.

/// `column` if it is set, else `now()`: what `coalesce(column, now())` says, in a form Citus accepts in an UPDATE
/// (it refuses a non-immutable function inside COALESCE or CASE); LEAST skips a NULL, and a stored time is never later
/// than now. `column` is one of this module's column names, never input.
func firstTimeNow(_ column: String) -> String { "least(\(column), now())" }
