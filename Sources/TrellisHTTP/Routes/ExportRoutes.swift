import Foundation
import Hummingbird
import PostgresNIO
import TrellisApplication
import TrellisDomain
import TrellisJobs
import TrellisQueue
import TrellisStore

/// Timeline exports: one plan answered directly, many plans (or one too large) as a job whose zip is
/// downloadable until it expires, and webcal subscription feeds behind rotatable secrets.
struct ExportRoutes {
    let database: TenantDatabase
    let plans: PlanStore
    let exports: ExportStore
    let queue: JobQueue
    /// Plans with more tasks than this are exported by the worker instead of in the request.
    let directLimit: Int
    static let maxFeedPlans = 50
    let limits: APILimits
    /// Where the server is reached from outside (`https://trellis.example`): feed links are built on it.
    let publicBaseURL: String

    func register(on router: Router<AppRequestContext>) {
        router.get("/v1/plans/{planId}/export", use: exportPlan)
        router.post("/v1/exports", use: createExport)
        router.get("/v1/exports/{exportId}", use: readExport)
        router.get("/v1/exports/{exportId}/download", use: download)
        router.post("/v1/plans/{planId}/feed", use: rotatePlanFeed)
        router.post("/v1/members/{memberId}/feed", use: rotateMemberFeed)
        router.get("/feeds/{feedToken}.ics", use: feed)
    }

    static func format(_ raw: String?) throws -> ExportFormat {
        guard let raw, let format = ExportFormat(rawValue: raw) else {
            let allowed = ExportFormat.allCases.map(\.rawValue)
            throw Problem(.malformedRequest, detail: "format must be one of \(allowed.joined(separator: ", "))", allowed: allowed)
        }
        return format
    }

    /// `GET /v1/plans/{planId}/export?format=…`: the file itself, or 303 to an export job when the plan is large.
    @Sendable func exportPlan(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.readPlans)
        let planID = try context.uuidParameter("planId")
        let format = try Self.format(request.query("format"))
        let baseline = request.query("baseline")
        var errors = FieldErrors()
        let bom = request.booleanQuery("bom", errors: &errors) ?? false
        if !errors.errors.isEmpty { throw Problem.validation(errors.errors) }
        let (plans, exports, queue, limit) = (self.plans, self.exports, self.queue, self.directLimit)
        enum Answer: Sendable { case file(RenderedExport), job(ExportRecord) }
        let answer: Answer = try await database.withTenant(principal.agencyID) { connection in
            let plan = try await plans.plan(planID, on: connection)
            try PlanRoutes.checkVisible(plan, to: principal)
            if try await plans.taskCount(plan: planID, on: connection) > limit {
                try await Self.checkExportBudget(limits, exports: exports, on: connection)
                return .job(try await ExportBundleJob.enqueue(
                    format: format, client: nil, plan: planID, requestedBy: principal.memberID.rawValue,
                    queue: queue, store: exports, on: connection))
            }
            return .file(try await PlanExports.render(plan: planID, format: format, baselineName: baseline, now: Date(), store: plans, on: connection))
        }
        switch answer {
        case .job(let record):
            return Response(status: .seeOther, headers: [.location: "/v1/exports/\(record.id.lowercasedString)"])
        case .file(let rendered):
            var body = rendered.body
            if format == .csv && bom { body = "\u{FEFF}" + body }
            // Written in 64 KiB slices, so the socket gets the first bytes at once.
            let buffer = ByteBuffer(string: body)
            return Response(
                status: .ok,
                headers: [.contentType: rendered.contentType, .contentDisposition: "attachment; filename=\"\(rendered.fileName)\""],
                body: ResponseBody { writer in
                    var remaining = buffer
                    while let slice = remaining.readSlice(length: min(64 * 1024, remaining.readableBytes)), slice.readableBytes > 0 {
                        try await writer.write(slice)
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// Export jobs are heavy: an agency has a few at a time and a daily allowance (429 past either).
    static func checkExportBudget(_ limits: APILimits, exports: ExportStore, on connection: TenantConnection) async throws {
        let (active, today) = try await exports.budgetUse(on: connection)
        if active >= limits.concurrentExportsPerAgency {
            throw Problem.tooManyRequests(
                retryAfter: 30, detail: "\(active) exports are already queued or running (at most \(limits.concurrentExportsPerAgency)); retry when one is ready")
        }
        if today >= limits.dailyExportsPerAgency {
            throw Problem.tooManyRequests(
                retryAfter: 3600, detail: "the agency started \(today) exports in the last 24 hours (at most \(limits.dailyExportsPerAgency))")
        }
    }

    struct ExportView: Codable, Sendable {
        var export: ExportBody
        var downloadUrl: String?
    }

    static func view(_ record: ExportRecord) -> ExportView {
        ExportView(export: ExportBody(record), downloadUrl: record.status == "ready" ? "/v1/exports/\(record.id.lowercasedString)/download" : nil)
    }

    /// `POST /v1/exports {format, clientId?}`: every plan of the client (or of the agency), zipped, by the worker.
    @Sendable func createExport(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.readPlans)
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["format", "clientId"])
        let rawFormat = reader.string("format", required: true)
        let client = reader.uuid("clientId")
        if let rawFormat, ExportFormat(rawValue: rawFormat) == nil {
            reader.errors.add("format", "must be one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try reader.check()
        let format = try Self.format(rawFormat)
        if principal.role == .clientViewer && client != principal.clientID?.rawValue { throw Problem.notFound("client") }
        let (exports, queue, limits) = (self.exports, self.queue, self.limits)
        let record = try await database.withTenant(principal.agencyID) { connection in
            try await Self.checkExportBudget(limits, exports: exports, on: connection)
            return try await ExportBundleJob.enqueue(
                format: format, client: client, plan: nil, requestedBy: principal.memberID.rawValue,
                queue: queue, store: exports, on: connection)
        }
        var response = try JSONBody(Self.view(record), status: .accepted).response(from: request, context: context)
        response.headers[.location] = "/v1/exports/\(record.id.lowercasedString)"
        return response
    }

    @Sendable func readExport(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ExportView> {
        let principal = try context.require(.readPlans)
        let id = try context.uuidParameter("exportId")
        let (exports, plans) = (self.exports, self.plans)
        return JSONBody(Self.view(try await database.withTenant(principal.agencyID) { connection in
            try await Self.visible(try await exports.get(id, on: connection), to: principal, plans: plans, on: connection)
        }))
    }

    /// A client viewer sees the exports of their own client only (by its client, or by its plan's client):
    /// any other export is a 404, as if it did not exist.
    static func visible(_ record: ExportRecord, to principal: Principal, plans: PlanStore, on connection: TenantConnection) async throws -> ExportRecord {
        guard principal.role == .clientViewer else { return record }
        if let client = record.clientId, TenantPolicy.canSee(client: ClientID(client), as: principal) { return record }
        if let plan = record.planId, let found = try? await plans.plan(plan, on: connection),
           TenantPolicy.canSee(client: ClientID(found.clientId), as: principal) {
            return record
        }
        throw Problem.notFound("export")
    }

    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.readPlans)
        let id = try context.uuidParameter("exportId")
        let (exports, plans) = (self.exports, self.plans)
        let (record, file) = try await database.withTenant(principal.agencyID) { connection in
            (try await Self.visible(try await exports.get(id, on: connection), to: principal, plans: plans, on: connection),
             try await exports.download(id, on: connection))
        }
        guard let file else {
            if record.status == "ready" { throw Problem(.gone, detail: "this export expired at \(record.expiresAt.map { "\($0)" } ?? "?"); ask for a new one") }
            throw Problem(.conflict, detail: "the export is \(record.status), not ready yet")
        }
        return Response(
            status: .ok,
            headers: [.contentType: file.contentType, .contentDisposition: "attachment; filename=\"\(file.fileName)\""],
            body: .init(byteBuffer: ByteBuffer(data: file.data)))
    }

    struct FeedView: Codable, Sendable {
        var url: String
        var webcal: String
    }

    func feedView(_ secret: String, _ request: Request) -> FeedView { Self.feedView(secret, publicBaseURL: publicBaseURL) }

    /// Links are built from the configured public base URL, never from the request's `Host` (the API and the web app).
    static func feedView(_ secret: String, publicBaseURL: String) -> FeedView {
        let base = publicBaseURL.hasSuffix("/") ? String(publicBaseURL.dropLast()) : publicBaseURL
        let withoutScheme = base.split(separator: "://", maxSplits: 1).last.map(String.init) ?? base
        return FeedView(url: "\(base)/feeds/\(secret).ics", webcal: "webcal://\(withoutScheme)/feeds/\(secret).ics")
    }

    /// A new secret for the plan's subscription feed; the previous URL stops working.
    @Sendable func rotatePlanFeed(_ request: Request, context: AppRequestContext) async throws -> JSONBody<FeedView> {
        let principal = try context.require(.writePlans)
        let id = try context.uuidParameter("planId")
        let (plans, exports) = (self.plans, self.exports)
        let secret = try await database.withTenant(principal.agencyID) { connection in
            try PlanRoutes.checkVisible(try await plans.plan(id, on: connection), to: principal)
            return try await exports.rotateFeed(.plan(id), on: connection)
        }
        return JSONBody(feedView(secret, request), status: .created)
    }

    @Sendable func rotateMemberFeed(_ request: Request, context: AppRequestContext) async throws -> JSONBody<FeedView> {
        let principal = try context.require(.readPlans)
        let id = try context.uuidParameter("memberId")
        // People rotate their own feed; managers and owners anyone's.
        guard id == principal.memberID.rawValue || TenantPolicy.allows(principal.role, .writePeople) else {
            throw Problem(.forbidden, detail: "only the person or a manager may rotate this feed")
        }
        let exports = self.exports
        let secret = try await database.withTenant(principal.agencyID) { connection in
            _ = try await PeopleStore(logger: exports.logger).member(id, on: connection)
            return try await exports.rotateFeed(.member(id), on: connection)
        }
        return JSONBody(feedView(secret, request), status: .created)
    }

    /// The feed itself: no session, the secret in the URL is the credential (as calendar apps expect).
    @Sendable func feed(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let secret = context.parameters.get("feedToken") else { throw Problem.notFound("feed") }
        let (plans, exports) = (self.plans, self.exports)
        guard let (agency, owner) = try await database.withSystem({ try await exports.resolveFeed(secret: secret, on: $0) }) else {
            throw Problem.notFound("feed")
        }
        let body: String = try await database.withTenant(agency) { connection in
            switch owner {
            case .plan(let plan):
                return try await PlanExports.render(plan: plan, format: .ical, now: Date(), store: plans, on: connection).body
            case .member(let member):
                let person = try await PeopleStore(logger: exports.logger).member(member, on: connection)
                var calendars: [String] = []
                var uids = Set<String>()
                // A person's feed spans their plans; at most `maxFeedPlans` of them (tasks per plan are capped too),
                // so what one feed renders stays bounded.
                for plan in try await plans.planIDs(assignee: member, on: connection).prefix(Self.maxFeedPlans) {
                    let document = try await plans.document(plan, on: connection)
                    for task in document.tasks where task.assigneeId == member { uids.insert("\(task.id.lowercasedString)@trellis") }
                    calendars.append(try await PlanExports.render(plan: plan, format: .ical, now: Date(), store: plans, on: connection).body)
                }
                return ICalendarFeed.merge(calendars, keepUIDs: uids, name: "\(person.displayName) — Trellis")
            }
        }
        return Response(status: .ok, headers: [.contentType: ExportFormat.ical.contentType], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
