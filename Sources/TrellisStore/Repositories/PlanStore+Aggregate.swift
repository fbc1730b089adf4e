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
}

/// An inbox notice written with the change that caused it.
public struct PlanNotice: Sendable, Hashable, Encodable {
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
    /// The plan of `agency` with everything an edit, a timeline or a recompute needs, in one statement;
    /// `lock` takes the plan's row lock for an edit.
    public func load(_ id: PlanID, agency: AgencyID, lock: Bool, on connection: PostgresConnection) async throws -> LoadedPlan {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.planColumns.split(separator: ",").map { "p." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")),
                   c.name, c.slug, c.time_zone, c.calendar::text,
                   (SELECT coalesce(json_agg(json_build_object(
                        'id', t.id, 'position', t.position, 'parentId', t.parent_id, 'name', t.name, 'durationMinutes', t.duration_minutes,
                        'roleKey', t.role_key, 'assigneeId', t.assignee_id, 'checklist', t.checklist, 'constraintKind', t.constraint_kind,
                        'constraintAt', extract(epoch FROM t.constraint_at), 'percentComplete', t.percent_complete,
                        'actualStart', extract(epoch FROM t.actual_start), 'actualFinish', extract(epoch FROM t.actual_finish),
                        'icalSequence', t.ical_sequence, 'icalStart', extract(epoch FROM t.ical_start), 'icalFinish', extract(epoch FROM t.ical_finish),
                        'clientAction', t.client_action, 'clientDoneAt', extract(epoch FROM t.client_done_at), 'clientComment', t.client_comment)
                        ORDER BY t.position, t.id), '[]')
                    FROM plan_tasks t WHERE t.agency_id = p.agency_id AND t.plan_id = p.id)::text,
                   (SELECT coalesce(json_agg(json_build_object(
                        'predecessorId', d.predecessor_id, 'successorId', d.successor_id, 'kind', d.kind, 'lagMinutes', d.lag_minutes)
                        ORDER BY d.predecessor_id, d.successor_id), '[]')
                    FROM plan_dependencies d WHERE d.agency_id = p.agency_id AND d.plan_id = p.id)::text,
                   (SELECT coalesce(json_object_agg(m.id, m.display_name), '{}') FROM members m
                    WHERE m.agency_id = p.agency_id
                      AND m.id IN (SELECT t.assignee_id FROM plan_tasks t WHERE t.agency_id = p.agency_id AND t.plan_id = p.id))::text,
                   ARRAY(SELECT w.id FROM webhooks w
                         WHERE w.agency_id = p.agency_id AND w.active AND 'plan.rescheduled' = ANY (w.events) ORDER BY w.id)
            FROM plans p JOIN clients c ON c.agency_id = p.agency_id AND c.id = p.client_id
            WHERE p.agency_id = \(agency.rawValue) AND p.id = \(id.rawValue)
            \(unescaped: lock ? "FOR UPDATE OF p" : "")
            """, logger: logger)
        for try await row in rows {
            let c = row.makeRandomAccess()
            let record = try Self.decodePlan(row)
            let client = PlanClient(
                id: ClientID(record.clientId), name: try c[9].decode(String.self), slug: try c[10].decode(String.self),
                timeZone: try c[11].decode(String.self))
            let calendar = try c[12].decode(String?.self).map { try JSONText.decode(WorkCalendar.self, $0) }
                ?? WorkCalendar.partTimeMornings(timeZone: client.timeZone)
            let tasks = try JSONText.decode([StoredTask].self, try c[13].decode(String.self)).map { try $0.task() }
            let links = try JSONText.decode([StoredLink].self, try c[14].decode(String.self)).map { try $0.link() }
            var names: [MemberID: String] = [:]
            for (key, name) in try JSONText.decode([String: String].self, try c[15].decode(String.self)) {
                if let uuid = UUID(uuidString: key) { names[MemberID(uuid)] = name }
            }
            return LoadedPlan(
                plan: OnboardingPlan(id: id, clientID: client.id, name: record.name, startsAt: record.startsAt, calendar: calendar,
                                     tasks: tasks, links: links),
                record: record, client: client, memberNames: names, rescheduledWebhooks: try c[16].decode([UUID].self))
        }
        throw StoreError.notFound("plan")
    }

    /// Writes what `delta` says changed in `plan`, the notices the change causes, and the plan's new version, in one
    /// statement. Returns the plan's row and the names of `assignees` (for the answer's timeline).
    public func write(
        _ delta: PlanDelta, of plan: OnboardingPlan, agency: AgencyID, notices: [PlanNotice], assignees: Set<MemberID>,
        bumpVersion: Bool = true, on connection: PostgresConnection
    ) async throws -> (PlanRecord, [MemberID: String]) {
        let written = plan.tasks.filter { delta.writtenTasks.contains($0.id) }.map(StoredTask.init)
        let added = delta.insertedLinks.map(StoredLink.init), removed = delta.deletedLinks.map(StoredLink.init)
        let (taskText, addedText, removedText) = (try JSONText.encode(written), try JSONText.encode(added), try JSONText.encode(removed))
        let noticeText = try JSONText.encode(notices)
        let deleted = delta.deletedTasks.map(\.rawValue), people = assignees.map(\.rawValue)
        let (a, p) = (agency.rawValue, plan.id.rawValue)
        let name: String? = delta.planFields ? plan.name : nil
        let startsAt: Date? = delta.planFields ? plan.startsAt : nil
        let rows = try await translatingConstraints(
            unique: ["plan_dependencies_pkey": "successorId"],
            foreignKeys: [
                "plan_tasks_agency_id_plan_id_parent_id_fkey": "parentId", "plan_tasks_agency_id_assignee_id_fkey": "assigneeId",
                "plan_dependencies_agency_id_plan_id_predecessor_id_fkey": "predecessorId",
                "plan_dependencies_agency_id_plan_id_successor_id_fkey": "successorId",
            ]
        ) {
            try await connection.query("""
                WITH removed_links AS (
                    DELETE FROM plan_dependencies d USING jsonb_to_recordset(\(removedText)::jsonb) AS x("predecessorId" uuid, "successorId" uuid)
                    WHERE d.agency_id = \(a) AND d.plan_id = \(p) AND d.predecessor_id = x."predecessorId" AND d.successor_id = x."successorId"
                ), removed_tasks AS (
                    DELETE FROM plan_tasks WHERE agency_id = \(a) AND plan_id = \(p) AND id = ANY (\(deleted)::uuid[])
                ), written_tasks AS (
                    INSERT INTO plan_tasks (agency_id, plan_id, id, position, parent_id, name, duration_minutes, role_key, assignee_id, checklist,
                                            constraint_kind, constraint_at, percent_complete, actual_start, actual_finish,
                                            ical_sequence, ical_start, ical_finish, client_action, client_done_at, client_comment)
                    SELECT \(a), \(p), x.id, x.position, x."parentId", x.name, x."durationMinutes", x."roleKey", x."assigneeId", x.checklist,
                           x."constraintKind"::constraint_kind, to_timestamp(x."constraintAt"), x."percentComplete",
                           to_timestamp(x."actualStart"), to_timestamp(x."actualFinish"),
                           x."icalSequence", to_timestamp(x."icalStart"), to_timestamp(x."icalFinish"),
                           x."clientAction", to_timestamp(x."clientDoneAt"), x."clientComment"
                    FROM jsonb_to_recordset(\(taskText)::jsonb) AS x(
                        id uuid, position int, "parentId" uuid, name text, "durationMinutes" int, "roleKey" text, "assigneeId" uuid,
                        checklist jsonb, "constraintKind" text, "constraintAt" float8, "percentComplete" int, "actualStart" float8,
                        "actualFinish" float8, "icalSequence" int, "icalStart" float8, "icalFinish" float8, "clientAction" bool,
                        "clientDoneAt" float8, "clientComment" text)
                    ON CONFLICT (agency_id, plan_id, id) DO UPDATE SET
                        position = excluded.position, parent_id = excluded.parent_id, name = excluded.name,
                        duration_minutes = excluded.duration_minutes, role_key = excluded.role_key, assignee_id = excluded.assignee_id,
                        checklist = excluded.checklist, constraint_kind = excluded.constraint_kind, constraint_at = excluded.constraint_at,
                        percent_complete = excluded.percent_complete, actual_start = excluded.actual_start,
                        actual_finish = excluded.actual_finish, ical_sequence = excluded.ical_sequence,
                        ical_start = excluded.ical_start, ical_finish = excluded.ical_finish,
                        client_action = excluded.client_action, client_done_at = excluded.client_done_at,
                        client_comment = excluded.client_comment
                ), added_links AS (
                    INSERT INTO plan_dependencies (agency_id, plan_id, predecessor_id, successor_id, kind, lag_minutes)
                    SELECT \(a), \(p), x."predecessorId", x."successorId", x.kind::dependency_kind, x."lagMinutes"
                    FROM jsonb_to_recordset(\(addedText)::jsonb) AS x("predecessorId" uuid, "successorId" uuid, kind text, "lagMinutes" int)
                ), notices AS (
                    INSERT INTO notifications (agency_id, id, member_id, kind, title, body, client_id, plan_id)
                    SELECT \(a), gen_random_uuid(), x."memberId", x.kind, x.title, x.body, \(plan.clientID.rawValue), \(p)
                    FROM jsonb_to_recordset(\(noticeText)::jsonb) AS x("memberId" uuid, kind text, title text, body text)
                )
                UPDATE plans SET version = version + \(bumpVersion ? 1 : 0), updated_at = CASE WHEN \(bumpVersion) THEN now() ELSE updated_at END,
                    name = coalesce(\(name), name), starts_at = coalesce(\(startsAt), starts_at),
                    archived_at = CASE WHEN \(delta.archived) AND archived_at IS NULL THEN now() ELSE archived_at END
                WHERE agency_id = \(a) AND id = \(p)
                RETURNING \(unescaped: Self.planColumns),
                    (SELECT coalesce(json_object_agg(m.id, m.display_name), '{}') FROM members m
                     WHERE m.agency_id = \(a) AND m.id = ANY (\(people)::uuid[]))::text
                """, logger: logger)
        }
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

/// A task row as the load and write statements carry it in JSON (dates as seconds since 1970).
struct StoredTask: Codable {
    var id: UUID
    var position: Int
    var parentId: UUID?
    var name: String
    var durationMinutes: Int
    var roleKey: String?
    var assigneeId: UUID?
    var checklist: [String]
    var constraintKind: String?
    var constraintAt: Double?
    var percentComplete: Int
    var actualStart: Double?
    var actualFinish: Double?
    var icalSequence: Int
    var icalStart: Double?
    var icalFinish: Double?
    var clientAction: Bool
    var clientDoneAt: Double?
    var clientComment: String?

    init(_ task: PlannedTask) {
        clientAction = task.clientAction
        clientDoneAt = task.clientDone?.at.timeIntervalSince1970
        clientComment = task.clientDone?.comment
        id = task.id.rawValue
        position = task.position
        parentId = task.parentID?.rawValue
        name = task.name
        durationMinutes = task.durationMinutes
        roleKey = task.roleKey
        assigneeId = task.assigneeID?.rawValue
        checklist = task.checklist
        constraintKind = task.constraint?.kind.rawValue
        constraintAt = task.constraint?.date.timeIntervalSince1970
        percentComplete = task.percentComplete
        actualStart = task.actualStart?.timeIntervalSince1970
        actualFinish = task.actualFinish?.timeIntervalSince1970
        icalSequence = task.published.sequence
        icalStart = task.published.start?.timeIntervalSince1970
        icalFinish = task.published.finish?.timeIntervalSince1970
    }

    func task() throws -> PlannedTask {
        var constraint: TaskConstraint?
        if let constraintKind, let constraintAt {
            constraint = TaskConstraint(
                kind: try stored(ConstraintKind.self, constraintKind, column: "plan_tasks.constraint_kind"),
                date: Date(timeIntervalSince1970: constraintAt))
        }
        return PlannedTask(
            id: TaskID(id), position: position, parentID: parentId.map(TaskID.init), name: name, durationMinutes: durationMinutes,
            roleKey: roleKey, assigneeID: assigneeId.map(MemberID.init), checklist: checklist, constraint: constraint,
            percentComplete: percentComplete, actualStart: actualStart.map(Date.init(timeIntervalSince1970:)),
            actualFinish: actualFinish.map(Date.init(timeIntervalSince1970:)),
            published: PublishedDates(sequence: icalSequence, start: icalStart.map(Date.init(timeIntervalSince1970:)),
                                      finish: icalFinish.map(Date.init(timeIntervalSince1970:))),
            clientAction: clientAction,
            clientDone: clientDoneAt.map { ClientDone(at: Date(timeIntervalSince1970: $0), comment: clientComment ?? "") })
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
