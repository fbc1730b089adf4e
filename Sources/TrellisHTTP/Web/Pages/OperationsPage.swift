import Foundation
import Hummingbird
import PostgresNIO
import TrellisDomain
import TrellisQueue
import TrellisStore

/// For owners and managers: the agency's background work (queues by state, jobs waiting with cancel, jobs failed for good
/// with their error history and retry), its webhooks with their delivery log, and its API tokens (create shows the secret
/// once, revoke).
extension WebRoutes {
    struct OperationsView: Sendable {
        struct Count: Sendable { var queue: String; var state: String; var count: Int; var bad: Bool }
        struct Failure: Sendable { var id: String; var kind: String; var queue: String; var attempts: String; var when: String; var errors: [String]; var retry: String }
        struct Pending: Sendable { var id: String; var kind: String; var queue: String; var state: String; var runAt: String; var cancel: String }
        struct Delivery: Sendable { var event: String; var when: String; var outcome: String; var ok: Bool; var attempt: Int; var duration: String }
        struct Webhook: Sendable { var url: String; var description: String; var events: String; var active: Bool; var deliveries: [Delivery] }
        struct Token: Sendable { var name: String; var holder: String; var prefix: String; var created: String; var used: String; var expires: String; var status: String; var active: Bool; var revoke: String }
        var shell: Shell
        var counts: [Count]
        var pending: [Pending]
        var failures: [Failure]
        var webhooks: [Webhook]
        var canManageTokens: Bool
        var tokens: [Token]
        var notice: String?
        /// A token just created: its secret, shown this once.
        var newTokenName: String?
        var newTokenSecret: String?
        var tokenError: String?
        var tokenName: String = ""
    }

    func operationsView(_ principal: Principal, identity: Shell.Identity, notice: String?) async throws -> OperationsView {
        let logger = database.logger
        let agency = principal.agencyID
        let canManageTokens = TenantPolicy.allows(principal.role, .manageTokens)
        return try await database.withTenant(agency) { connection in
            let jobs = AgencyJobStore(logger: logger)
            let counts = try await jobs.summary(on: connection)
            let failed = try await jobs.list(state: "discarded", before: nil, limit: 50, on: connection)
            var pending: [AgencyJobStore.JobView] = []
            for state in ["running", "retryable", "available", "scheduled"] {
                pending += try await jobs.list(state: state, before: nil, limit: 20, on: connection)
            }
            let hooks = WebhookStore(logger: logger)
            var webhooks: [OperationsView.Webhook] = []
            for hook in try await hooks.list(on: connection) {
                let log = try await hooks.deliveries(webhook: hook.id, limit: 10, on: connection)
                webhooks.append(.init(
                    url: hook.url, description: hook.description ?? "", events: hook.events.joined(separator: ", "), active: hook.active,
                    deliveries: log.map { d in
                        .init(event: d.event, when: WebFormat.moment(d.attemptedAt),
                              outcome: d.succeeded ? "HTTP \(d.statusCode ?? 200)" : (d.statusCode.map { "HTTP \($0)" } ?? d.error ?? "failed"),
                              ok: d.succeeded, attempt: d.attempt, duration: "\(d.durationMs) ms")
                    }))
            }
            var tokens: [OperationsView.Token] = []
            if canManageTokens {
                let names = Dictionary(try await PeopleStore(logger: logger).listMembers(role: nil, on: connection).map { ($0.id, $0.displayName) },
                                       uniquingKeysWith: { a, _ in a })
                let now = self.now()
                tokens = try await CredentialStore(logger: logger).listTokens(on: connection).map { t in
                    let expired = t.expiresAt.map { $0 <= now } ?? false
                    let status = t.revokedAt != nil ? "revoked" : (expired ? "expired" : "active")
                    return .init(name: t.name, holder: names[t.memberId] ?? "—", prefix: t.prefix, created: WebFormat.day(WebFormat.utcDate(t.createdAt)),
                                 used: t.lastUsedAt.map(WebFormat.moment) ?? "never", expires: t.expiresAt.map { WebFormat.day(WebFormat.utcDate($0)) } ?? "never",
                                 status: status, active: status == "active", revoke: "/operations/tokens/\(t.id.uuidString.lowercased())/revoke")
                }
            }
            return OperationsView(
                shell: Shell(title: "Operations", section: "Operations", identity: identity, principal: principal),
                counts: counts.sorted { ($0.queue, $0.state) < ($1.queue, $1.state) }
                    .map { .init(queue: $0.queue, state: $0.state, count: $0.count, bad: $0.state == "discarded") },
                pending: pending.map { job in
                    .init(id: String(job.id), kind: job.kind, queue: job.queue, state: job.state, runAt: WebFormat.moment(job.runAt),
                          cancel: "/operations/jobs/\(job.id)/cancel")
                },
                failures: failed.map { job in
                    .init(id: String(job.id), kind: job.kind, queue: job.queue, attempts: "\(job.attempt) of \(job.maxAttempts)",
                          when: WebFormat.day(WebFormat.utcDate(job.finalizedAt ?? job.createdAt)),
                          errors: job.errors.map { "Attempt \($0.attempt): \($0.error)" }, retry: "/operations/jobs/\(job.id)/retry")
                },
                webhooks: webhooks, canManageTokens: canManageTokens, tokens: tokens, notice: notice)
        }
    }

    @Sendable func operations(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.manageIntegrations)
        let view = try await operationsView(principal, identity: identity, notice: request.uri.queryParameters.get("notice").map { String($0) })
        return try HTMLPage(html: templates.render("operations", view)).response(from: request, context: context)
    }

    static func operationsRedirect(_ notice: String) -> Response {
        HTMLPage.redirect("/operations", notice: notice)
    }

    /// The job of this agency named in the path, or 404.
    func ownedJob(_ context: AppRequestContext, principal: Principal, on connection: TenantConnection) async throws -> Int64 {
        guard let raw = context.parameters.get("jobId"), let id = Int64(raw),
              try await AgencyJobStore(logger: database.logger).job(id, on: connection) != nil
        else { throw Problem.notFound("job") }
        return id
    }

    /// Runs a failed job again now, with a fresh attempt budget (what `POST /v1/jobs/{id}/retry` does).
    @Sendable func retryJob(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.manageIntegrations)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let queue = JobQueue(client: database.client, logger: database.logger)
        let (id, retried) = try await database.withTenant(principal.agencyID) { connection -> (Int64, Bool) in
            let id = try await ownedJob(context, principal: principal, on: connection)
            return (id, try await queue.retry(id, on: connection.connection))
        }
        return Self.operationsRedirect(retried ? "Job \(id) will run again." : "Job \(id) is not finished, so it cannot be retried.")
    }

    /// Cancels a waiting job, or asks its worker to stop a running one (what `POST /v1/jobs/{id}/cancel` does).
    @Sendable func cancelJob(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.manageIntegrations)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let queue = JobQueue(client: database.client, logger: database.logger)
        let (id, result) = try await database.withTenant(principal.agencyID) { connection -> (Int64, CancelResult) in
            let id = try await ownedJob(context, principal: principal, on: connection)
            return (id, try await queue.cancel(id, on: connection.connection))
        }
        let notice = switch result {
        case .cancelled: "Job \(id) was cancelled; it will not run."
        case .cancelRequested: "Job \(id) is running: its worker was asked to stop it."
        case .alreadyFinalized: "Job \(id) had already finished."
        case .notFound: "Job \(id) is gone."
        }
        return Self.operationsRedirect(notice)
    }

    /// A new API token for the signed-in person; the page shows its secret this once.
    @Sendable func createToken(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.manageTokens)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let name = (form.values["tokenName"] ?? "").trimmingCharacters(in: .whitespaces)
        var tokenError: String?
        if name.isEmpty { tokenError = "Name the token after what will use it, like “Reporting script”" }
        else if name.unicodeScalars.count > 100 { tokenError = "Must be at most 100 characters" }
        var created: (TokenRecord, String)?
        if tokenError == nil {
            let credentials = CredentialStore(logger: database.logger)
            created = try await database.withTenant(principal.agencyID) {
                try await credentials.createToken(member: principal.memberID.rawValue, name: name, expiresAt: nil, on: $0)
            }
        }
        var view = try await operationsView(principal, identity: identity, notice: nil)
        view.tokenError = tokenError
        if let (record, secret) = created {
            view.newTokenName = record.name
            view.newTokenSecret = secret
        } else {
            view.tokenName = name
        }
        var response = try HTMLPage(html: templates.render("operations", view), status: created == nil ? .unprocessableContent : .created)
            .response(from: request, context: context)
        response.headers[.cacheControl] = "no-store"  // the secret must not stay in a cache
        return response
    }

    @Sendable func revokeToken(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.manageTokens)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        guard let raw = context.parameters.get("tokenId"), let id = UUID(uuidString: raw) else { throw Problem.notFound("token") }
        let credentials = CredentialStore(logger: database.logger)
        let revoked = try await database.withTenant(principal.agencyID) { connection in
            if try await credentials.tokenHolderRole(id, on: connection) == .owner && principal.role != .owner {
                throw Problem(.forbidden, detail: "only an owner may act on an owner's credentials")
            }
            return try await credentials.revokeToken(id, on: connection)
        }
        return Self.operationsRedirect("Token “\(revoked.name)” revoked: it no longer signs anything in.")
    }
}
