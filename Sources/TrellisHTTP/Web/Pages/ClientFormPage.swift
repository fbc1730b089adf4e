import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

extension WebRoutes {
    struct ClientFormView: Sendable {
        struct Option: Sendable { var value: String; var label: String; var selected: Bool }
        var shell: Shell
        var heading: String
        var action: String
        var cancel: String
        var version: String
        var name: String
        var slug: String
        var industry: String
        var timeZone: String
        var statuses: [Option]
        /// The API's own messages, by field.
        var errors: [String: String] = [:]
        var general: String?
    }

    func clientFormView(_ shell: Shell, heading: String, action: String, cancel: String, version: String, name: String, slug: String,
                        industry: String, timeZone: String, status: ClientStatus) -> ClientFormView {
        ClientFormView(
            shell: shell, heading: heading, action: action, cancel: cancel, version: version, name: name, slug: slug, industry: industry,
            timeZone: timeZone, statuses: ClientStatus.allCases.map { .init(value: $0.rawValue, label: $0.rawValue.capitalized, selected: $0 == status) })
    }

    /// A new client organization (the JSON API's `POST /v1/clients`, with its validation messages beside the fields).
    @Sendable func newClientForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writeClients)
        let view = clientFormView(Shell(title: "New client", section: "Clients", identity: identity, principal: principal),
                                  heading: "New client", action: "/clients/new", cancel: "/clients", version: "", name: "", slug: "",
                                  industry: "", timeZone: "Europe/Madrid", status: .prospect)
        return try HTMLPage(html: templates.render("client-form", view)).response(from: request, context: context)
    }

    @Sendable func editClientForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writeClients)
        guard let raw = context.parameters.get("clientId"), let id = UUID(uuidString: raw) else { throw Problem.notFound("client") }
        let store = ClientStore(logger: database.logger)
        let record = try await database.withTenant(principal.agencyID) { try await store.get(id, on: $0) }
        let view = clientFormView(Shell(title: "Edit \(record.name)", section: "Clients", identity: identity, principal: principal),
                                  heading: "Edit \(record.name)", action: "/clients/\(ClientID(id))/edit", cancel: "/clients/\(ClientID(id))",
                                  version: String(record.version), name: record.name, slug: record.slug, industry: record.industry ?? "",
                                  timeZone: record.timeZone, status: record.status)
        return try HTMLPage(html: templates.render("client-form", view)).response(from: request, context: context)
    }

    /// Creates (no client in the path) or updates a client through the same draft and validation as the JSON API.
    @Sendable func saveClient(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writeClients)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let existing = context.parameters.get("clientId").flatMap(UUID.init(uuidString:))
        let status = form["status"].flatMap(ClientStatus.init(rawValue:)) ?? .prospect
        var object: [String: JSONValue] = [
            "name": .string(form.values["name"] ?? ""), "timeZone": .string(form.values["timeZone"] ?? ""), "status": .string(status.rawValue),
        ]
        if let slug = form["slug"] { object["slug"] = .string(slug) }
        object["industry"] = form["industry"].map { .string($0) } ?? .null
        let store = ClientStore(logger: database.logger)
        let heading = existing == nil ? "New client" : "Edit client"
        var view = clientFormView(
            Shell(title: heading, section: "Clients", identity: identity, principal: principal), heading: heading,
            action: existing.map { "/clients/\(ClientID($0))/edit" } ?? "/clients/new",
            cancel: existing.map { "/clients/\(ClientID($0))" } ?? "/clients", version: form.values["version"] ?? "",
            name: form.values["name"] ?? "", slug: form.values["slug"] ?? "", industry: form.values["industry"] ?? "",
            timeZone: form.values["timeZone"] ?? "", status: status)
        do {
            let record = try await database.withTenant(principal.agencyID) { [object] connection -> ClientRecord in
                if let existing {
                    let current = try await store.get(existing, on: connection)
                    let draft = try ClientRoutes.draft(from: object, base: current)
                    return try await store.update(existing, draft, expectedVersion: Int(form.values["version"] ?? ""), on: connection)
                }
                let draft = try ClientRoutes.draft(from: object, base: nil)
                return try await store.create(id: UUID(), draft, on: connection)
            }
            return HTMLPage.redirect("/clients/\(ClientID(record.id))")
        } catch let error as ValidationError {
            for failure in error.errors where view.errors[failure.field] == nil { view.errors[failure.field] = failure.message }
        } catch let problem as Problem where problem.statusCode == 422 {
            for failure in problem.errors ?? [] where view.errors[failure.field] == nil { view.errors[failure.field] = failure.message }
            if view.errors.isEmpty { view.general = problem.detail }
        } catch StoreError.duplicate(let field) {
            view.errors[field] = "is already taken by another client"
        } catch StoreError.versionConflict {
            view.general = "Someone else changed this client while you were editing. Reload the page to see their change."
        }
        return try HTMLPage(html: templates.render("client-form", view), status: .unprocessableContent).response(from: request, context: context)
    }
}
