import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

/// `/v1/clients`: the agency's client brands.
struct ClientRoutes {
    let database: TenantDatabase
    let store: ClientStore
    let caches: ReadCaches

    func register(on router: Router<AppRequestContext>) {
        router.get("/v1/clients", use: list)
        router.post("/v1/clients", use: create)
        router.get("/v1/clients/{clientId}", use: read)
        router.patch("/v1/clients/{clientId}", use: update)
        router.post("/v1/clients/{clientId}/archive", use: archive)
    }

    static let fields: Set<String> = ["name", "slug", "industry", "timeZone", "status", "channels", "goals"]

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> KeptResponse {
        let principal = try context.require(.readClients)
        var errors = FieldErrors()
        var filter = ClientStore.Filter()
        if let raw = request.query("status") {
            if let status = ClientStatus(rawValue: raw) { filter.status = status } else {
                errors.add("status", "must be one of \(ClientStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        filter.search = request.query("q").flatMap { $0.isEmpty ? nil : $0 }
        filter.includeArchived = request.booleanQuery("archived", errors: &errors) ?? false
        filter.onlyID = principal.role == .clientViewer ? principal.clientID?.rawValue : nil
        let limit = pageLimit(request, errors: &errors)
        var cursor: Cursor?
        if let raw = request.query("cursor") {
            cursor = Cursor(encoded: raw)
            if cursor == nil { errors.add("cursor", "is not a cursor this API returned") }
        }
        if !errors.errors.isEmpty { throw Problem.validation(errors.errors) }
        let (store, database) = (self.store, self.database)
        // Per reader (what a client viewer may see is theirs) and query; kept until the agency's data changes.
        return try await caches.response("clients|\(principal.memberID)|\(request.uri.query ?? "")", agency: principal.agencyID) {
            let page = try await database.withTenantReading(principal.agencyID) { [filter, cursor] in
                try await store.list(filter, after: cursor, limit: limit, on: $0)
            }
            return try JSONBody(Page(items: page.items.map(ClientBody.init), nextCursor: page.nextCursor)).kept()
        }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Versioned<ClientBody> {
        let principal = try context.require(.writeClients)
        let draft = try Self.draft(from: try await request.jsonObject(context: context), base: nil)
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) {
            try await store.create(id: UUID(), draft, on: $0)
        }
        return .created(ClientBody(record), version: record.version, at: "/v1/clients/\(record.id.lowercasedString)")
    }

    @Sendable func read(_ request: Request, context: AppRequestContext) async throws -> Versioned<ClientBody> {
        let principal = try context.require(.readClients)
        let id = try context.uuidParameter("clientId")
        guard TenantPolicy.canSee(client: ClientID(id), as: principal) else { throw Problem.notFound("client") }
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) { try await store.get(id, on: $0) }
        return Versioned(body: ClientBody(record), version: record.version)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Versioned<ClientBody> {
        let principal = try context.require(.writeClients)
        let id = try context.uuidParameter("clientId")
        let expected = try request.ifMatchVersion()
        let object = try await request.jsonObject(context: context)
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) { connection in
            let current = try await store.get(id, on: connection)
            let draft = try Self.draft(from: object, base: current)
            return try await store.update(id, draft, expectedVersion: expected, on: connection)
        }
        return Versioned(body: ClientBody(record), version: record.version)
    }

    @Sendable func archive(_ request: Request, context: AppRequestContext) async throws -> Versioned<ClientBody> {
        let principal = try context.require(.writeClients)
        let id = try context.uuidParameter("clientId")
        let expected = try request.ifMatchVersion()
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) { try await store.archive(id, expectedVersion: expected, on: $0) }
        return Versioned(body: ClientBody(record), version: record.version)
    }

    /// A create (no base) or a partial update over `base`; every failing field is reported at once.
    static func draft(from object: [String: JSONValue], base: ClientRecord?) throws -> ClientDraft {
        var reader = FieldReader(object, allowed: fields)
        let name = reader.string("name", required: base == nil, maxLength: 200)
        let slug = reader.string("slug", maxLength: 63)
        let industry = reader.string("industry", maxLength: 200)
        let timeZone = reader.string("timeZone", required: base == nil)
        let status = reader.oneOf("status", ClientStatus.self)
        let channels = reader.objects("channels", allowed: ["network", "handle", "audienceSize"]) { item -> TrellisDomain.Channel? in
            let network = item.string("network", required: true)
            let handle = item.string("handle", required: true)
            let audience = item.int("audienceSize")
            guard let network, let handle else { return nil }
            return TrellisDomain.Channel(network: network, handle: handle, audienceSize: audience)
        }
        let goals = reader.objects("goals", allowed: ["name", "metric", "target", "dueOn"]) { item -> Goal? in
            let name = item.string("name", required: true)
            let metric = item.string("metric", required: true)
            let target = item.double("target")
            let dueOn = item.date("dueOn")
            guard let name, let metric else { return nil }
            return Goal(name: name, metric: metric, target: target, dueOn: dueOn)
        }
        try reader.check()
        let resolvedName = name ?? base?.name ?? ""
        let draft = ClientDraft(
            name: resolvedName,
            slug: slug ?? base?.slug ?? Slug.make(from: resolvedName),
            industry: reader.has("industry") ? industry : base?.industry,
            timeZone: timeZone ?? base?.timeZone ?? "",
            status: status ?? base?.status ?? .prospect,
            channels: channels ?? base?.channels ?? [],
            goals: goals ?? base?.goals ?? [])
        try draft.validate()
        return draft
    }
}

extension Request {
    /// `true` or `false`, nothing else (a typo is a 422, not a silent false).
    func booleanQuery(_ name: String, errors: inout FieldErrors) -> Bool? {
        guard let raw = query(name) else { return nil }
        switch raw {
        case "true": return true
        case "false": return false
        default:
            errors.add(name, "must be true or false")
            return nil
        }
    }
}
