import Foundation
import Logging
import PostgresNIO
import TrellisApplication
import TrellisDomain
import TrellisQueue
import TrellisStore

/// `export.bundle`: every plan of a client (or of the agency) in one format, zipped, downloadable for a day.
public struct ExportBundleJob: JobKind {
    public static let kind = "export.bundle"
    public static let queue = "exports"
    public static let lifetime: Duration = .seconds(24 * 3600)

    public struct Arguments: Codable, Sendable {
        public var exportId: UUID
        public init(exportId: UUID) { self.exportId = exportId }
    }

    let database: TenantDatabase

    public init(database: TenantDatabase) { self.database = database }

    /// Records the export and its job in the caller's transaction: both commit or neither.
    public static func enqueue(
        format: ExportFormat, client: UUID?, plan: UUID?, requestedBy: UUID,
        queue: JobQueue, store: ExportStore, on connection: TenantConnection
    ) async throws -> ExportRecord {
        let agency = connection.agency
        let id = UUID()
        _ = try await store.create(id: id, format: format.rawValue, client: client, plan: plan, requestedBy: requestedBy, on: connection)
        let job = try NewJob(Self.self, Arguments(exportId: id), queue: Self.queue, agencyID: agency.rawValue, maxAttempts: 5)
        let jobID = try await queue.enqueue(job, on: connection.connection)
        try await store.attachJob(id, job: jobID, on: connection)
        return try await store.get(id, on: connection)
    }

    public func run(_ arguments: Arguments, _ context: JobContext) async throws -> JobOutcome {
        do {
            return try await attempt(arguments, context)
        } catch {
            // The last attempt leaves the export visibly failed rather than forever "running".
            if context.attempt >= context.maxAttempts, let agency = context.agencyID {
                let exports = ExportStore(logger: context.logger)
                try? await database.withTenant(AgencyID(agency)) { try await exports.fail(arguments.exportId, error: "\(error)", on: $0) }
            }
            throw error
        }
    }

    func attempt(_ arguments: Arguments, _ context: JobContext) async throws -> JobOutcome {
        guard let agencyUUID = context.agencyID else { return .discard(reason: "an export job needs an agency") }
        let agency = AgencyID(agencyUUID)
        let logger = context.logger
        let exports = ExportStore(logger: logger), plans = PlanStore(logger: logger)
        let export = try await database.withTenant(agency) { try await exports.get(arguments.exportId, on: $0) }
        guard let format = ExportFormat(rawValue: export.format) else {
            try await database.withTenant(agency) { try await exports.fail(arguments.exportId, error: "unknown format \(export.format)", on: $0) }
            return .discard(reason: "unknown format \(export.format)")
        }
        let planIDs: [UUID] = try await database.withTenant(agency) { connection in
            if let plan = export.planId { return [plan] }
            return try await plans.plans(client: export.clientId, on: connection).map(\.id)
        }
        let now = Date()
        var archive = ZipArchive()
        var single: RenderedExport?
        for (index, planID) in planIDs.enumerated() {
            try Task.checkCancellation()
            let rendered = try await database.withTenant(agency) { connection in
                try await exports.progress(arguments.exportId, done: index, total: planIDs.count, on: connection)
                return try await PlanExports.render(plan: planID, format: format, now: now, store: plans, on: connection)
            }
            try await context.reportProgress(["done": index + 1, "total": planIDs.count])
            archive.add(name: rendered.fileName, contents: Data(rendered.body.utf8), modified: now)
            single = rendered
        }
        let (zip, lastRendered) = (archive.data, single)
        try await database.withTenant(agency) { connection in
            if export.planId != nil, let single = lastRendered {
                // One plan too large to answer directly: the file itself, not a zip of one.
                try await exports.finish(arguments.exportId, file: Data(single.body.utf8), name: single.fileName,
                                         contentType: single.contentType, lifetime: Self.lifetime, on: connection)
            } else {
                try await exports.finish(arguments.exportId, file: zip, name: "trellis-\(format.rawValue)-\(arguments.exportId.lowercasedString.prefix(8)).zip",
                                         contentType: "application/zip", lifetime: Self.lifetime, on: connection)
            }
        }
        logger.info("export ready", metadata: ["export": "\(arguments.exportId)", "plans": "\(planIDs.count)"])
        return .completed
    }
}

/// `exports.prune`: expired export files are dropped in each agency (the rows stay as a record).
public struct ExportPruneJob: JobKindWithoutArguments {
    public static let kind = "exports.prune"
    let database: TenantDatabase

    public init(database: TenantDatabase) { self.database = database }

    public func run(_ context: JobContext) async throws -> JobOutcome {
        let exports = ExportStore(logger: context.logger)
        var pruned = 0
        for agency in try await AgencyDirectory(logger: context.logger).all(database) {
            pruned += try await database.withTenant(agency) { try await exports.pruneExpired(on: $0) }
        }
        context.logger.info("pruned expired exports", metadata: ["files": "\(pruned)"])
        return .completed
    }
}
