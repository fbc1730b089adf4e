import Foundation
import Hummingbird
import PostgresNIO
import TrellisApplication
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
    let operations: PlanOperations
    let caches: ReadCaches

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
            try await store.saveTemplate(id: UUID(), template, expectedVersion: nil, on: $0)
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
            return try await store.saveTemplate(id: id, template, expectedVersion: expected, on: connection)
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
        try await operations.replaceCalendar(client: ClientID(id), calendar, as: principal)
        return JSONBody(calendar)
    }

    // MARK: Plans

    @Sendable func listPlans(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<PlanBody>> {
        let principal = try context.require(.readPlans)
        let window = try ListWindow(request)
        var client = request.query("clientId").flatMap(UUID.init(uuidString:))
        if request.query("clientId") != nil && client == nil { throw Problem.validation([FieldError("clientId", "must be a UUID")]) }
        if principal.role == .clientViewer { client = principal.clientID?.rawValue }
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { [client] in
            try await store.plans(client: client, on: $0)
        }.map(PlanBody.init)))
    }

    /// `{clientId, templateId, startsOn, name?}`: instantiates the template on the client's calendar,
    /// the first working minute on or after `startsOn`, with assignees from the hybrid-role assignments.
    @Sendable func createPlan(_ request: Request, context: AppRequestContext) async throws -> PlanReply {
        let principal = try context.require(.writePlans)
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["clientId", "templateId", "startsOn", "name"])
        let clientID = reader.uuid("clientId", required: true)
        let templateID = reader.uuid("templateId") ?? PlanStore.builtInTemplateID
        let startsOn = reader.date("startsOn", required: true)
        let name = reader.string("name", maxLength: 200)
        try reader.check()
        guard let clientID, let startsOn else { throw Problem(.malformedRequest) }
        let created = try await operations.create(client: ClientID(clientID), template: templateID, startsOn: startsOn, name: name, as: principal)
        return PlanReply(scheduled: created, status: .created, location: "/v1/plans/\(created.plan.id)")
    }

    @Sendable func readPlan(_ request: Request, context: AppRequestContext) async throws -> PlanReply {
        let principal = try context.require(.readPlans)
        return PlanReply(scheduled: try await operations.read(PlanID(try context.uuidParameter("planId")), as: principal))
    }

    @Sendable func updatePlan(_ request: Request, context: AppRequestContext) async throws -> PlanReply {
        try await edit(request, context) {
            var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["name", "startsOn"])
            let name = reader.string("name", maxLength: 200)
            let startsOn = reader.date("startsOn")
            try reader.check()
            return .update(name: name, startsOn: startsOn)
        }
    }

    @Sendable func archivePlan(_ request: Request, context: AppRequestContext) async throws -> PlanReply {
        try await edit(request, context) { .archive }
    }

    @Sendable func addTask(_ request: Request, context: AppRequestContext) async throws -> PlanReply {
        let taskID = TaskID(UUID())
        var created = try await edit(request, context) { .addTask(taskID, try PlanRequests.taskPatch(try await request.jsonObject(context: context))) }
        // 201: Location names the new task; the body is the plan with it (and its new ETag, for the next edit).
        created.status = .created
        created.location = "/v1/plans/\(created.scheduled.plan.id)/tasks/\(taskID)"
        return created
    }

    @Sendable func updateTask(_ request: Request, context: AppRequestContext) async throws -> PlanReply {
        let task = TaskID(try context.uuidParameter("taskId"))
        return try await edit(request, context) { .updateTask(task, try PlanRequests.taskPatch(try await request.jsonObject(context: context))) }
    }

    @Sendable func deleteTask(_ request: Request, context: AppRequestContext) async throws -> PlanReply {
        let task = TaskID(try context.uuidParameter("taskId"))
        return try await edit(request, context) { .removeTask(task) }
    }

    @Sendable func addDependency(_ request: Request, context: AppRequestContext) async throws -> PlanReply {
        try await edit(request, context) { .addLink(try PlanRequests.newLink(try await request.jsonObject(context: context))) }
    }

    @Sendable func deleteDependency(_ request: Request, context: AppRequestContext) async throws -> PlanReply {
        let predecessor = TaskID(try context.uuidParameter("predecessorId"))
        let successor = TaskID(try context.uuidParameter("successorId"))
        return try await edit(request, context) { .removeLink(predecessor: predecessor, successor: successor) }
    }

    /// Every plan edit names the version it was based on: `If-Match` is required (`*` is an explicit
    /// "whatever is current"), and checked before the body is read, so a missing one is always 428.
    func edit(_ request: Request, _ context: AppRequestContext, _ change: () async throws -> PlanChange) async throws -> PlanReply {
        let principal = try context.require(.writePlans)
        let planID = PlanID(try context.uuidParameter("planId"))
        guard request.hasIfMatch else {
            throw Problem(.preconditionRequired, detail: "send If-Match with the plan's ETag, so an edit never overwrites one you have not seen")
        }
        let expected = try request.ifMatchVersion()
        let change = try await change()
        return PlanReply(scheduled: try await operations.edit(planID, expectedVersion: expected, change, as: principal))
    }

    static func checkVisible(_ plan: PlanRecord, to principal: Principal) throws {
        guard TenantPolicy.canSee(client: ClientID(plan.clientId), as: principal) else { throw Problem.notFound("plan") }
    }

    // MARK: Timelines and baselines

    @Sendable func timeline(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.readPlans)
        let id = PlanID(try context.uuidParameter("planId"))
        let (operations, baselineName) = (self.operations, request.query("baseline"))
        // What a Gantt reloads after every change elsewhere: kept until the agency's data changes (its `generatedAt`
        // says when it was computed).
        let key = "timeline|\(id)|\(principal.memberID)|\(baselineName ?? "")"
        return try await caches.response(key, agency: principal.agencyID) {
            let (scheduled, baseline) = try await operations.timeline(id, baseline: baselineName, as: principal)
            let body = ExportFormat.json.render(scheduled.export(baseline: baseline, generatedAt: Date()))
            return KeptResponse(
                status: .ok, headers: [.contentType: "application/json", .eTag: "\"\(scheduled.record.version)\""], body: ByteBuffer(string: body))
        }.response(from: request, context: context)
    }

    @Sendable func listBaselines(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<BaselineBody>> {
        let principal = try context.require(.readPlans)
        let window = try ListWindow(request)
        let id = try context.uuidParameter("planId")
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { connection in
            try Self.checkVisible(try await store.plan(id, on: connection), to: principal)
            return try await store.baselines(plan: id, on: connection)
        }).map(BaselineBody.init))
    }

    @Sendable func saveBaseline(_ request: Request, context: AppRequestContext) async throws -> JSONBody<BaselineBody> {
        let principal = try context.require(.writePlans)
        let id = PlanID(try context.uuidParameter("planId"))
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["name"])
        let name = reader.string("name", required: true, maxLength: 100)
        try reader.check()
        guard let name else { throw Problem(.malformedRequest) }
        return JSONBody(BaselineBody(try await operations.saveBaseline(id, name: name, as: principal)), status: .created)
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

    /// `GET /v1/members/{memberId}/timeline?from=2026-03-02&to=2026-03-08`: what a person does, across plans; dates
    /// in each plan's calendar zone.
    @Sendable func personTimeline(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<PersonTask>> {
        let principal = try context.require(.readPlans)
        let window = try ListWindow(request)
        let member = MemberID(try context.uuidParameter("memberId"))
        var errors = FieldErrors()
        let from = request.query("from").flatMap { LocalDate($0) }
        let to = request.query("to").flatMap { LocalDate($0) }
        if request.query("from") != nil && from == nil { errors.add("from", "must be a date as YYYY-MM-DD") }
        if request.query("to") != nil && to == nil { errors.add("to", "must be a date as YYYY-MM-DD") }
        try errors.check()
        let tasks = try await operations.personTimeline(member, from: from, to: to, as: principal)
        var clocks: [String: ZonedTimestamps] = [:]
        let rows = tasks.map { task -> PersonTask in
            let clock = clocks[task.timeZone.identifier] ?? ZonedTimestamps(
                zone: task.timeZone, from: tasks.map(\.start).min() ?? task.start, to: tasks.map(\.finish).max() ?? task.finish)
            clocks[task.timeZone.identifier] = clock
            return PersonTask(
                planId: task.plan.description, planName: task.planName, clientName: task.clientName, taskId: task.task.description,
                name: task.name, start: clock.rfc3339(task.start), finish: clock.rfc3339(task.finish), timeZone: task.timeZone.identifier,
                isMilestone: task.isMilestone, critical: task.critical, totalSlackMinutes: task.totalSlackMinutes,
                percentComplete: task.percentComplete)
        }
        return JSONBody(window.page(rows))
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
