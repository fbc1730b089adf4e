import Foundation
import Hummingbird
import Logging
import PostgresNIO
import TrellisDomain
import TrellisJobs
import TrellisQueue
import TrellisStore

/// The agency's own background jobs: counts by queue and state, failed jobs with their errors, retry and
/// cancel. Another agency's job id is a 404 like any missing one.
struct JobRoutes {
    let database: TenantDatabase
    let store: AgencyJobStore
    let queue: JobQueue

    static let action: Action = .manageIntegrations

    func register(on router: Router<AppRequestContext>) {
        router.get("/v1/jobs/summary", use: summary)
        router.get("/v1/jobs", use: list)
        router.get("/v1/jobs/{jobId}", use: read)
        router.post("/v1/jobs/{jobId}/retry", use: retry)
        router.post("/v1/jobs/{jobId}/cancel", use: cancel)
    }

    struct Summary: Codable, Sendable {
        var counts: [AgencyJobStore.Count]
    }

    static func jobID(_ context: AppRequestContext) throws -> Int64 {
        guard let raw = context.parameters.get("jobId"), let id = Int64(raw), id > 0 else { throw Problem.notFound("job") }
        return id
    }

    @Sendable func summary(_ request: Request, context: AppRequestContext) async throws -> JSONBody<Summary> {
        let principal = try context.require(Self.action)
        let store = self.store
        return JSONBody(Summary(counts: try await database.withTenant(principal.agencyID) { try await store.summary(on: $0) }))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<JobBody>> {
        let principal = try context.require(Self.action)
        var errors = FieldErrors()
        let state = request.query("state")
        if let state, JobState(rawValue: state) == nil {
            errors.add("state", "must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let limit = pageLimit(request, errors: &errors)
        var cursor: Int64?
        if let raw = request.query("cursor") {
            if raw.count <= 18, !raw.isEmpty, raw.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(raw) { cursor = n } else {
                errors.add("cursor", "must be digits, as nextCursor gives them")
            }
        }
        if !errors.errors.isEmpty { throw Problem.validation(errors.errors) }
        let store = self.store
        let items = try await database.withTenant(principal.agencyID) { [cursor, limit] connection in
            try await store.list(state: state, before: cursor, limit: limit + 1, on: connection)
        }
        let page = Array(items.prefix(limit))
        return JSONBody(ListPage(items: page.map(JobBody.init), nextCursor: items.count > limit ? page.last.map { "\($0.id)" } : nil))
    }

    func owned(_ id: Int64, _ principal: Principal) async throws -> AgencyJobStore.JobView {
        let store = self.store
        guard let job = try await database.withTenant(principal.agencyID, { try await store.job(id, on: $0) }) else {
            throw Problem.notFound("job")
        }
        return job
    }

    @Sendable func read(_ request: Request, context: AppRequestContext) async throws -> JSONBody<JobBody> {
        let principal = try context.require(Self.action)
        return JSONBody(JobBody(try await owned(try Self.jobID(context), principal)))
    }

    /// Runs a finished job (discarded, cancelled, completed) again now.
    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> JSONBody<JobBody> {
        let principal = try context.require(Self.action)
        let id = try Self.jobID(context)
        let job = try await owned(id, principal)
        let queue = self.queue
        guard try await database.withTenant(principal.agencyID, { try await queue.retry(id, on: $0.connection) }) else {
            throw Problem(.conflict, detail: "the job is \(job.state); only finished jobs (discarded, cancelled, completed) can be retried")
        }
        return JSONBody(JobBody(try await owned(id, principal)))
    }

    struct Cancelled: Codable, Sendable {
        /// cancelled, cancel_requested (it is running; its worker stops it), or already_finalized.
        var result: String
        var job: JobBody
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> JSONBody<Cancelled> {
        let principal = try context.require(Self.action)
        let id = try Self.jobID(context)
        _ = try await owned(id, principal)
        let result: String
        let queue = self.queue
        switch try await database.withTenant(principal.agencyID, { try await queue.cancel(id, on: $0.connection) }) {
        case .cancelled: result = "cancelled"
        case .cancelRequested: result = "cancel_requested"
        case .alreadyFinalized: result = "already_finalized"
        case .notFound: throw Problem.notFound("job")
        }
        return JSONBody(Cancelled(result: result, job: JobBody(try await owned(id, principal))))
    }
}
