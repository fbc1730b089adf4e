import Foundation
import Hummingbird
import PostgresNIO
import TrellisDomain
import TrellisJobs
import TrellisQueue
import TrellisStore

/// Templates, client calendars, onboarding plans and their timelines.
/// Every plan edit names the version it was based on (`If-Match`), runs in one transaction, and is
/// scheduled before it commits: an edit that would make a cycle is refused with the cycle's tasks.
struct PlanRoutes {
    let database: TenantDatabase
    let store: PlanStore
    let clients: ClientStore
    var maxTasksPerPlan = 5_000
    /// Plans start in this century: the working calendars are computed over a bounded span of years, and a
    /// plan dated in year 2 is a typo, not an engagement.
    static let planStartRange = LocalDate(year: 2000, month: 1, day: 1)!...LocalDate(year: 2099, month: 12, day: 31)!

    static func checkPlanStart(_ date: LocalDate?, _ reader: inout FieldReader) {
        if let date, !planStartRange.contains(date) { reader.errors.add("startsOn", "must be a date from 2000-01-01 to 2099-12-31") }
    }

    /// Durations and lags in minutes of working time: a million is years of any calendar, and fits the columns.
    static let maxMinutes = 1_000_000

    func register(on router: Router<AppRequestContext>) {
        router.get("/v1/templates", use: listTemplates)
        router.post("/v1/templates", use: createTemplate)
        router.get("/v1/templates/{templateId}", use: readTemplate)
        router.put("/v1/templates/{templateId}", use: replaceTemplate)
        router.post("/v1/templates/{templateId}/archive", use: archiveTemplate)
        router.get("/v1/clients/{clientId}/calendar", use: readCalendar)
        router.put("/v1/clients/{clientId}/calendar", use: replaceCalendar)
        router.get("/v1/plans", use: listPlans)
        router.post("/v1/plans", use: createPlan)
        router.get("/v1/plans/{planId}", use: readPlan)
        router.patch("/v1/plans/{planId}", use: updatePlan)
        router.post("/v1/plans/{planId}/archive", use: archivePlan)
        router.post("/v1/plans/{planId}/tasks", use: addTask)
        router.patch("/v1/plans/{planId}/tasks/{taskId}", use: updateTask)
        router.delete("/v1/plans/{planId}/tasks/{taskId}", use: deleteTask)
        router.post("/v1/plans/{planId}/dependencies", use: addDependency)
        router.delete("/v1/plans/{planId}/dependencies/{predecessorId}/{successorId}", use: deleteDependency)
        router.get("/v1/plans/{planId}/timeline", use: timeline)
        router.get("/v1/plans/{planId}/baselines", use: listBaselines)
        router.post("/v1/plans/{planId}/baselines", use: saveBaseline)
        router.get("/v1/members/{memberId}/timeline", use: personTimeline)
    }

    // MARK: Templates

    struct TemplateView: Codable, Sendable {
        var id: UUID
        var builtIn: Bool
        var version: Int
        var template: OnboardingTemplate
        init(_ record: PlanStore.TemplateRecord) {
            id = record.id
            builtIn = record.builtIn
            version = record.version
            template = record.template
        }
    }

    @Sendable func listTemplates(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<TemplateView>> {
        let principal = try context.require(.readPlans)
        let window = try ListWindow(request)
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { try await store.templates(on: $0) }.map(TemplateView.init)))
    }

    @Sendable func readTemplate(_ request: Request, context: AppRequestContext) async throws -> Versioned<TemplateView> {
        let principal = try context.require(.readPlans)
        let id = try context.uuidParameter("templateId")
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) { try await store.template(id, on: $0) }
        return Versioned(body: TemplateView(record), version: record.version)
    }

    @Sendable func createTemplate(_ request: Request, context: AppRequestContext) async throws -> Versioned<TemplateView> {
        let principal = try context.require(.manageTemplates)
        let template = try await Self.template(from: request, context: context)
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) {
            try await store.saveTemplate(id: UUID(), agency: principal.agencyID, template, expectedVersion: nil, on: $0)
        }
        return .created(TemplateView(record), version: record.version, at: "/v1/templates/\(record.id.lowercasedString)")
    }

    @Sendable func replaceTemplate(_ request: Request, context: AppRequestContext) async throws -> Versioned<TemplateView> {
        let principal = try context.require(.manageTemplates)
        let id = try context.uuidParameter("templateId")
        let expected = try request.ifMatchVersion()
        let template = try await Self.template(from: request, context: context)
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) { connection in
            let current = try await store.template(id, on: connection)
            if current.builtIn { throw Problem(.forbidden, detail: "the built-in template cannot be changed; copy it instead") }
            return try await store.saveTemplate(id: id, agency: principal.agencyID, template, expectedVersion: expected, on: connection)
        }
        return Versioned(body: TemplateView(record), version: record.version)
    }

    @Sendable func archiveTemplate(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.require(.manageTemplates)
        let id = try context.uuidParameter("templateId")
        let store = self.store
        try await database.withTenant(principal.agencyID) { connection in
            if id == PlanStore.builtInTemplateID { throw Problem(.forbidden, detail: "the built-in template cannot be archived") }
            try await store.archiveTemplate(id, on: connection)
        }
        return .noContent
    }

    /// A template is a nested document: decoded as a whole, then validated so every issue is named.
    static func template(from request: Request, context: AppRequestContext) async throws -> OnboardingTemplate {
        let data = try await request.body.collect(upTo: context.maxUploadSize)
        let template = try decodeDocument(OnboardingTemplate.self, Data(buffer: data))
        let issues = template.validate()
        if !issues.isEmpty { throw Problem.validation(issues.map { FieldError($0.field, $0.message) }) }
        return template
    }

    // MARK: Calendars

    @Sendable func readCalendar(_ request: Request, context: AppRequestContext) async throws -> JSONBody<WorkCalendar> {
        let principal = try context.require(.readPlans)
        let id = try context.uuidParameter("clientId")
        guard TenantPolicy.canSee(client: ClientID(id), as: principal) else { throw Problem.notFound("client") }
        let store = self.store, clients = self.clients
        return JSONBody(try await database.withTenant(principal.agencyID) { connection in
            try await store.calendar(for: try await clients.get(id, on: connection), on: connection)
        })
    }

    @Sendable func replaceCalendar(_ request: Request, context: AppRequestContext) async throws -> JSONBody<WorkCalendar> {
        let principal = try context.require(.writeClients)
        let id = try context.uuidParameter("clientId")
        let data = try await request.body.collect(upTo: context.maxUploadSize)
        let calendar = try decodeDocument(WorkCalendar.self, Data(buffer: data))
        let store = self.store, clients = self.clients, database = self.database
        try await database.withTenant(principal.agencyID) { connection in
            _ = try await clients.get(id, on: connection)
            try await store.setCalendar(client: id, calendar, on: connection)
            // Every plan of the client is rescheduled by a job committed with the change.
            try await Self.enqueueRecompute(agency: principal.agencyID, client: id, database: database, on: connection)
        }
        return JSONBody(calendar)
    }

    // MARK: Plans

    struct PlanView: Codable, Sendable {
        var plan: PlanRecord
        var tasks: [PlanTaskRecord]
        var dependencies: [PlanDependencyRecord]
    }

    @Sendable func listPlans(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<PlanRecord>> {
        let principal = try context.require(.readPlans)
        let window = try ListWindow(request)
        var client = request.query("clientId").flatMap(UUID.init(uuidString:))
        if request.query("clientId") != nil && client == nil { throw Problem.validation([FieldError("clientId", "must be a UUID")]) }
        if principal.role == .clientViewer { client = principal.clientID?.rawValue }
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { [client] in try await store.plans(client: client, on: $0) }))
    }

    /// `{clientId, templateId, startsOn, name?}`: instantiates the template on the client's calendar,
    /// the first working minute on or after `startsOn`, with assignees from the hybrid-role assignments.
    @Sendable func createPlan(_ request: Request, context: AppRequestContext) async throws -> Versioned<PlanView> {
        let principal = try context.require(.writePlans)
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["clientId", "templateId", "startsOn", "name"])
        let clientID = reader.uuid("clientId", required: true)
        let templateID = reader.uuid("templateId") ?? PlanStore.builtInTemplateID
        let startsOn = reader.date("startsOn", required: true)
        Self.checkPlanStart(startsOn, &reader)
        let name = reader.string("name", maxLength: 200)
        try reader.check()
        guard let clientID, let startsOn else { throw Problem(.malformedRequest) }
        let store = self.store
        let view = try await database.withTenant(principal.agencyID) { connection in
            let planID = try await store.createFromTemplate(
                agency: principal.agencyID, client: clientID, templateID: templateID, startsOn: startsOn, name: name, on: connection)
            return try await Self.scheduleAndRecord(planID, store: store, on: connection).view
        }
        return .created(view, version: view.plan.version, at: "/v1/plans/\(view.plan.id.lowercasedString)")
    }

    @Sendable func readPlan(_ request: Request, context: AppRequestContext) async throws -> Versioned<PlanView> {
        let principal = try context.require(.readPlans)
        let id = try context.uuidParameter("planId")
        let store = self.store
        let document = try await database.withTenant(principal.agencyID) { try await store.document(id, on: $0) }
        try Self.checkVisible(document.plan, to: principal)
        return Versioned(body: PlanView(plan: document.plan, tasks: document.tasks, dependencies: document.dependencies), version: document.plan.version)
    }

    @Sendable func updatePlan(_ request: Request, context: AppRequestContext) async throws -> Versioned<PlanView> {
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["name", "startsOn"])
        let name = reader.string("name", maxLength: 200)
        let startsOn = reader.date("startsOn")
        Self.checkPlanStart(startsOn, &reader)
        if let name, name.trimmingCharacters(in: .whitespaces).isEmpty { reader.errors.add("name", "must not be empty") }
        try reader.check()
        return try await edit(request, context) { planID, store, principal, connection in
            var start: Date?
            if let startsOn {
                let document = try await store.document(planID, on: connection)
                guard let first = document.calendar.firstWorkingMinute(on: startsOn) else {
                    throw Problem.validation([FieldError("startsOn", "the calendar has no working time on or after this date")])
                }
                start = first
            }
            try await store.updatePlan(planID, name: name, startsAt: start, on: connection)
        }
    }

    @Sendable func archivePlan(_ request: Request, context: AppRequestContext) async throws -> Versioned<PlanView> {
        try await edit(request, context) { planID, store, principal, connection in try await store.archivePlan(planID, on: connection) }
    }

    static let taskFields: Set<String> = [
        "name", "parentId", "position", "durationMinutes", "durationHours", "durationDays", "roleKey", "assigneeId", "checklist",
        "constraint", "percentComplete", "actualStart", "actualFinish",
    ]

    @Sendable func addTask(_ request: Request, context: AppRequestContext) async throws -> Versioned<PlanView> {
        let object = try await request.jsonObject(context: context)
        let maxTasks = self.maxTasksPerPlan
        let taskID = UUID()
        var created = try await edit(request, context) { planID, store, principal, connection in
            let document = try await store.document(planID, on: connection)
            // A plan stays a size the engine, the timeline and the feeds answer in time.
            if document.tasks.count >= maxTasks {
                throw Problem.validation([FieldError("tasks", "a plan holds at most \(maxTasks) tasks")])
            }
            let base = PlanTaskRecord(
                id: taskID, position: (document.tasks.map(\.position).max() ?? -1) + 1, parentId: nil, name: "", durationMinutes: 0,
                roleKey: nil, assigneeId: nil, checklist: [], constraint: nil, percentComplete: 0, actualStart: nil, actualFinish: nil,
                icalSequence: 0, icalStart: nil, icalFinish: nil)
            let task = try Self.task(from: object, base: base, isNew: true, calendar: document.calendar)
            try await store.insertTask(agency: principal.agencyID, plan: planID, task, on: connection)
        }
        // 201: Location names the new task; the body is the plan with it (and its new ETag, for the next edit).
        created.status = .created
        created.extraHeaders[.location] = "/v1/plans/\(created.body.plan.id.lowercasedString)/tasks/\(taskID.lowercasedString)"
        return created
    }

    @Sendable func updateTask(_ request: Request, context: AppRequestContext) async throws -> Versioned<PlanView> {
        let object = try await request.jsonObject(context: context)
        let taskID = try context.uuidParameter("taskId")
        return try await edit(request, context) { planID, store, principal, connection in
            let document = try await store.document(planID, on: connection)
            guard let current = document.tasks.first(where: { $0.id == taskID }) else { throw Problem.notFound("task") }
            let task = try Self.task(from: object, base: current, isNew: false, calendar: document.calendar)
            try await store.updateTask(plan: planID, task, on: connection)
        }
    }

    @Sendable func deleteTask(_ request: Request, context: AppRequestContext) async throws -> Versioned<PlanView> {
        let taskID = try context.uuidParameter("taskId")
        return try await edit(request, context) { planID, store, principal, connection in
            try await store.deleteTask(plan: planID, task: taskID, on: connection)
        }
    }

    @Sendable func addDependency(_ request: Request, context: AppRequestContext) async throws -> Versioned<PlanView> {
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["predecessorId", "successorId", "kind", "lagMinutes", "lagHours", "lagDays"])
        let predecessor = reader.uuid("predecessorId", required: true)
        let successor = reader.uuid("successorId", required: true)
        let kind = reader.oneOf("kind", DependencyKind.self) ?? .finishToStart
        let lagMinutes = reader.int("lagMinutes"), lagHours = reader.double("lagHours"), lagDays = reader.double("lagDays")
        if let lagMinutes, abs(lagMinutes) > Self.maxMinutes { reader.errors.add("lagMinutes", "must be within ±\(Self.maxMinutes)") }
        if let lagHours, abs(lagHours) > Double(Self.maxMinutes / 60) { reader.errors.add("lagHours", "must be within ±\(Self.maxMinutes / 60)") }
        if let lagDays, abs(lagDays) > Double(Self.maxMinutes) { reader.errors.add("lagDays", "must be within ±\(Self.maxMinutes) minutes of working time") }
        if [lagMinutes != nil, lagHours != nil, lagDays != nil].filter({ $0 }).count > 1 {
            reader.errors.add("lagMinutes", "give the lag in one unit only")
        }
        if let predecessor, predecessor == successor { reader.errors.add("successorId", "a task cannot depend on itself") }
        try reader.check()
        guard let predecessor, let successor else { throw Problem(.malformedRequest) }
        return try await edit(request, context) { planID, store, principal, connection in
            let document = try await store.document(planID, on: connection)
            let lag = lagMinutes ?? lagHours.map { Int(($0 * 60).rounded()) } ?? lagDays.map { Int(($0 * Double(document.calendar.minutesPerDay)).rounded()) } ?? 0
            if abs(lag) > Self.maxMinutes { throw Problem.validation([FieldError("lagDays", "must be within ±\(Self.maxMinutes) minutes of working time")]) }
            try await store.insertDependency(
                agency: principal.agencyID, plan: planID,
                PlanDependencyRecord(predecessorId: predecessor, successorId: successor, kind: kind, lagMinutes: lag), on: connection)
        }
    }

    @Sendable func deleteDependency(_ request: Request, context: AppRequestContext) async throws -> Versioned<PlanView> {
        let predecessor = try context.uuidParameter("predecessorId")
        let successor = try context.uuidParameter("successorId")
        return try await edit(request, context) { planID, store, principal, connection in
            try await store.deleteDependency(plan: planID, predecessor: predecessor, successor: successor, on: connection)
        }
    }

    /// The shape of every plan edit: If-Match required, lock, change, schedule (refusing a cycle), bump.
    func edit(
        _ request: Request, _ context: AppRequestContext,
        _ change: @escaping @Sendable (UUID, PlanStore, Principal, PostgresConnection) async throws -> Void
    ) async throws -> Versioned<PlanView> {
        let principal = try context.require(.writePlans)
        let planID = try context.uuidParameter("planId")
        guard request.hasIfMatch else {
            throw Problem(.preconditionRequired, detail: "send If-Match with the plan's ETag, so an edit never overwrites one you have not seen")
        }
        // `If-Match: *` is an explicit "whatever is current".
        let expected = try request.ifMatchVersion()
        let store = self.store
        let queue = JobQueue(client: database.client, logger: database.logger)
        let view = try await database.withTenant(principal.agencyID) { connection in
            let plan = try await store.plan(planID, on: connection)
            try Self.checkVisible(plan, to: principal)
            try await store.lockForEdit(planID, expectedVersion: expected, on: connection)
            try await change(planID, store, principal, connection)
            _ = try await store.bumpVersion(planID, on: connection)
            let (view, document, timeline) = try await Self.scheduleAndRecord(planID, store: store, on: connection)
            // The same notices and webhook events as a calendar change that moves the same tasks.
            try await PlanMoves.announce(
                document: document, timeline: timeline, because: "\(document.plan.name) was edited", agency: principal.agencyID,
                queue: queue, logger: store.logger, on: connection)
            return view
        }
        return Versioned(body: view, version: view.plan.version)
    }

    /// Schedules the plan as it now stands; a scheduling error rolls the whole edit back.
    static func scheduleAndRecord(_ planID: UUID, store: PlanStore, on connection: PostgresConnection) async throws -> (view: PlanView, document: PlanDocument, timeline: Timeline) {
        let (document, timeline) = try await store.scheduleAndRecord(planID, on: connection)
        return (PlanView(plan: document.plan, tasks: document.tasks, dependencies: document.dependencies), document, timeline)
    }

    static func problem(_ error: SchedulingError, names: [String: String]) -> Problem {
        func named(_ ids: [String]) -> String { ids.map { "\(names[$0] ?? $0) (\($0))" }.joined(separator: " → ") }
        switch error {
        case .cycle(let ids):
            return Problem.validation([FieldError("dependencies", "these links form a cycle: \(named(ids + ids.prefix(1)))")])
        case .unknownTaskIDs(let ids): return .validation([FieldError("dependencies", "unknown tasks \(ids.joined(separator: ", "))")])
        case .selfDependency(let ids): return .validation([FieldError("dependencies", "\(named(ids)) depends on itself")])
        case .duplicateTaskID(let id): return .validation([FieldError("tasks", "duplicate task \(id)")])
        case .unknownParent(let task, let parent): return .validation([FieldError("parentId", "\(named([task])) has an unknown parent \(parent)")])
        case .parentCycle(let ids): return .validation([FieldError("parentId", "the parent chain loops: \(named(ids))")])
        case .negativeDuration(let id): return .validation([FieldError("durationMinutes", "\(named([id])) has a negative duration")])
        case .invalidPercentComplete(let id): return .validation([FieldError("percentComplete", "\(named([id])) must be 0–100")])
        case .actualFinishBeforeActualStart(let id): return .validation([FieldError("actualFinish", "\(named([id])) finishes before it starts")])
        case .unsupportedSummaryLink(let p, let s):
            return .validation([FieldError("dependencies", "a phase cannot take this link: \(named([p])) → \(named([s]))")])
        case .beyondHorizon(let id): return .validation([FieldError("tasks", "the schedule runs past the calendar's horizon\(id.map { " at \(named([$0]))" } ?? "")")])
        }
    }

    static func checkVisible(_ plan: PlanRecord, to principal: Principal) throws {
        guard TenantPolicy.canSee(client: ClientID(plan.clientId), as: principal) else { throw Problem.notFound("plan") }
    }

    /// Reads a task's fields over `base`; durations in minutes, hours or calendar days (a day is the calendar's own day).
    static func task(from object: [String: JSONValue], base: PlanTaskRecord, isNew: Bool, calendar: WorkCalendar) throws -> PlanTaskRecord {
        var reader = FieldReader(object, allowed: taskFields)
        var task = base
        if let name = reader.string("name", required: isNew, maxLength: 300) {
            if name.trimmingCharacters(in: .whitespaces).isEmpty { reader.errors.add("name", "must not be empty") }
            task.name = name
        }
        if reader.has("parentId") { task.parentId = reader.uuid("parentId") }
        if let position = reader.int("position") {
            if (0...Self.maxMinutes).contains(position) { task.position = position } else { reader.errors.add("position", "must be from 0 to \(Self.maxMinutes)") }
        }
        let minutes = reader.int("durationMinutes"), hours = reader.double("durationHours"), days = reader.double("durationDays")
        switch (minutes, hours, days) {
        case (let m?, nil, nil): task.durationMinutes = m
        case (nil, let h?, nil):
            if h < 0 || h > Double(Self.maxMinutes / 60) { reader.errors.add("durationHours", "must be from 0 to \(Self.maxMinutes / 60)") } else {
                task.durationMinutes = Int((h * 60).rounded())
            }
        case (nil, nil, let d?):
            let minutes = d * Double(calendar.minutesPerDay)
            if minutes < 0 || minutes > Double(Self.maxMinutes) { reader.errors.add("durationDays", "must be from 0 to \(Self.maxMinutes) minutes of working time") } else {
                task.durationMinutes = Int(minutes.rounded())
            }
        case (nil, nil, nil): if isNew { reader.errors.add("durationMinutes", "is required (or durationHours / durationDays; 0 for a milestone)") }
        default: reader.errors.add("durationMinutes", "give the duration in one unit only")
        }
        if task.durationMinutes < 0 { reader.errors.add("durationMinutes", "must not be negative") }
        if task.durationMinutes > Self.maxMinutes { reader.errors.add("durationMinutes", "must be at most \(Self.maxMinutes)") }
        if reader.has("roleKey") { task.roleKey = reader.string("roleKey", maxLength: 63) }
        if reader.has("assigneeId") { task.assigneeId = reader.uuid("assigneeId") }
        if let checklist = reader.strings("checklist") { task.checklist = checklist }
        if reader.has("constraint") {
            if reader.isNull("constraint") {
                task.constraint = nil
            } else if let constraint = reader.object("constraint", allowed: ["kind", "date"], { item -> TaskConstraint? in
                let kind = item.oneOf("kind", ConstraintKind.self, required: true)
                let date = item.instant("date", required: true)
                guard let kind, let date else { return nil }
                return TaskConstraint(kind: kind, date: date)
            }) {
                task.constraint = constraint
            }
        }
        if let percent = reader.int("percentComplete") {
            if !(0...100).contains(percent) { reader.errors.add("percentComplete", "must be from 0 to 100") }
            task.percentComplete = percent
        }
        if reader.has("actualStart") { task.actualStart = reader.instant("actualStart") }
        if reader.has("actualFinish") { task.actualFinish = reader.instant("actualFinish") }
        if let s = task.actualStart, let f = task.actualFinish, f < s { reader.errors.add("actualFinish", "must not be before actualStart") }
        if task.actualFinish != nil && task.actualStart == nil { reader.errors.add("actualStart", "is required once the task has finished") }
        try reader.check()
        return task
    }

    // MARK: Timelines and baselines

    @Sendable func timeline(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.readPlans)
        let id = try context.uuidParameter("planId")
        let baselineName = request.query("baseline")
        let store = self.store
        let (export, version) = try await database.withTenant(principal.agencyID) { connection in
            let document = try await store.document(id, on: connection)
            try Self.checkVisible(document.plan, to: principal)
            let timeline = try store.schedule(document)
            var baseline: BaselineRecord?
            if let baselineName {
                baseline = try await store.baselines(plan: id, on: connection).first { $0.name == baselineName }
                if baseline == nil { throw Problem(.notFound, detail: "no baseline named \(baselineName)", errors: [FieldError("baseline", "no baseline has this name")]) }
            }
            return (document.export(timeline: timeline, baseline: baseline, generatedAt: Date()), document.plan.version)
        }
        var response = Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: ExportFormat.json.render(export))))
        response.headers[.eTag] = "\"\(version)\""
        return response
    }

    @Sendable func listBaselines(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<BaselineRecord>> {
        let principal = try context.require(.readPlans)
        let window = try ListWindow(request)
        let id = try context.uuidParameter("planId")
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { connection in
            try Self.checkVisible(try await store.plan(id, on: connection), to: principal)
            return try await store.baselines(plan: id, on: connection)
        }))
    }

    @Sendable func saveBaseline(_ request: Request, context: AppRequestContext) async throws -> JSONBody<BaselineRecord> {
        let principal = try context.require(.writePlans)
        let id = try context.uuidParameter("planId")
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["name"])
        let name = reader.string("name", required: true, maxLength: 100)
        if let name, name.trimmingCharacters(in: .whitespaces).isEmpty { reader.errors.add("name", "must not be empty") }
        try reader.check()
        guard let name else { throw Problem(.malformedRequest) }
        let store = self.store
        return JSONBody(try await database.withTenant(principal.agencyID) { connection in
            let document = try await store.document(id, on: connection)
            return try await store.saveBaseline(agency: principal.agencyID, plan: id, name: name, try store.schedule(document), on: connection)
        }, status: .created)
    }

    struct PersonTask: Codable, Sendable {
        var planId: String
        var planName: String
        var clientName: String
        var taskId: String
        var name: String
        var start: String
        var finish: String
        var timeZone: String
        var isMilestone: Bool
        var critical: Bool
        var totalSlackMinutes: Int
        var percentComplete: Int
    }

    /// RFC 3339 in `zone`. An offset with seconds (local mean time, before a zone's first standard offset)
    /// cannot be written in RFC 3339: it is truncated to minutes and the clock time follows, so the instant
    /// stays exact.
    struct ZoneFormatter {
        let zone: TimeZone
        let formatter = ISO8601DateFormatter()

        init(_ zone: TimeZone) {
            self.zone = zone
            formatter.formatOptions = [.withInternetDateTime]
        }

        func string(from date: Date) -> String {
            let offset = zone.secondsFromGMT(for: date)
            formatter.timeZone = offset % 60 == 0 ? zone : TimeZone(secondsFromGMT: offset / 60 * 60) ?? zone
            return formatter.string(from: date)
        }
    }

    static func formatter(_ zone: TimeZone) -> ZoneFormatter { ZoneFormatter(zone) }

    /// `GET /v1/members/{memberId}/timeline?from=2026-03-02&to=2026-03-08`: what a person does, across plans.
    @Sendable func personTimeline(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<PersonTask>> {
        let principal = try context.require(.readPlans)
        let window = try ListWindow(request)
        let member = try context.uuidParameter("memberId")
        var errors = FieldErrors()
        let from = request.query("from").flatMap { LocalDate($0) }
        let to = request.query("to").flatMap { LocalDate($0) }
        if request.query("from") != nil && from == nil { errors.add("from", "must be a date as YYYY-MM-DD") }
        if request.query("to") != nil && to == nil { errors.add("to", "must be a date as YYYY-MM-DD") }
        if let from, let to, to < from { errors.add("to", "must not be before from") }
        try errors.check()
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { connection in
            _ = try await PeopleStore(logger: store.logger).member(member, on: connection)
            var rows: [PersonTask] = []
            for planID in try await store.planIDs(assignee: member, on: connection) {
                let document = try await store.document(planID, on: connection)
                guard TenantPolicy.canSee(client: ClientID(document.plan.clientId), as: principal) else { continue }
                let timeline = try store.schedule(document)
                let formatter = Self.formatter(document.calendar.timeZone)
                let mine = Dictionary(document.tasks.filter { $0.assigneeId == member }.map { ($0.id.lowercasedString, $0) }, uniquingKeysWith: { a, _ in a })
                for scheduled in timeline.tasks where !scheduled.isSummary {
                    guard let task = mine[scheduled.id] else { continue }
                    if let from, document.calendar.localDate(of: scheduled.earlyFinish) < from { continue }
                    if let to, document.calendar.localDate(of: scheduled.earlyStart) > to { continue }
                    rows.append(PersonTask(
                        planId: planID.lowercasedString, planName: document.plan.name, clientName: document.client.name,
                        taskId: scheduled.id, name: task.name, start: formatter.string(from: scheduled.earlyStart),
                        finish: formatter.string(from: scheduled.earlyFinish), timeZone: document.calendar.timeZoneID,
                        isMilestone: scheduled.isMilestone, critical: scheduled.isCritical, totalSlackMinutes: scheduled.totalSlack,
                        percentComplete: task.percentComplete))
                }
            }
            return rows.sorted { ($0.start, $0.name) < ($1.start, $1.name) }
        }))
    }
}

/// Decodes a nested JSON document (templates, calendars); a decoding error names the path that failed.
func decodeDocument<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
    do {
        _ = try JSONSerialization.jsonObject(with: data)
    } catch {
        throw Problem(.malformedRequest, detail: "the body is not valid JSON")
    }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    do {
        return try decoder.decode(type, from: data)
    } catch let error as DecodingError {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context):
            let base = path(context)
            throw Problem.validation([FieldError(base.isEmpty ? key.stringValue : "\(base).\(key.stringValue)", "is required")])
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            throw Problem.validation([FieldError(path(context), context.debugDescription)])
        @unknown default:
            throw Problem(.malformedRequest)
        }
    } catch {
        throw Problem.validation([FieldError("", "\(error)")])
    }
}
