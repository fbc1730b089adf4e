import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

/// `/v1/roles`: the agency's hybrid-role catalog.
struct RoleRoutes {
    let database: TenantDatabase
    let store: RoleStore

    func register(on router: Router<AppRequestContext>) {
        router.get("/v1/roles", use: list)
        router.post("/v1/roles", use: create)
        router.get("/v1/roles/{roleId}", use: read)
        router.patch("/v1/roles/{roleId}", use: update)
        router.post("/v1/roles/{roleId}/archive", use: archive)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<RoleBody>> {
        let principal = try context.require(.readAssignments)
        let window = try ListWindow(request)
        var errors = FieldErrors()
        let archived = request.booleanQuery("archived", errors: &errors) ?? false
        if !errors.errors.isEmpty { throw Problem.validation(errors.errors) }
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { try await store.list(includeArchived: archived, on: $0) }).map(RoleBody.init))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONBody<RoleBody> {
        let principal = try context.require(.manageRoles)
        let role = try Self.role(from: try await request.jsonObject(context: context), base: nil)
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) {
            try await store.create(id: UUID(), role, on: $0)
        }
        return .created(RoleBody(record), at: "/v1/roles/\(record.id.lowercasedString)")
    }

    @Sendable func read(_ request: Request, context: AppRequestContext) async throws -> JSONBody<RoleBody> {
        let principal = try context.require(.readAssignments)
        let id = try context.uuidParameter("roleId")
        let store = self.store
        return JSONBody(RoleBody(try await database.withTenant(principal.agencyID) { try await store.get(id, on: $0) }))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONBody<RoleBody> {
        let principal = try context.require(.manageRoles)
        let id = try context.uuidParameter("roleId")
        let object = try await request.jsonObject(context: context)
        let store = self.store
        return JSONBody(RoleBody(try await database.withTenant(principal.agencyID) { connection in
            let current = try await store.get(id, on: connection)
            return try await store.update(id, try Self.role(from: object, base: current), on: connection)
        }))
    }

    @Sendable func archive(_ request: Request, context: AppRequestContext) async throws -> JSONBody<RoleBody> {
        let principal = try context.require(.manageRoles)
        let id = try context.uuidParameter("roleId")
        let store = self.store
        return JSONBody(RoleBody(try await database.withTenant(principal.agencyID) { try await store.archive(id, on: $0) }))
    }

    static func role(from object: [String: JSONValue], base: RoleRecord?) throws -> HybridRole {
        var reader = FieldReader(object, allowed: ["key", "name", "description"])
        let name = reader.string("name", required: base == nil, maxLength: 120)
        let key = reader.string("key", maxLength: 63)
        let description = reader.string("description", maxLength: 2000)
        try reader.check()
        let resolvedName = name ?? base?.name ?? ""
        let role = HybridRole(
            key: key ?? base?.key ?? Slug.make(from: resolvedName), name: resolvedName,
            description: description ?? base?.description ?? "")
        try role.validate()
        return role
    }
}
