import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

/// The signed-in person's inbox: what the platform told them (a client marked their task done, a plan moved their
/// dates, a reminder), newest first, unread marked; read one or all.
extension WebRoutes {
    struct InboxView: Sendable {
        struct Item: Sendable { var title: String; var body: String; var when: String; var href: String?; var unread: Bool; var read: String }
        var shell: Shell
        var items: [Item]
        var unread: Int
        var hasUnread: Bool
        var notice: String?
    }

    @Sendable func inbox(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        if principal.role == .clientViewer { throw Problem.notFound("page") }
        let store = NotificationStore(logger: database.logger)
        let member = principal.memberID.rawValue
        let (records, unread) = try await database.withTenant(principal.agencyID) { connection in
            (try await store.inbox(member: member, unreadOnly: false, after: nil, limit: 100, on: connection),
             try await store.unreadCount(member: member, on: connection))
        }
        let view = InboxView(
            shell: Shell(title: "Inbox", section: "Inbox", identity: identity, principal: principal),
            items: records.map { n in
                .init(title: n.title, body: n.body, when: WebFormat.moment(n.createdAt),
                      href: n.planId.map { plan in "/plans/\(PlanID(plan))" + (n.taskId.map { "#task-\(TaskID($0))" } ?? "") },
                      unread: n.readAt == nil, read: "/inbox/\(n.id.uuidString.lowercased())/read")
            },
            unread: unread, hasUnread: unread > 0, notice: request.uri.queryParameters.get("notice").map { String($0) })
        return try HTMLPage(html: templates.render("inbox", view)).response(from: request, context: context)
    }

    @Sendable func markRead(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        guard let raw = context.parameters.get("notificationId"), let id = UUID(uuidString: raw) else { throw Problem.notFound("notification") }
        let store = NotificationStore(logger: database.logger)
        _ = try await database.withTenant(principal.agencyID) { try await store.markRead(id, member: principal.memberID.rawValue, on: $0) }
        return HTMLPage.redirect("/inbox")
    }

    @Sendable func markAllRead(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let store = NotificationStore(logger: database.logger)
        let count = try await database.withTenant(principal.agencyID) { try await store.markAllRead(member: principal.memberID.rawValue, on: $0) }
        let notice = "\(count) marked read."
        return HTMLPage.redirect("/inbox", notice: notice)
    }
}
