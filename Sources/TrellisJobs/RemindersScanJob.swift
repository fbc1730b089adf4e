import Foundation
import Logging
import PostgresNIO
import TrellisApplication
import TrellisDomain
import TrellisQueue
import TrellisStore

/// What a reminder webhook carries.
public struct ReminderPayload: Codable, Sendable, Hashable {
    public var kind: String
    public var at: Date
    public var clientId: String
    public var clientName: String
    public var planId: String
    public var planName: String
    public var taskId: String
    public var taskName: String
    public var assigneeId: String?
}

/// `reminders.scan` (every 5 minutes): schedules every active plan of every agency and creates, once each,
/// the reminders `ReminderRule` asks for — an inbox notification for the assignee and a webhook delivery per
/// subscribed webhook, in the same transaction as the `reminders_sent` row that makes it happen only once.
public struct RemindersScanJob: JobKindWithoutArguments {
    public static let kind = "reminders.scan"

    let database: TenantDatabase
    let window: TimeInterval

    public init(database: TenantDatabase, window: TimeInterval = ReminderRule.defaultWindow) {
        self.database = database
        self.window = window
    }

    public func run(_ context: JobContext) async throws -> JobOutcome {
        let created = try await scan(now: Date(), logger: context.logger)
        context.logger.info("reminders scanned", metadata: ["created": "\(created)"])
        return .completed
    }

    /// Scans every agency at `now`; returns how many reminders were created.
    public func scan(now: Date, logger: Logger) async throws -> Int {
        var total = 0
        for agency in try await AgencyDirectory(logger: logger).all(database) {
            do {
                total += try await scan(agency: agency, now: now, logger: logger)
            } catch {
                // One agency's failure must not starve the others; the job still fails so it is retried.
                logger.error("reminder scan failed for an agency", metadata: ["agency": "\(agency.rawValue)", "error": "\(error)"])
                throw error
            }
        }
        return total
    }

    /// One agency, one transaction.
    public func scan(agency: AgencyID, now: Date, logger: Logger) async throws -> Int {
        let plans = PlanStore(logger: logger), notifications = NotificationStore(logger: logger)
        let queue = JobQueue(client: database.client, logger: logger)
        let window = self.window
        return try await database.withTenant(agency) { connection in
            var created = 0
            for plan in try await plans.plans(client: nil, on: connection) {
                let document = try await plans.document(plan.id, on: connection)
                let timeline: Timeline
                do {
                    timeline = try document.onboardingPlan.schedule()
                } catch {
                    logger.warning("plan cannot be scheduled; no reminders", metadata: ["plan": "\(plan.id)", "error": "\(error)"])
                    continue
                }
                let records = Dictionary(document.tasks.map { ($0.id.lowercasedString, $0) }, uniquingKeysWith: { a, _ in a })
                let tasks: [ReminderTask] = timeline.tasks.compactMap { scheduled in
                    guard let record = records[scheduled.id] else { return nil }
                    return ReminderTask(
                        id: scheduled.id, name: record.name, start: scheduled.earlyStart, finish: scheduled.earlyFinish,
                        percentComplete: record.percentComplete, isSummary: scheduled.isSummary, actualStart: record.actualStart)
                }
                let zone = TimeZone(identifier: document.calendar.timeZoneID) ?? TimeZone(identifier: "UTC")!
                for reminder in ReminderRule.reminders(for: tasks, now: now, window: window) {
                    guard let record = records[reminder.taskID] else { continue }
                    let claimed = try await notifications.claimReminder(
                        plan: plan.id, task: record.id, kind: reminder.kind.rawValue, instant: reminder.instant, on: connection)
                    guard claimed else { continue }
                    created += 1
                    if let assignee = record.assigneeId {
                        try await notifications.create(.init(
                            memberId: assignee, kind: reminder.kind.rawValue, title: ReminderRule.title(reminder.kind, task: record.name),
                            body: ReminderRule.body(reminder.kind, task: record.name, plan: plan.name, instant: reminder.instant, timeZone: zone, zoneName: document.calendar.timeZoneID),
                            clientId: plan.clientId, planId: plan.id, taskId: record.id), on: connection)
                    }
                    let payload = ReminderPayload(
                        kind: reminder.kind.rawValue, at: reminder.instant, clientId: plan.clientId.lowercasedString,
                        clientName: document.client.name, planId: plan.id.lowercasedString, planName: plan.name,
                        taskId: record.id.lowercasedString, taskName: record.name, assigneeId: record.assigneeId?.lowercasedString)
                    try await WebhookEvents.publish(reminder.kind.event, data: payload, queue: queue, logger: logger, on: connection)
                }
            }
            return created
        }
    }
}
