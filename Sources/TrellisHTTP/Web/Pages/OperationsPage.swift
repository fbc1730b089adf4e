import Foundation
import Hummingbird
import TrellisDomain
import TrellisQueue
import TrellisStore

extension WebRoutes {
    struct OperationsView: Sendable {
        struct Count: Sendable { var queue: String; var state: String; var count: Int; var bad: Bool }
        struct Failure: Sendable { var id: String; var kind: String; var queue: String; var attempts: String; var when: String; var errors: [String]; var retry: String }
        var shell: Shell
        var counts: [Count]
        var failures: [Failure]
        var notice: String?
    }

    /// For owners and managers: the agency's background work by queue and state, and the jobs that failed for good, with
    /// their error history and a retry.
    @Sendable func operations(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.manageIntegrations)
        let jobs = AgencyJobStore(logger: database.logger)
        let (counts, failed) = try await database.withTenant(principal.agencyID) { connection in
            (try await jobs.summary(agency: principal.agencyID, on: connection),
             try await jobs.list(agency: principal.agencyID, state: "discarded", before: nil, limit: 50, on: connection))
        }
        let view = OperationsView(
            shell: Shell(title: "Operations", section: "Operations", identity: identity, principal: principal),
            counts: counts.sorted { ($0.queue, $0.state) < ($1.queue, $1.state) }
                .map { .init(queue: $0.queue, state: $0.state, count: $0.count, bad: $0.state == "discarded") },
            failures: failed.map { job in
                .init(id: String(job.id), kind: job.kind, queue: job.queue, attempts: "\(job.attempt) of \(job.maxAttempts)",
                      when: WebFormat.day(WebFormat.utcDate(job.finalizedAt ?? job.createdAt)),
                      errors: job.errors.map { "Attempt \($0.attempt): \($0.error)" }, retry: "/operations/jobs/\(job.id)/retry")
            },
            notice: request.uri.queryParameters.get("notice").map { String($0) })
        return try HTMLPage(html: templates.render("operations", view)).response(from: request, context: context)
    }

    /// Runs a failed job again now, with a fresh attempt budget (what `POST /v1/jobs/{id}/retry` does).
    @Sendable func retryJob(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.manageIntegrations)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        guard let raw = context.parameters.get("jobId"), let id = Int64(raw) else { throw Problem.notFound("job") }
        let (store, queue) = (AgencyJobStore(logger: database.logger), JobQueue(client: database.client, logger: database.logger))
        let retried = try await database.withTenant(principal.agencyID) { connection -> Bool in
            guard try await store.job(id, agency: principal.agencyID, on: connection) != nil else { throw Problem.notFound("job") }
            return try await queue.retry(id, on: connection)
        }
        let notice = retried ? "Job \(id) will run again." : "Job \(id) is not finished, so it cannot be retried."
        return HTMLPage.redirect("/operations?notice=\(notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
    }
}
