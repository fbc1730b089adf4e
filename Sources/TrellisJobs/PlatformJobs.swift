import Foundation
import TrellisQueue
import TrellisStore

/// Every job kind of the platform, registered for the worker.
public enum PlatformJobs {
    public static func registry(database: TenantDatabase) -> JobRegistry {
        var registry = JobRegistry()
        let export = ExportBundleJob(database: database)
        registry.register(ExportBundleJob.kind, arguments: ExportBundleJob.Arguments.self, timeout: .seconds(600)) { args, context in
            try await export.run(args, context)
        }
        let prune = ExportPruneJob(database: database)
        registry.register(ExportPruneJob.kind) { context in try await prune.run(context) }
        let probe = ProbeJob(database: database)
        registry.register(ProbeJob.kind, arguments: ProbeJob.Arguments.self) { args, context in try await probe.run(args, context) }
        return registry
    }

    /// The schedules defined in code; agencies add their own rows in `trellis_cron_schedules`.
    public static func schedules() throws -> [CronSchedule] {
        [
            // Housekeeping: drop the files of expired exports.
            try CronSchedule(
                name: "exports.prune", expression: "*/15 * * * *", timeZone: "UTC",
                job: NewJob(kind: ExportPruneJob.kind, queue: "default", uniqueKey: "exports.prune"), missedSlots: .runOnce),
        ]
    }

    /// The queues and their concurrency a worker runs by default.
    public static let defaultQueues: [String: Int] = ["default": 10, ExportBundleJob.queue: 2]
}

