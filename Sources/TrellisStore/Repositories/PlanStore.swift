import Foundation
import PostgresNIO
import TrellisDomain

public struct PlanRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var clientId: UUID
    public var name: String
    public var templateName: String?
    public var startsAt: Date
    public var version: Int
    public var archivedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
}

public struct PlanTaskRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var position: Int
    public var parentId: UUID?
    public var name: String
    public var durationMinutes: Int
    public var roleKey: String?
    public var assigneeId: UUID?
    public var checklist: [String]
    public var constraint: TaskConstraint?
    public var percentComplete: Int
    public var actualStart: Date?
    public var actualFinish: Date?
    public var icalSequence: Int
    public var icalStart: Date?
    public var icalFinish: Date?

    public init(id: UUID, position: Int, parentId: UUID?, name: String, durationMinutes: Int, roleKey: String?, assigneeId: UUID?,
                checklist: [String], constraint: TaskConstraint?, percentComplete: Int, actualStart: Date?, actualFinish: Date?,
                icalSequence: Int, icalStart: Date?, icalFinish: Date?) {
        self.id = id
        self.position = position
        self.parentId = parentId
        self.name = name
        self.durationMinutes = durationMinutes
        self.roleKey = roleKey
        self.assigneeId = assigneeId
        self.checklist = checklist
        self.constraint = constraint
        self.percentComplete = percentComplete
        self.actualStart = actualStart
        self.actualFinish = actualFinish
        self.icalSequence = icalSequence
        self.icalStart = icalStart
        self.icalFinish = icalFinish
    }
}

public struct PlanDependencyRecord: Sendable, Codable, Hashable {
    public var predecessorId: UUID
    public var successorId: UUID
    public var kind: DependencyKind
    public var lagMinutes: Int

    public init(predecessorId: UUID, successorId: UUID, kind: DependencyKind, lagMinutes: Int) {
        self.predecessorId = predecessorId
        self.successorId = successorId
        self.kind = kind
        self.lagMinutes = lagMinutes
    }
}

public struct BaselineRecord: Sendable, Codable, Hashable {
    public var name: String
    public var createdAt: Date
    public var finish: Date
    public var tasks: [String: TaskBaseline]
}

/// Everything the engine and the exports need about one plan, read in one transaction.
public struct PlanDocument: Sendable {
    public var plan: PlanRecord
    public var client: ClientRecord
    public var calendar: WorkCalendar
    public var tasks: [PlanTaskRecord]
    public var dependencies: [PlanDependencyRecord]
    public var memberNames: [UUID: String]
    /// People assigned to the client, with their allocation as units (0.6 for 60 %).
    public var resources: [ExportResource]

    /// What the renderers need: the plan, its timeline, and the people-facing details.
    public func export(timeline: Timeline, baseline: BaselineRecord?, generatedAt: Date) -> TimelineExport {
        var details: [String: TaskExportDetails] = [:]
        for task in tasks {
            let id = task.id.lowercasedString
            details[id] = TaskExportDetails(
                assignee: task.assigneeId.flatMap { memberNames[$0] },
                resourceIDs: task.assigneeId.map { [$0.lowercasedString] } ?? [],
                role: task.roleKey,
                checklist: task.checklist.map { ChecklistItem($0) },
                baseline: baseline?.tasks[id],
                sequence: task.icalSequence)
        }
        return TimelineExport(
            planID: plan.id.lowercasedString, planName: plan.name, clientName: client.name,
            clientTimeZone: TimeZoneID(calendar.timeZoneID) ?? TimeZoneID("UTC")!,
            plan: schedulePlan, timeline: timeline, taskDetails: details, resources: resources, generatedAt: generatedAt)
    }

    /// The plan as the domain's aggregate (the scheduling it needs).
    public var onboardingPlan: OnboardingPlan {
        OnboardingPlan(
            id: PlanID(plan.id), clientID: ClientID(plan.clientId), name: plan.name, startsAt: plan.startsAt, calendar: calendar,
            tasks: tasks.map { task in
                PlannedTask(
                    id: TaskID(task.id), position: task.position, parentID: task.parentId.map(TaskID.init), name: task.name,
                    durationMinutes: task.durationMinutes, roleKey: task.roleKey, assigneeID: task.assigneeId.map(MemberID.init),
                    checklist: task.checklist, constraint: task.constraint, percentComplete: task.percentComplete,
                    actualStart: task.actualStart, actualFinish: task.actualFinish,
                    published: PublishedDates(sequence: task.icalSequence, start: task.icalStart, finish: task.icalFinish))
            },
            links: dependencies.map {
                PlanLink(predecessor: TaskID($0.predecessorId), successor: TaskID($0.successorId), kind: $0.kind, lagMinutes: $0.lagMinutes)
            })
    }

    /// The engine's input: ids as lowercase UUID strings.
    public var schedulePlan: SchedulePlan {
        SchedulePlan(
            start: plan.startsAt, calendar: calendar,
            tasks: tasks.map { task in
                PlanTask(
                    id: task.id.lowercasedString, name: task.name, durationMinutes: task.durationMinutes,
                    parentID: task.parentId?.lowercasedString, constraint: task.constraint,
                    percentComplete: task.percentComplete, actualStart: task.actualStart, actualFinish: task.actualFinish)
            },
            dependencies: dependencies.map {
                TaskDependency(predecessorID: $0.predecessorId.lowercasedString, successorID: $0.successorId.lowercasedString,
                               kind: $0.kind, lagMinutes: $0.lagMinutes)
            })
    }
}

/// Client calendars, templates, plans, their tasks, dependencies and baselines.
public struct PlanStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    // MARK: Calendars

    /// The client's calendar, or the part-time default (Mon–Fri 09:00–14:00) in its time zone.
    public func calendar(for client: ClientRecord, on connection: TenantConnection) async throws -> WorkCalendar {
        let rows = try await connection.query("""
            SELECT calendar::text FROM clients WHERE agency_id = \(connection.agencyID) AND id = \(client.id)
            """, logger: logger)
        for try await text in rows.decode(String?.self) {
            if let text { return try JSONText.decode(WorkCalendar.self, text) }
        }
        return try WorkCalendar.partTimeMornings(timeZone: client.timeZone)
    }

    public func setCalendar(client: UUID, _ calendar: WorkCalendar, on connection: TenantConnection) async throws {
        let text = try JSONText.encode(calendar)
        let rows = try await connection.query("""
            UPDATE clients SET calendar = \(text)::jsonb, version = version + 1, updated_at = now() WHERE agency_id = \(connection.agencyID)
              AND id = \(client) RETURNING id
            """, logger: logger)
        for try await _ in rows { return }
        throw StoreError.notFound("client")
    }

    // MARK: Templates

    public struct TemplateRecord: Sendable, Codable, Hashable {
        public var id: UUID
        public var builtIn: Bool
        public var template: OnboardingTemplate
        public var version: Int
    }

    /// The built-in template has a fixed id in every agency.
    public static let builtInTemplateID = UUID(uuidString: "00000000-0000-4000-8000-000000000001")!

    public static var builtInTemplate: TemplateRecord {
        TemplateRecord(id: builtInTemplateID, builtIn: true, template: .communityLeadSixMonths, version: 1)
    }

    public func templates(on connection: TenantConnection) async throws -> [TemplateRecord] {
        let rows = try await connection.query(
            "SELECT id, body::text, version::int8 FROM templates WHERE agency_id = \(connection.agencyID) AND archived_at IS NULL ORDER BY name, id", logger: logger)
        var records = [Self.builtInTemplate]
        for try await (id, body, version) in rows.decode((UUID, String, Int).self) {
            records.append(TemplateRecord(id: id, builtIn: false, template: try JSONText.decode(OnboardingTemplate.self, body), version: version))
        }
        return records
    }

    public func template(_ id: UUID, on connection: TenantConnection) async throws -> TemplateRecord {
        if id == Self.builtInTemplateID { return Self.builtInTemplate }
        let rows = try await connection.query("""
            SELECT id, body::text, version::int8 FROM templates WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger)
        for try await (id, body, version) in rows.decode((UUID, String, Int).self) {
            return TemplateRecord(id: id, builtIn: false, template: try JSONText.decode(OnboardingTemplate.self, body), version: version)
        }
        throw StoreError.notFound("template")
    }

    public func saveTemplate(id: UUID, _ template: OnboardingTemplate, expectedVersion: Int?, on connection: TenantConnection) async throws -> TemplateRecord {
        let body = try JSONText.encode(template)
        let existing = try await connection.query("""
            SELECT version::int8 FROM templates WHERE agency_id = \(connection.agencyID) AND id = \(id) FOR UPDATE
            """, logger: logger)
        var current: Int?
        for try await version in existing.decode(Int.self) { current = version }
        if let current {
            if let expectedVersion, expectedVersion != current { throw StoreError.versionConflict(expected: expectedVersion, actual: current) }
            try await connection.query("""
                UPDATE templates SET name = \(template.name), body = \(body)::jsonb, version = version + 1, updated_at = now() WHERE agency_id = \(connection.agencyID)
                  AND id = \(id)
                """, logger: logger)
        } else {
            try await connection.query("""
                INSERT INTO templates (agency_id, id, name, body) VALUES (\(connection.agencyID), \(id), \(template.name), \(body)::jsonb)
                """, logger: logger)
        }
        return try await self.template(id, on: connection)
    }

    public func archiveTemplate(_ id: UUID, on connection: TenantConnection) async throws {
        let rows = try await connection.query("""
            UPDATE templates SET archived_at = now() WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING id
            """, logger: logger)
        for try await _ in rows { return }
        throw StoreError.notFound("template")
    }

    // MARK: Plans

    static let planColumns = "id, client_id, name, template_name, starts_at, version::int8, archived_at, created_at, updated_at"

    /// A plan from a template instance: phases and tasks in template order, assignees already resolved.
    public func createPlan(
        id: UUID, client: UUID, name: String, templateName: String?, startsAt: Date,
        instance: TemplateInstance, assignees: [String: UUID], on connection: TenantConnection
    ) async throws -> PlanRecord {
        let plan = try await translatingConstraints(foreignKeys: ["plans_agency_id_client_id_fkey": "clientId"]) {
            try await Self.onePlan(try await connection.query("""
                INSERT INTO plans (agency_id, id, client_id, name, template_name, starts_at)
                VALUES (\(connection.agencyID), \(id), \(client), \(name), \(templateName), \(startsAt))
                RETURNING \(unescaped: Self.planColumns)
                """, logger: logger))
        }
        for (position, task) in instance.tasks.enumerated() {
            guard let taskID = UUID(uuidString: task.planTask.id) else { throw StoreError.invalid(field: "tasks", message: "bad task id") }
            let parent = task.planTask.parentID.flatMap(UUID.init(uuidString:))
            try await insertTask(plan: id, PlanTaskRecord(
                id: taskID, position: position, parentId: parent, name: task.planTask.name,
                durationMinutes: task.planTask.durationMinutes, roleKey: task.roleKey, assigneeId: task.roleKey.flatMap { assignees[$0] },
                checklist: task.checklist, constraint: nil, percentComplete: 0, actualStart: nil, actualFinish: nil,
                icalSequence: 0, icalStart: nil, icalFinish: nil), on: connection)
        }
        for link in instance.dependencies {
            guard let p = UUID(uuidString: link.predecessorID), let s = UUID(uuidString: link.successorID) else { continue }
            try await insertDependency(plan: id, PlanDependencyRecord(predecessorId: p, successorId: s, kind: link.kind, lagMinutes: link.lagMinutes), on: connection)
        }
        return plan
    }

    /// Instantiates a template for a client from `startsOn` on the client's calendar; each task's
    /// assignee is whoever holds its responsible role for that client on the start date.
    public func createFromTemplate(
        id: UUID = UUID(), client clientID: UUID, templateID: UUID, startsOn: LocalDate, name: String?,
        on connection: TenantConnection
    ) async throws -> UUID {
        let client: ClientRecord
        do { client = try await ClientStore(logger: logger).get(clientID, on: connection) } catch StoreError.notFound {
            throw StoreError.missingReference(field: "clientId")
        }
        let template: TemplateRecord
        do { template = try await self.template(templateID, on: connection) } catch StoreError.notFound {
            throw StoreError.missingReference(field: "templateId")
        }
        let calendar = try await self.calendar(for: client, on: connection)
        guard let start = calendar.firstWorkingMinute(on: startsOn) else {
            throw StoreError.invalid(field: "startsOn", message: "the calendar has no working time on or after this date")
        }
        let instantiated: Result<TemplateInstance, TemplateValidationError> = Result { () throws(TemplateValidationError) -> TemplateInstance in
            try template.template.instantiate(calendar: calendar, planID: id.lowercasedString)
        }
        let instance: TemplateInstance
        switch instantiated {
        case .success(let value): instance = value
        case .failure(let error): throw ValidationError(error.issues.map { FieldError("template." + $0.field, $0.message) })
        }
        let assignments = AssignmentStore(logger: logger)
        var holders: [String: UUID] = [:]
        for roleKey in Set(instance.tasks.compactMap(\.roleKey)) {
            holders[roleKey] = try await assignments.holder(roleKey: roleKey, client: clientID, on: startsOn, connection: connection)
        }
        _ = try await createPlan(
            id: id, client: clientID, name: name ?? "\(template.template.name) — \(client.name)",
            templateName: template.template.name, startsAt: start, instance: instance, assignees: holders, on: connection)
        return id
    }

    public func plans(client: UUID?, on connection: TenantConnection) async throws -> [PlanRecord] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.planColumns) FROM plans
            WHERE agency_id = \(connection.agencyID) AND archived_at IS NULL
              AND (\(client)::uuid IS NULL OR client_id = \(client)) ORDER BY created_at, id
            """, logger: logger)
        var plans: [PlanRecord] = []
        for try await row in rows { plans.append(try Self.decodePlan(row)) }
        return plans
    }

    public func plan(_ id: UUID, on connection: TenantConnection) async throws -> PlanRecord {
        try await Self.onePlan(try await connection.query("""
            SELECT \(unescaped: Self.planColumns) FROM plans WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger))
    }

    /// The plan with its client, calendar, tasks, links and the names of assigned people.
    public func document(_ id: UUID, on connection: TenantConnection) async throws -> PlanDocument {
        let plan = try await self.plan(id, on: connection)
        let client = try await ClientStore(logger: logger).get(plan.clientId, on: connection)
        let calendar = try await self.calendar(for: client, on: connection)
        var tasks: [PlanTaskRecord] = []
        let taskRows = try await connection.query("""
            SELECT \(unescaped: Self.taskColumns) FROM plan_tasks WHERE agency_id = \(connection.agencyID)
              AND plan_id = \(id) ORDER BY position, id
            """, logger: logger)
        for try await row in taskRows { tasks.append(try Self.decodeTask(row)) }
        var dependencies: [PlanDependencyRecord] = []
        let linkRows = try await connection.query("""
            SELECT predecessor_id, successor_id, kind::text, lag_minutes FROM plan_dependencies WHERE agency_id = \(connection.agencyID)
              AND plan_id = \(id)
            ORDER BY predecessor_id, successor_id
            """, logger: logger)
        for try await (p, s, kind, lag) in linkRows.decode((UUID, UUID, String, Int).self) {
            dependencies.append(PlanDependencyRecord(predecessorId: p, successorId: s, kind: try stored(DependencyKind.self, kind, column: "plan_dependencies.kind"), lagMinutes: lag))
        }
        var names: [UUID: String] = [:]
        let memberRows = try await connection.query("""
            SELECT DISTINCT m.id, m.display_name FROM members m JOIN plan_tasks t ON t.agency_id = \(connection.agencyID)
              AND t.assignee_id = m.id
            WHERE m.agency_id = \(connection.agencyID) AND t.plan_id = \(id)
            """, logger: logger)
        for try await (member, name) in memberRows.decode((UUID, String).self) { names[member] = name }
        var resources: [ExportResource] = []
        let resourceRows = try await connection.query("""
            SELECT m.id, m.display_name, m.email,
                   sum(CASE a.allocation_unit WHEN 'percent' THEN a.allocation_value / 100
                            ELSE a.allocation_value / nullif(m.weekly_capacity_hours, 0) END)::float8
            FROM assignments a JOIN members m ON m.agency_id = \(connection.agencyID) AND m.id = a.member_id
            WHERE a.agency_id = \(connection.agencyID) AND a.client_id = \(plan.clientId) AND a.commitment = 'hard'
            GROUP BY m.id, m.display_name, m.email ORDER BY m.display_name, m.id
            """, logger: logger)
        for try await (member, name, email, units) in resourceRows.decode((UUID, String, String, Double?).self) {
            names[member] = names[member] ?? name
            resources.append(ExportResource(id: member.lowercasedString, name: name, email: email, units: units ?? 1))
        }
        for (member, name) in names where !resources.contains(where: { $0.id == member.lowercasedString }) {
            resources.append(ExportResource(id: member.lowercasedString, name: name, units: 1))
        }
        return PlanDocument(plan: plan, client: client, calendar: calendar, tasks: tasks, dependencies: dependencies,
                            memberNames: names, resources: resources)
    }

    /// Plans with a task assigned to `member`.
    public func planIDs(assignee member: UUID, on connection: TenantConnection) async throws -> [UUID] {
        let rows = try await connection.query("""
            SELECT DISTINCT t.plan_id FROM plan_tasks t JOIN plans p ON p.agency_id = \(connection.agencyID) AND p.id = t.plan_id
            WHERE t.agency_id = \(connection.agencyID) AND t.assignee_id = \(member) AND p.archived_at IS NULL ORDER BY 1
            """, logger: logger)
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        return ids
    }

    // MARK: Tasks and dependencies

    static let taskColumns = """
        id, position, parent_id, name, duration_minutes, role_key, assignee_id, checklist::text, constraint_kind::text, constraint_at,
        percent_complete::int8, actual_start, actual_finish, ical_sequence::int8, ical_start, ical_finish
        """

    public func insertTask(plan: UUID, _ task: PlanTaskRecord, on connection: TenantConnection) async throws {
        let checklist = try JSONText.encode(task.checklist)
        try await translatingConstraints(foreignKeys: [
            "plan_tasks_agency_id_plan_id_parent_id_fkey": "parentId", "plan_tasks_agency_id_assignee_id_fkey": "assigneeId",
        ]) {
            try await connection.query("""
                INSERT INTO plan_tasks (agency_id, plan_id, id, position, parent_id, name, duration_minutes, role_key, assignee_id, checklist,
                                        constraint_kind, constraint_at, percent_complete, actual_start, actual_finish)
                VALUES (\(connection.agencyID), \(plan), \(task.id), \(task.position), \(task.parentId), \(task.name), \(task.durationMinutes),
                        \(task.roleKey), \(task.assigneeId), \(checklist)::jsonb, \(task.constraint?.kind.rawValue)::constraint_kind,
                        \(task.constraint?.date), \(task.percentComplete), \(task.actualStart), \(task.actualFinish))
                """, logger: logger)
        }
    }

    public func insertDependency(plan: UUID, _ link: PlanDependencyRecord, on connection: TenantConnection) async throws {
        try await translatingConstraints(
            unique: ["plan_dependencies_pkey": "successorId"],
            foreignKeys: [
                "plan_dependencies_agency_id_plan_id_predecessor_id_fkey": "predecessorId",
                "plan_dependencies_agency_id_plan_id_successor_id_fkey": "successorId",
            ]
        ) {
            try await connection.query("""
                INSERT INTO plan_dependencies (agency_id, plan_id, predecessor_id, successor_id, kind, lag_minutes)
                VALUES (\(connection.agencyID), \(plan), \(link.predecessorId), \(link.successorId), \(link.kind.rawValue)::dependency_kind, \(link.lagMinutes))
                """, logger: logger)
        }
    }

    // MARK: Baselines

    public func saveBaseline(plan: UUID, name: String, _ timeline: Timeline, on connection: TenantConnection) async throws -> BaselineRecord {
        var tasks: [String: TaskBaseline] = [:]
        for task in timeline.tasks {
            tasks[task.id] = TaskBaseline(start: task.earlyStart, finish: task.earlyFinish, durationMinutes: task.durationMinutes)
        }
        let body = try JSONText.encode(tasks)
        return try await translatingConstraints(unique: ["plan_baselines_pkey": "name"]) {
            let rows = try await connection.query("""
                INSERT INTO plan_baselines (agency_id, plan_id, name, tasks, finish)
                VALUES (\(connection.agencyID), \(plan), \(name), \(body)::jsonb, \(timeline.finish)) RETURNING created_at
                """, logger: logger)
            for try await createdAt in rows.decode(Date.self) {
                return BaselineRecord(name: name, createdAt: createdAt, finish: timeline.finish, tasks: tasks)
            }
            throw StoreError.notFound("plan")
        }
    }

    public func baselines(plan: UUID, on connection: TenantConnection) async throws -> [BaselineRecord] {
        let rows = try await connection.query("""
            SELECT name, created_at, finish, tasks::text FROM plan_baselines WHERE agency_id = \(connection.agencyID)
              AND plan_id = \(plan) ORDER BY created_at, name
            """, logger: logger)
        var records: [BaselineRecord] = []
        for try await (name, createdAt, finish, tasks) in rows.decode((String, Date, Date, String).self) {
            records.append(BaselineRecord(name: name, createdAt: createdAt, finish: finish, tasks: try JSONText.decode([String: TaskBaseline].self, tasks)))
        }
        return records
    }

    static func onePlan(_ rows: PostgresRowSequence) async throws -> PlanRecord {
        for try await row in rows { return try decodePlan(row) }
        throw StoreError.notFound("plan")
    }

    static func decodePlan(_ row: PostgresRow) throws -> PlanRecord {
        let (id, client, name, template, startsAt, version, archivedAt, createdAt, updatedAt) =
            try row.decode((UUID, UUID, String, String?, Date, Int, Date?, Date, Date).self)
        return PlanRecord(id: id, clientId: client, name: name, templateName: template, startsAt: startsAt, version: version,
                          archivedAt: archivedAt, createdAt: createdAt, updatedAt: updatedAt)
    }

    static func decodeTask(_ row: PostgresRow) throws -> PlanTaskRecord {
        let c = row.makeRandomAccess()
        let constraintKind = try c[8].decode(String?.self).flatMap(ConstraintKind.init(rawValue:))
        let constraintAt = try c[9].decode(Date?.self)
        return PlanTaskRecord(
            id: try c[0].decode(UUID.self), position: try c[1].decode(Int.self), parentId: try c[2].decode(UUID?.self),
            name: try c[3].decode(String.self), durationMinutes: try c[4].decode(Int.self), roleKey: try c[5].decode(String?.self),
            assigneeId: try c[6].decode(UUID?.self), checklist: try JSONText.decode([String].self, try c[7].decode(String.self)),
            constraint: constraintKind.flatMap { kind in constraintAt.map { TaskConstraint(kind: kind, date: $0) } },
            percentComplete: try c[10].decode(Int.self), actualStart: try c[11].decode(Date?.self), actualFinish: try c[12].decode(Date?.self),
            icalSequence: try c[13].decode(Int.self), icalStart: try c[14].decode(Date?.self), icalFinish: try c[15].decode(Date?.self))
    }
}

extension PlanStore {
    /// Task count without loading the plan: decides whether an export is answered directly.
    public func taskCount(plan id: UUID, on connection: TenantConnection) async throws -> Int {
        let rows = try await connection.query("""
            SELECT count(*) FROM plan_tasks WHERE agency_id = \(connection.agencyID) AND plan_id = \(id)
            """, logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }
}
