import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

/// The caller's own inbox: reminders, digests and moved tasks addressed to them.
struct NotificationRoutes {
    let database: TenantDatabase
    let store: NotificationStore

    func register(on router: Router<AppRequestContext>) {
        router.get("/v1/notifications", use: list)
        router.post("/v1/notifications/read-all", use: readAll)
        router.post("/v1/notifications/{notificationId}/read", use: markRead)
    }

    struct Page: Codable, Sendable {
        var items: [NotificationBody]
        var unreadCount: Int
        var nextCursor: String?


        enum CodingKeys: String, CodingKey { case items, unreadCount, nextCursor }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(items, forKey: .items)
            try container.encode(unreadCount, forKey: .unreadCount)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONBody<Page> {
        let principal = try context.authenticated()
        var errors = FieldErrors()
        var unreadOnly = false
        if let raw = request.query("unread") {
            if raw == "true" { unreadOnly = true } else if raw != "false" { errors.add("unread", "must be true or false") }
        }
        let limit = pageLimit(request, errors: &errors)
        var cursor: UUID?
        if let raw = request.query("cursor") {
            if let id = UUID(uuidString: raw) { cursor = id } else { errors.add("cursor", "must be a cursor this API returned") }
        }
        if !errors.errors.isEmpty { throw Problem.validation(errors.errors) }
        let store = self.store, member = principal.memberID.rawValue
        return JSONBody(try await database.withTenant(principal.agencyID) { [unreadOnly, cursor, limit] connection in
            let items = try await store.inbox(member: member, unreadOnly: unreadOnly, after: cursor, limit: limit + 1, on: connection)
            let page = Array(items.prefix(limit))
            return Page(
                items: page.map(NotificationBody.init), unreadCount: try await store.unreadCount(member: member, on: connection),
                nextCursor: items.count > limit ? page.last?.id.lowercasedString : nil)
        })
    }

    @Sendable func markRead(_ request: Request, context: AppRequestContext) async throws -> JSONBody<NotificationBody> {
        let principal = try context.authenticated()
        let id = try context.uuidParameter("notificationId")
        let store = self.store, member = principal.memberID.rawValue
        return JSONBody(NotificationBody(try await database.withTenant(principal.agencyID) { try await store.markRead(id, member: member, on: $0) }))
    }

    @Sendable func readAll(_ request: Request, context: AppRequestContext) async throws -> JSONBody<[String: Int]> {
        let principal = try context.authenticated()
        let store = self.store, member = principal.memberID.rawValue
        return JSONBody(["updated": try await database.withTenant(principal.agencyID) { try await store.markAllRead(member: member, on: $0) }])
    }
}
