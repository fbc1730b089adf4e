import Foundation
import PostgresNIO
import TrellisDomain

/// A connection inside a transaction scoped to one agency. Every store query on a tenant table names that agency
/// (`agency_id = $n`), so that on Citus it runs on the agency's shard alone; row-level security stays the backstop.
public struct TenantConnection: Sendable {
    /// The underlying connection, for what is not a tenant table (the queue enqueues in the same transaction).
    public let connection: PostgresConnection
    public let agency: AgencyID
    /// The agency's id as the statements bind it: `agency_id = \(connection.agencyID)`.
    public var agencyID: UUID { agency.rawValue }

    public init(connection: PostgresConnection, agency: AgencyID) {
        self.connection = connection
        self.agency = agency
    }

    @discardableResult
    public func query(
        _ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> PostgresRowSequence {
        try await connection.query(query, logger: logger, file: file, line: line)
    }

    /// The statement that scopes the transaction: `SET LOCAL`, which Citus carries to the worker nodes when
    /// `citus.propagate_set_commands = 'local'` (a session-level `set_config` does not reach them); it ends with
    /// the transaction on plain PostgreSQL and on Citus alike. A UUID's text is hex digits and dashes only, so it
    /// is written into the statement (SET takes no parameters).
    static func scope(to agency: AgencyID) -> PostgresQuery {
        PostgresQuery(unsafeSQL: "SET LOCAL trellis.agency_id = '\(agency.rawValue.uuidString)'")
    }
}

/// `column` if it is set, else `now()`: what `coalesce(column, now())` says, in a form Citus accepts in an UPDATE
/// (it refuses a non-immutable function inside COALESCE or CASE); LEAST skips a NULL, and a stored time is never later
/// than now. `column` is one of this module's column names, never input.
func firstTimeNow(_ column: String) -> String { "least(\(column), now())" }

// A write whose answer casts an enum or a date to text (their output functions are STABLE) reads its rows back through
// `WITH written AS (INSERT … RETURNING *) SELECT <columns> FROM written`: Citus refuses a non-immutable function in a
// RETURNING list, and accepts it in a SELECT over the written rows. Same rows, same round trip, on plain PostgreSQL too.
