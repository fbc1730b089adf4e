import Foundation
import TrellisQueue
import TrellisStore

/// Every job kind of the platform, registered for the worker.
public enum PlatformJobs {
    /// `outbound` says where webhooks may go: public https hosts only, unless an operator allows local development.
    public static func registry(database: TenantDatabase, outbound: OutboundPolicy = OutboundPolicy()) -> JobRegistry {
        var registry = JobRegistry()
        let export = ExportBundleJob(database: database)
        registry.register(ExportBundleJob.kind, arguments: ExportBundleJob.Arguments.self, timeout: .seconds(600)) { args, context in
            try await export.run(args, context)
        }
        let prune = ExportPruneJob(database: database)
        registry.register(ExportPruneJob.kind) { context in try await prune.run(context) }
        let probe = ProbeJob(database: database)
        registry.register(ProbeJob.kind, arguments: ProbeJob.Arguments.self) { args, context in try await probe.run(args, context) }
        registry.register(NoopJob.kind) { _ in .completed }

        let deliver = WebhookDeliverJob(database: database, outbound: outbound)
        registry.register(WebhookDeliverJob.kind, arguments: WebhookDeliverJob.Arguments.self, timeout: .seconds(30)) { args, context in
            try await deliver.run(args, context)
        }
        let reminders = RemindersScanJob(database: database)
        registry.register(RemindersScanJob.kind, timeout: .seconds(240)) { context in try await reminders.run(context) }
        let digest = WeeklyDigestJob(database: database)
        registry.register(WeeklyDigestJob.kind, timeout: .seconds(1800)) { context in try await digest.run(context) }
        let recompute = PlanRecomputeJob(database: database)
        registry.register(PlanRecomputeJob.kind, arguments: PlanRecomputeJob.Arguments.self, timeout: .seconds(300)) { args, context in
            try await recompute.run(args, context)
        }
        let notificationsPrune = NotificationsPruneJob(database: database)
        registry.register(NotificationsPruneJob.kind) { context in try await notificationsPrune.run(context) }
        return registry
    }

    /// The schedules defined in code; agencies add their own rows in `trellis_cron_schedules`.
    public static func schedules() throws -> [CronSchedule] {
        [
            // Housekeeping: drop the files of expired exports.
            try CronSchedule(
                name: "exports.prune", expression: "*/15 * * * *", timeZone: "UTC",
                job: NewJob(kind: ExportPruneJob.kind, queue: "default", uniqueKey: "exports.prune"), missedSlots: .runOnce),
            // Reminders: tasks starting or due within a day, and overdue ones; each created once (reminders_sent).
            try CronSchedule(
                name: "reminders.scan", expression: "*/5 * * * *", timeZone: "UTC",
                job: NewJob(kind: RemindersScanJob.kind, queue: "default", maxAttempts: 3, uniqueKey: "reminders.scan"), missedSlots: .runOnce),
            // The weekly client digest, Mondays 08:00 UTC (one global slot that builds every client's digest).
            try CronSchedule(
                name: "digest.weekly", expression: "0 8 * * 1", timeZone: "UTC",
                job: NewJob(kind: WeeklyDigestJob.kind, queue: "default", maxAttempts: 5, uniqueKey: "digest.weekly"), missedSlots: .runOnce),
            // Read notifications older than 90 days, delivery attempts older than 30.
            try CronSchedule(
                name: "notifications.prune", expression: "30 3 * * *", timeZone: "UTC",
                job: NewJob(kind: NotificationsPruneJob.kind, queue: "default", uniqueKey: "notifications.prune"), missedSlots: .runOnce),
        ]
    }

    /// The queues and their concurrency a worker runs by default.
    public static let defaultQueues: [String: Int] = ["default": 10, ExportBundleJob.queue: 2, WebhookDeliverJob.queue: 8]
}
