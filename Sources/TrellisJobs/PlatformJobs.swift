import Foundation
import TrellisQueue
import TrellisStore

/// Every job kind of the platform, registered for the worker.
public enum PlatformJobs {
    /// `outbound` says where webhooks may go: public https hosts only, unless an operator allows local development.
    public static func registry(database: TenantDatabase, outbound: OutboundPolicy = OutboundPolicy()) -> JobRegistry {
        var registry = JobRegistry()
        registry.register(ExportBundleJob(database: database), timeout: .seconds(600))
        registry.register(ExportPruneJob(database: database))
        // The benchmark's no-op does not even decode its (empty) arguments, like the peers' no-op handlers.
        registry.register(NoopJob.kind) { _ in .completed }
        registry.register(WebhookDeliverJob(database: database, outbound: outbound), timeout: .seconds(30))
        registry.register(RemindersScanJob(database: database), timeout: .seconds(240))
        registry.register(WeeklyDigestJob(database: database), timeout: .seconds(1800))
        registry.register(PlanRecomputeJob(database: database), timeout: .seconds(300))
        registry.register(NotificationsPruneJob(database: database))
        return registry
    }

    /// The schedules defined in code; agencies add their own rows in `trellis_cron_schedules`.
    public static func schedules() throws -> [CronSchedule] {
        [
            // Housekeeping: drop the files of expired exports.
            try CronSchedule(
                name: "exports.prune", expression: "*/15 * * * *", timeZone: "UTC",
                job: NewJob(ExportPruneJob.self, queue: "default", uniqueKey: "exports.prune"), missedSlots: .runOnce),
            // Reminders: tasks starting or due within a day, and overdue ones; each created once (reminders_sent).
            try CronSchedule(
                name: "reminders.scan", expression: "*/5 * * * *", timeZone: "UTC",
                job: NewJob(RemindersScanJob.self, queue: "default", maxAttempts: 3, uniqueKey: "reminders.scan"), missedSlots: .runOnce),
            // The weekly client digest, Mondays 08:00 UTC (one global slot that builds every client's digest).
            try CronSchedule(
                name: "digest.weekly", expression: "0 8 * * 1", timeZone: "UTC",
                job: NewJob(WeeklyDigestJob.self, queue: "default", maxAttempts: 5, uniqueKey: "digest.weekly"), missedSlots: .runOnce),
            // Read notifications older than 90 days, delivery attempts older than 30.
            try CronSchedule(
                name: "notifications.prune", expression: "30 3 * * *", timeZone: "UTC",
                job: NewJob(NotificationsPruneJob.self, queue: "default", uniqueKey: "notifications.prune"), missedSlots: .runOnce),
        ]
    }

    /// The queues and their concurrency a worker runs by default.
    public static let defaultQueues: [String: Int] = ["default": 10, ExportBundleJob.queue: 2, WebhookDeliverJob.queue: 8]
}
