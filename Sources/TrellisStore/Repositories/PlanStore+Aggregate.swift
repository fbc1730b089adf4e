import Foundation
import PostgresNIO
import TrellisDomain

/// A plan as one edit needs it: the aggregate, its row's metadata, its client, the names of its assignees and
/// the webhooks that hear when it is rescheduled; read by one statement.
public struct LoadedPlan: Sendable {
    public var plan: OnboardingPlan
    public var record: PlanRecord
    public var client: PlanClient
    public var memberNames: [MemberID: String]
    /// Active webhooks of the agency subscribed to `plan.rescheduled`.
    public var rescheduledWebhooks: [UUID]
}

/// What a plan shows of its client.
public struct PlanClient: Sendable, Hashable {
    public var id: ClientID
    public var name: String
    public var slug: String
    public var timeZone: String
    public var status: ClientStatus = .active
}

/// An inbox notice written with the change that caused it.
public struct PlanNotice: Sendable, Hashable, Encodable {
    /// The notification's id, chosen here: the write reads it from the notice (a volatile gen_random_uuid() in the
    /// statement would keep Citus from sending it to the plan's shard).
    public var id = UUID()
    public var memberId: UUID
    /// `task_moved`, `client_done`.
    public var kind: String
    public var title: String
    public var body: String

    public init(member: MemberID, kind: String = "task_moved", title: String, body: String) {
        self.memberId = member.rawValue
        self.kind = kind
        self.title = title
        self.body = body
    }
}

extension PlanStore {
    /// The plan of the connection's agency with everything an edit, a timeline or a recompute needs, in one statement;
    /// `lock` takes the plan's row lock for an edit.
    public func load(_ id: PlanID, lock: Bool, on connection: TenantConnection) async throws -> LoadedPlan {
        let rows = lock
            ? try await connection.execute(LoadPlanForEdit(agency: connection.agencyID, plan: id.rawValue), logger: logger)
            : try await connection.execute(LoadPlan(agency: connection.agencyID, plan: id.rawValue), logger: logger)
        for try await loaded in rows { return loaded }
        throw StoreError.notFound("plan")
    }

    // The load is a server-side prepared statement: each connection parses it once, and PostgreSQL may then reuse a
    // generic plan. Planning it took ~2 ms, as long as running it for a 500-task plan (EXPLAIN ANALYZE, 2026-12-02).
    struct LoadPlan: PostgresPreparedStatement {
        static let name = "trellis_load_plan_v1"
        static let sql = PlanStore.loadSelect
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid]
        var agency: UUID
        var plan: UUID
        func makeBindings() -> PostgresBindings { PlanStore.loadBindings(agency, plan) }
        func decodeRow(_ row: PostgresRow) throws -> LoadedPlan { try PlanStore.decodeLoaded(row) }
    }

    /// The same, taking the plan's row lock for an edit.
    struct LoadPlanForEdit: PostgresPreparedStatement {
        static let name = "trellis_load_plan_for_edit_v1"
        static let sql = PlanStore.loadSelect + " FOR UPDATE OF p"
        static let bindingDataTypes: [PostgresDataType] = [.uuid, .uuid]
        var agency: UUID
        var plan: UUID
        func makeBindings() -> PostgresBindings { PlanStore.loadBindings(agency, plan) }
        func decodeRow(_ row: PostgresRow) throws -> LoadedPlan { try PlanStore.decodeLoaded(row) }
    }

    static func loadBindings(_ agency: UUID, _ plan: UUID) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(agency)
        bindings.append(plan)
        return bindings
    }

    /// The plan, its client and calendar, the names of its assignees, the webhooks that hear of its moves, and its tasks
    /// and links as column arrays: the plan `$2` of the agency `$1`. Every table, subqueries included, names the agency
    /// itself: Citus routes a statement to one shard only when each of its tables says which (a correlation such as
    /// `t.agency_id = p.agency_id` inside a subquery is not enough: it sends that to all 32).
    static let loadSelect = """
        SELECT \(planColumns.split(separator: ",").map { "p." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")),
               c.name, c.slug, c.time_zone, c.calendar::text,
               (SELECT coalesce(json_object_agg(m.id, m.display_name), '{}') FROM members m
                WHERE m.agency_id = $1
                  AND m.id IN (SELECT t.assignee_id FROM plan_tasks t WHERE t.agency_id = $1 AND t.plan_id = p.id))::text,
               ARRAY(SELECT w.id FROM webhooks w
                     WHERE w.agency_id = $1 AND w.active AND 'plan.rescheduled' = ANY (w.events) ORDER BY w.id),
               \(taskArrayColumns), \(linkArrayColumns), c.status::text
        FROM plans p JOIN clients c ON c.agency_id = $1 AND c.id = p.client_id
        CROSS JOIN LATERAL (\(taskArrays)) tk
        CROSS JOIN LATERAL (\(linkArrays)) lk
        WHERE p.agency_id = $1 AND p.id = $2
        """

    static func decodeLoaded(_ row: PostgresRow) throws -> LoadedPlan {
            let c = row.makeRandomAccess()
            let record = try Self.decodePlan(row)
            var client = PlanClient(
                id: ClientID(record.clientId), name: try c[9].decode(String.self), slug: try c[10].decode(String.self),
                timeZone: try c[11].decode(String.self))
            let calendar = try c[12].decode(String?.self).map { try JSONText.decode(WorkCalendar.self, $0) }
                ?? WorkCalendar.partTimeMornings(timeZone: client.timeZone)
            var names: [MemberID: String] = [:]
            for (key, name) in try JSONText.decode([String: String].self, try c[13].decode(String.self)) {
                if let uuid = UUID(uuidString: key) { names[MemberID(uuid)] = name }
            }
            let tasks = try Self.decodeTaskArrays(c, from: 15)
            let links = try Self.decodeLinkArrays(c, from: 15 + Self.taskArrayCount)
            client.status = try stored(ClientStatus.self, try c[15 + Self.taskArrayCount + 4].decode(String.self), column: "clients.status")
            return LoadedPlan(
                plan: OnboardingPlan(id: PlanID(record.id), clientID: client.id, name: record.name, startsAt: record.startsAt, calendar: calendar,
                                     tasks: tasks, links: links),
                record: record, client: client, memberNames: names, rescheduledWebhooks: try c[14].decode([UUID].self))
    }

    // The tasks and links of a plan come as one array per column (decoded in binary), not as JSON: with a few hundred
    // tasks, decoding JSON cost more than everything else an edit does. NULLs are written as the nil UUID, NaN or a
    // separate "is null" flag, so every array has a plain element type.
    /// The stored NULL of `published_slack_minutes` in the arrays (int4's minimum).
    static let noSlack = -2_147_483_648
    static let nilUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// One array per task column, in outline order: (expression over `t`, name).
    static let taskArrayParts: [(String, String)] = [
        ("t.id", "ids"), ("t.position::int8", "positions"), ("coalesce(t.parent_id, '00000000-0000-0000-0000-000000000000')", "parents"),
        ("t.name", "names"), ("t.duration_minutes::int8", "durations"), ("coalesce(t.role_key, '')", "role_keys"),
        ("t.role_key IS NULL", "role_key_nulls"), ("coalesce(t.assignee_id, '00000000-0000-0000-0000-000000000000')", "assignees"),
        ("t.checklist::text", "checklists"), ("coalesce(t.constraint_kind::text, '')", "constraint_kinds"),
        (epoch("t.constraint_at"), "constraint_ats"), ("t.percent_complete::int8", "percents"), (epoch("t.actual_start"), "actual_starts"),
        (epoch("t.actual_finish"), "actual_finishes"), ("t.ical_sequence::int8", "sequences"), (epoch("t.ical_start"), "ical_starts"),
        (epoch("t.ical_finish"), "ical_finishes"), ("t.client_action", "client_actions"), (epoch("t.client_done_at"), "client_done_ats"),
        ("coalesce(t.client_comment, '')", "client_comments"),
        ("coalesce(t.published_slack_minutes, -2147483648)::int8", "slacks"),
    ]
    static var taskArrayCount: Int { taskArrayParts.count }
    // The rows are sorted once, in a subquery, and every array aggregates them in that order. An `ORDER BY` inside
    // each `array_agg` made PostgreSQL 15 sort the plan's tasks once per array, 21 times: half of the statement's time.
    static let taskArrays = "SELECT " + taskArrayParts.map { "coalesce(array_agg(\($0.0)), '{}') AS \($0.1)" }
        .joined(separator: ",\n       ")
        + "\nFROM (SELECT * FROM plan_tasks t WHERE t.agency_id = $1 AND t.plan_id = p.id ORDER BY t.position, t.id) t"
    static let taskArrayColumns = taskArrayParts.map { "tk." + $0.1 }.joined(separator: ", ")

    static func epoch(_ column: String) -> String { "coalesce(extract(epoch FROM \(column))::float8, 'NaN')" }

    static let linkArrays = """
        SELECT coalesce(array_agg(d.predecessor_id), '{}') AS predecessors, coalesce(array_agg(d.successor_id), '{}') AS successors,
               coalesce(array_agg(d.kind::text), '{}') AS kinds, coalesce(array_agg(d.lag_minutes::int8), '{}') AS lags
        FROM (SELECT * FROM plan_dependencies d WHERE d.agency_id = $1 AND d.plan_id = p.id
              ORDER BY d.predecessor_id, d.successor_id) d
        """
    static let linkArrayColumns = "lk.predecessors, lk.successors, lk.kinds, lk.lags"

    static func decodeTaskArrays(_ c: PostgresRandomAccessRow, from first: Int) throws -> [PlannedTask] {
        let ids = try c[first].decode([UUID].self), positions = try c[first + 1].decode([Int].self)
        let parents = try c[first + 2].decode([UUID].self), names = try c[first + 3].decode([String].self)
        let durations = try c[first + 4].decode([Int].self), roleKeys = try c[first + 5].decode([String].self)
        let roleKeyNulls = try c[first + 6].decode([Bool].self), assignees = try c[first + 7].decode([UUID].self)
        let checklists = try c[first + 8].decode([String].self), constraintKinds = try c[first + 9].decode([String].self)
        let constraintAts = try c[first + 10].decode([Double].self), percents = try c[first + 11].decode([Int].self)
        let actualStarts = try c[first + 12].decode([Double].self), actualFinishes = try c[first + 13].decode([Double].self)
        let sequences = try c[first + 14].decode([Int].self), icalStarts = try c[first + 15].decode([Double].self)
        let icalFinishes = try c[first + 16].decode([Double].self), clientActions = try c[first + 17].decode([Bool].self)
        let clientDoneAts = try c[first + 18].decode([Double].self), clientComments = try c[first + 19].decode([String].self)
        let slacks = try c[first + 20].decode([Int].self)
        func date(_ seconds: Double) -> Date? { seconds.isNaN ? nil : Date(timeIntervalSince1970: seconds) }
        func member(_ id: UUID) -> UUID? { id == nilUUID ? nil : id }
        var tasks: [PlannedTask] = []
        tasks.reserveCapacity(ids.count)
        for i in ids.indices {
            var constraint: TaskConstraint?
            if !constraintKinds[i].isEmpty, let at = date(constraintAts[i]) {
                constraint = TaskConstraint(kind: try stored(ConstraintKind.self, constraintKinds[i], column: "plan_tasks.constraint_kind"), date: at)
            }
            let checklist = checklists[i] == "[]" ? [] : try JSONText.decode([String].self, checklists[i])
            tasks.append(PlannedTask(
                id: TaskID(ids[i]), position: positions[i], parentID: member(parents[i]).map(TaskID.init), name: names[i],
                durationMinutes: durations[i], roleKey: roleKeyNulls[i] ? nil : roleKeys[i], assigneeID: member(assignees[i]).map(MemberID.init),
                checklist: checklist, constraint: constraint, percentComplete: percents[i], actualStart: date(actualStarts[i]),
                actualFinish: date(actualFinishes[i]),
                published: PublishedDates(sequence: sequences[i], start: date(icalStarts[i]), finish: date(icalFinishes[i]),
                                          slackMinutes: slacks[i] == Self.noSlack ? nil : slacks[i]),
                clientAction: clientActions[i],
                clientDone: date(clientDoneAts[i]).map { ClientDone(at: $0, comment: clientComments[i]) }))
        }
        return tasks
    }

    static func decodeLinkArrays(_ c: PostgresRandomAccessRow, from first: Int) throws -> [PlanLink] {
        let predecessors = try c[first].decode([UUID].self), successors = try c[first + 1].decode([UUID].self)
        let kinds = try c[first + 2].decode([String].self), lags = try c[first + 3].decode([Int].self)
        return try predecessors.indices.map {
            PlanLink(predecessor: TaskID(predecessors[$0]), successor: TaskID(successors[$0]),
                     kind: try stored(DependencyKind.self, kinds[$0], column: "plan_dependencies.kind"), lagMinutes: lags[$0])
        }
    }

    /// Writes what `delta` says changed in `plan`, the notices the change causes, and the plan's new version, in one
    /// statement. Returns the plan's row and the names of `assignees` (for the answer's timeline).
    public func write(
        _ delta: PlanDelta, of plan: OnboardingPlan, notices: [PlanNotice], assignees: Set<MemberID>,
        bumpVersion: Bool = true, on connection: TenantConnection
    ) async throws -> (PlanRecord, [MemberID: String]) {
        let agency = connection.agency
        let w = try TaskColumns(plan.tasks.filter { delta.writtenTasks.contains($0.id) })
        let added = delta.insertedLinks.map(StoredLink.init), removed = delta.deletedLinks.map(StoredLink.init)
        let (addedText, removedText) = (try JSONText.encode(added), try JSONText.encode(removed))
        let noticeText = try JSONText.encode(notices)
        let deleted = delta.deletedTasks.map(\.rawValue), people = assignees.map(\.rawValue)
        let (a, p) = (agency.rawValue, plan.id.rawValue)
        let name: String? = delta.planFields ? plan.name : nil
        let startsAt: Date? = delta.planFields ? plan.startsAt : nil
        let summary = plan.publishedSummary
        // The rows are read inside: a constraint is checked at the end of the statement, so its violation arrives with
        // the answer's rows, not when the query is sent. Each insert selects its rows beside the plan's own row: on Citus
        // that makes it an INSERT … SELECT on the plan's shard (one from a function alone would be copied in through the
        // coordinator, which row-level security refuses).
        return try await translatingConstraints(
            unique: ["plan_dependencies_pkey": "successorId"],
            foreignKeys: [
                "plan_tasks_agency_id_plan_id_parent_id_fkey": "parentId", "plan_tasks_agency_id_assignee_id_fkey": "assigneeId",
                "plan_dependencies_agency_id_plan_id_predecessor_id_fkey": "predecessorId",
                "plan_dependencies_agency_id_plan_id_successor_id_fkey": "successorId",
            ]
        ) {
            let rows = try await connection.query("""
                WITH removed_links AS (
                    DELETE FROM plan_dependencies d USING jsonb_to_recordset(\(removedText)::jsonb) AS x("predecessorId" uuid, "successorId" uuid)
                    WHERE d.agency_id = \(a) AND d.plan_id = \(p) AND d.predecessor_id = x."predecessorId" AND d.successor_id = x."successorId"
                ), removed_tasks AS (
                    DELETE FROM plan_tasks WHERE agency_id = \(a) AND plan_id = \(p) AND id = ANY (\(deleted)::uuid[])
                ), written_tasks AS (
                    INSERT INTO plan_tasks (agency_id, plan_id, id, position, parent_id, name, duration_minutes, role_key, assignee_id, checklist,
                                            constraint_kind, constraint_at, percent_complete, actual_start, actual_finish,
                                            ical_sequence, ical_start, ical_finish, client_action, client_done_at, client_comment,
                                            published_slack_minutes)
                    SELECT pl.agency_id, pl.id, x.id, x.position, nullif(x.parent, \(Self.nilUUID)), x.name, x.duration,
                           CASE WHEN x.role_key_null THEN NULL ELSE x.role_key END, nullif(x.assignee, \(Self.nilUUID)), x.checklist::jsonb,
                           nullif(x.constraint_kind, '')::constraint_kind, to_timestamp(nullif(x.constraint_at, 'NaN')), x.percent,
                           to_timestamp(nullif(x.actual_start, 'NaN')), to_timestamp(nullif(x.actual_finish, 'NaN')),
                           x.sequence, to_timestamp(nullif(x.ical_start, 'NaN')), to_timestamp(nullif(x.ical_finish, 'NaN')),
                           x.client_action, to_timestamp(nullif(x.client_done_at, 'NaN')),
                           CASE WHEN x.client_done_at = 'NaN' THEN NULL ELSE x.client_comment END,
                           nullif(x.slack, \(Self.noSlack))
                    FROM unnest(\(w.ids)::uuid[], \(w.positions)::int4[], \(w.parents)::uuid[], \(w.names)::text[], \(w.durations)::int4[],
                                \(w.roleKeys)::text[], \(w.roleKeyNulls)::bool[], \(w.assignees)::uuid[], \(w.checklists)::text[],
                                \(w.constraintKinds)::text[], \(w.constraintAts)::float8[], \(w.percents)::int4[], \(w.actualStarts)::float8[],
                                \(w.actualFinishes)::float8[], \(w.sequences)::int4[], \(w.icalStarts)::float8[], \(w.icalFinishes)::float8[],
                                \(w.clientActions)::bool[], \(w.clientDoneAts)::float8[], \(w.clientComments)::text[], \(w.slacks)::int4[])
                         AS x(id, position, parent, name, duration, role_key, role_key_null, assignee, checklist, constraint_kind, constraint_at,
                              percent, actual_start, actual_finish, sequence, ical_start, ical_finish, client_action, client_done_at, client_comment,
                              slack)
                    CROSS JOIN plans pl WHERE pl.agency_id = \(a) AND pl.id = \(p)
                    ON CONFLICT (agency_id, plan_id, id) DO UPDATE SET
                        position = excluded.position, parent_id = excluded.parent_id, name = excluded.name,
                        duration_minutes = excluded.duration_minutes, role_key = excluded.role_key, assignee_id = excluded.assignee_id,
                        checklist = excluded.checklist, constraint_kind = excluded.constraint_kind, constraint_at = excluded.constraint_at,
                        percent_complete = excluded.percent_complete, actual_start = excluded.actual_start,
                        actual_finish = excluded.actual_finish, ical_sequence = excluded.ical_sequence,
                        ical_start = excluded.ical_start, ical_finish = excluded.ical_finish,
                        client_action = excluded.client_action, client_done_at = excluded.client_done_at,
                        client_comment = excluded.client_comment, published_slack_minutes = excluded.published_slack_minutes
                ), added_links AS (
                    INSERT INTO plan_dependencies (agency_id, plan_id, predecessor_id, successor_id, kind, lag_minutes)
                    SELECT pl.agency_id, pl.id, x."predecessorId", x."successorId", x.kind::dependency_kind, x."lagMinutes"
                    FROM jsonb_to_recordset(\(addedText)::jsonb) AS x("predecessorId" uuid, "successorId" uuid, kind text, "lagMinutes" int)
                    CROSS JOIN plans pl WHERE pl.agency_id = \(a) AND pl.id = \(p)
                ), notices AS (
                    INSERT INTO notifications (agency_id, id, member_id, kind, title, body, client_id, plan_id)
                    SELECT pl.agency_id, x.id, x."memberId", x.kind, x.title, x.body, pl.client_id, pl.id
                    FROM jsonb_to_recordset(\(noticeText)::jsonb) AS x(id uuid, "memberId" uuid, kind text, title text, body text)
                    CROSS JOIN plans pl WHERE pl.agency_id = \(a) AND pl.id = \(p)
                )
                UPDATE plans SET version = version + \(bumpVersion ? 1 : 0), updated_at = \(unescaped: bumpVersion ? "now()" : "updated_at"),
                    name = coalesce(\(name), name), starts_at = coalesce(\(startsAt), starts_at),
                    archived_at = \(unescaped: delta.archived ? firstTimeNow("archived_at") : "archived_at"),
                    schedule_finish = \(summary.finish), schedule_first_unfinished_finish = \(summary.firstUnfinishedFinish),
                    schedule_negative_slack = \(summary.negativeSlack), schedule_has_work = \(summary.hasWork),
                    schedule_all_done = \(summary.allDone)
                WHERE agency_id = \(a) AND id = \(p)
                RETURNING \(unescaped: Self.planColumns),
                    (SELECT coalesce(json_object_agg(m.id, m.display_name), '{}') FROM members m
                     WHERE m.agency_id = \(a) AND m.id = ANY (\(people)::uuid[]))::text
                """, logger: logger)
            for try await row in rows {
                let record = try Self.decodePlan(row)
                var names: [MemberID: String] = [:]
                for (key, value) in try JSONText.decode([String: String].self, try row.makeRandomAccess()[9].decode(String.self)) {
                    if let uuid = UUID(uuidString: key) { names[MemberID(uuid)] = value }
                }
                return (record, names)
            }
            throw StoreError.notFound("plan")
        }
    }
}

/// Written tasks as one array per column, for `unnest` (NULLs as the nil UUID, NaN, or a flag, as the load reads them).
struct TaskColumns {
    var ids: [UUID] = [], positions: [Int] = [], parents: [UUID] = [], names: [String] = [], durations: [Int] = []
    var roleKeys: [String] = [], roleKeyNulls: [Bool] = [], assignees: [UUID] = [], checklists: [String] = []
    var constraintKinds: [String] = [], constraintAts: [Double] = [], percents: [Int] = [], actualStarts: [Double] = []
    var actualFinishes: [Double] = [], sequences: [Int] = [], icalStarts: [Double] = [], icalFinishes: [Double] = []
    var clientActions: [Bool] = [], clientDoneAts: [Double] = [], clientComments: [String] = [], slacks: [Int] = []

    init(_ tasks: [PlannedTask]) throws {
        func seconds(_ date: Date?) -> Double { date?.timeIntervalSince1970 ?? .nan }
        for task in tasks {
            ids.append(task.id.rawValue)
            positions.append(task.position)
            parents.append(task.parentID?.rawValue ?? PlanStore.nilUUID)
            names.append(task.name)
            durations.append(task.durationMinutes)
            roleKeys.append(task.roleKey ?? "")
            roleKeyNulls.append(task.roleKey == nil)
            assignees.append(task.assigneeID?.rawValue ?? PlanStore.nilUUID)
            checklists.append(task.checklist.isEmpty ? "[]" : try JSONText.encode(task.checklist))
            constraintKinds.append(task.constraint?.kind.rawValue ?? "")
            constraintAts.append(seconds(task.constraint?.date))
            percents.append(task.percentComplete)
            actualStarts.append(seconds(task.actualStart))
            actualFinishes.append(seconds(task.actualFinish))
            sequences.append(task.published.sequence)
            icalStarts.append(seconds(task.published.start))
            icalFinishes.append(seconds(task.published.finish))
            clientActions.append(task.clientAction)
            clientDoneAts.append(seconds(task.clientDone?.at))
            clientComments.append(task.clientDone?.comment ?? "")
            slacks.append(task.published.slackMinutes ?? PlanStore.noSlack)
        }
    }
}

struct StoredLink: Codable {
    var predecessorId: UUID
    var successorId: UUID
    var kind: String
    var lagMinutes: Int

    init(_ link: PlanLink) {
        predecessorId = link.predecessor.rawValue
        successorId = link.successor.rawValue
        kind = link.kind.rawValue
        lagMinutes = link.lagMinutes
    }

    func link() throws -> PlanLink {
        PlanLink(predecessor: TaskID(predecessorId), successor: TaskID(successorId),
                 kind: try stored(DependencyKind.self, kind, column: "plan_dependencies.kind"), lagMinutes: lagMinutes)
    }
}
