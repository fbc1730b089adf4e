import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

/// Onboarding templates: what each one holds, and a new plan for a client from one (the JSON API's `POST /v1/plans`).
extension WebRoutes {
    struct TemplatesView: Sendable {
        struct Row: Sendable { var name: String; var href: String; var description: String; var phases: Int; var tasks: Int; var builtIn: Bool }
        var shell: Shell
        var templates: [Row]
    }

    struct TemplateView: Sendable {
        struct Option: Sendable { var value: String; var label: String; var selected: Bool }
        struct Task: Sendable { var name: String; var duration: String; var role: String; var after: String; var milestone: Bool }
        struct Phase: Sendable { var name: String; var tasks: [Task] }
        var shell: Shell
        var name: String
        var description: String
        var phases: [Phase]
        var canCreate: Bool
        var action: String
        var clients: [Option]
        var startsOn: String
        var planName: String
        var errors: [String: String] = [:]
    }

    @Sendable func templatesPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.readPlans)
        if principal.role == .clientViewer { throw Problem.notFound("page") }
        let store = PlanStore(logger: database.logger)
        let records = try await database.withTenantReading(principal.agencyID) { try await store.templates(on: $0) }
        // Opened from a client's page: the template's form comes with that client chosen.
        let forClient = request.uri.queryParameters.get("client").flatMap { UUID(uuidString: String($0)) }.map { "?client=\(ClientID($0))" } ?? ""
        let view = TemplatesView(
            shell: Shell(title: "Templates", section: "Templates", identity: identity, principal: principal),
            templates: records.map { record in
                .init(name: record.template.name, href: "/templates/\(record.id.uuidString.lowercased())" + forClient, description: record.template.description,
                      phases: record.template.phases.count, tasks: record.template.tasks.count, builtIn: record.builtIn)
            })
        return try HTMLPage(html: templates.render("templates", view)).response(from: request, context: context)
    }

    func templateView(_ record: PlanStore.TemplateRecord, roles: [String: String], clients: [ClientRecord], selectedClient: String,
                      startsOn: String, planName: String, principal: Principal, shell: Shell) -> TemplateView {
        let names = Dictionary(record.template.tasks.map { ($0.key, $0.name) }, uniquingKeysWith: { a, _ in a })
        return TemplateView(
            shell: shell, name: record.template.name, description: record.template.description,
            phases: record.template.phases.map { phase in
                .init(name: phase.name, tasks: phase.tasks.map { task in
                    .init(name: task.name, duration: task.isMilestone ? "milestone" : Self.spoken(task.duration),
                          role: roles[task.roleKey] ?? task.roleKey,
                          after: task.dependencies.map { dependency in
                              let lag = dependency.lag.amount == 0 ? ""
                                  : (dependency.lag.amount > 0 ? " + " : " − ") + Self.spoken(WorkDuration(amount: abs(dependency.lag.amount), unit: dependency.lag.unit))
                              return (names[dependency.predecessorKey] ?? dependency.predecessorKey)
                                  + (dependency.kind == .finishToStart ? "" : " (\(dependency.kind.rawValue))") + lag
                          }.joined(separator: "; "),
                          milestone: task.isMilestone)
                })
            },
            canCreate: TenantPolicy.allows(principal.role, .writePlans),
            action: "/templates/\(record.id.uuidString.lowercased())/plans",
            clients: clients.map { .init(value: ClientID($0.id).description, label: $0.name, selected: ClientID($0.id).description == selectedClient) },
            startsOn: startsOn, planName: planName)
    }

    /// "1 day", "3 days", "2 hours".
    static func spoken(_ duration: WorkDuration) -> String {
        let unit = duration.unit.rawValue
        return "\(duration.amount) " + (duration.amount == 1 ? String(unit.dropLast()) : unit)
    }

    func loadTemplate(_ context: AppRequestContext, principal: Principal) async throws -> (PlanStore.TemplateRecord, [String: String], [ClientRecord]) {
        guard let raw = context.parameters.get("templateId"), let id = UUID(uuidString: raw) else { throw Problem.notFound("template") }
        let logger = database.logger
        return try await database.withTenant(principal.agencyID) { connection in
            let record = try await PlanStore(logger: logger).template(id, on: connection)
            let roles = Dictionary(try await RoleStore(logger: logger).list(includeArchived: true, on: connection).map { ($0.key, $0.name) },
                                   uniquingKeysWith: { a, _ in a })
            let clients = try await ClientStore(logger: logger).list(ClientStore.Filter(), after: nil, limit: 500, on: connection).items
                .filter { $0.status != .offboarded }
            return (record, roles, clients)
        }
    }

    @Sendable func templatePage(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        if principal.role == .clientViewer { throw Problem.notFound("template") }
        let (record, roles, clients) = try await loadTemplate(context, principal: principal)
        let preselected = request.uri.queryParameters.get("client").map { String($0) } ?? ""
        let view = templateView(record, roles: roles, clients: clients, selectedClient: preselected, startsOn: "", planName: "",
                                principal: principal, shell: Shell(title: record.template.name, section: "Templates", identity: identity, principal: principal))
        return try HTMLPage(html: templates.render("template", view)).response(from: request, context: context)
    }

    /// Starts a plan from the template on the chosen client's calendar, then opens it.
    @Sendable func createPlanFromTemplate(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writePlans)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let (record, roles, clients) = try await loadTemplate(context, principal: principal)
        let client = form.values["client"] ?? "", startsOn = form.values["startsOn"] ?? ""
        let name = (form.values["name"] ?? "").trimmingCharacters(in: .whitespaces)
        var view = templateView(record, roles: roles, clients: clients, selectedClient: client, startsOn: startsOn, planName: name,
                                principal: principal, shell: Shell(title: record.template.name, section: "Templates", identity: identity, principal: principal))
        let clientID = UUID(uuidString: client).map(ClientID.init)
        if clientID == nil { view.errors["clientId"] = "Choose the client the plan is for" }
        let day = LocalDate(startsOn)
        if day == nil { view.errors["startsOn"] = "Enter the day the plan starts" }
        if name.unicodeScalars.count > 200 { view.errors["name"] = "Must be at most 200 characters" }
        if let clientID, let day, view.errors.isEmpty {
            do {
                let created = try await operations.create(client: clientID, template: record.id, startsOn: day, name: name.isEmpty ? nil : name, as: principal)
                let notice = "Plan created: \(created.plan.tasks.count) tasks on the client's calendar."
                return HTMLPage.redirect("/plans/\(created.plan.id)", notice: notice)
            } catch let error as ValidationError {
                for field in error.errors { view.errors[field.field] = field.message.prefix(1).uppercased() + field.message.dropFirst() }
            } catch StoreError.notFound {
                view.errors["clientId"] = "That client is no longer there"
            }
        }
        return try HTMLPage(html: templates.render("template", view), status: .unprocessableContent).response(from: request, context: context)
    }
}
