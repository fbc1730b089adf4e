import Foundation
import Logging
import PostgresNIO
import TrellisApplication
import TrellisDomain
import TrellisQueue
import TrellisStore

/// `digest.weekly` (Mondays 08:00 UTC): per client with active plans, what was done last week, what is due
/// this week, what is overdue, and how each plan's critical path compares with its latest baseline — an
/// inbox notification to the agency's owners and managers and the consultants assigned to the client, and a
/// `digest.weekly` webhook event. A client that already got a digest in the last six days is skipped, so a
/// retried job does not send twice.
public struct WeeklyDigestJob: JobKindWithoutArguments {
    public static let kind = "digest.weekly"
    static let repeatGuard: Duration = .seconds(6 * 24 * 3600)

    let database: TenantDatabase

    public init(database: TenantDatabase) { self.database = database }

    public func run(_ context: JobContext) async throws -> JobOutcome {
        var sent = 0
        for agency in try await AgencyDirectory(logger: context.logger).all(database) {
            sent += try await send(agency: agency, now: Date(), logger: context.logger).count
        }
        context.logger.info("weekly digests sent", metadata: ["clients": "\(sent)"])
        return .completed
    }

    /// Builds a client's digest from its active plans at `now` (no writes).
    public static func build(client: ClientRecord, documents: [(PlanDocument, Timeline, BaselineRecord?)], now: Date) -> WeeklyDigest {
        var tasks: [DigestTask] = []
        var slips: [PlanSlip] = []
        for (document, timeline, baseline) in documents {
            let records = Dictionary(document.tasks.map { ($0.id.lowercasedString, $0) }, uniquingKeysWith: { a, _ in a })
            for scheduled in timeline.tasks {
                guard let record = records[scheduled.id] else { continue }
                tasks.append(DigestTask(
                    id: scheduled.id, planName: document.plan.name, name: record.name, start: scheduled.earlyStart,
                    finish: scheduled.earlyFinish, percentComplete: record.percentComplete, actualFinish: record.actualFinish,
                    isSummary: scheduled.isSummary))
            }
            if let baseline {
                slips.append(PlanSlip(planName: document.plan.name, baselineName: baseline.name, baselineFinish: baseline.finish, currentFinish: timeline.finish))
            }
        }
        return WeeklyDigest.build(clientName: client.name, timeZone: client.timeZone, now: now, tasks: tasks, slips: slips)
    }

    /// One agency, one transaction: the digests sent, by client.
    public func send(agency: AgencyID, now: Date, logger: Logger) async throws -> [UUID: WeeklyDigest] {
        let plans = PlanStore(logger: logger), notifications = NotificationStore(logger: logger)
        let queue = JobQueue(client: database.client, logger: logger)
        return try await database.withTenant(agency) { connection in
            var byClient: [UUID: [PlanRecord]] = [:]
            for plan in try await plans.plans(client: nil, on: connection) { byClient[plan.clientId, default: []].append(plan) }
            var sent: [UUID: WeeklyDigest] = [:]
            for (clientID, clientPlans) in byClient.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
                if try await notifications.digestSent(client: clientID, within: Self.repeatGuard, on: connection) { continue }
                var documents: [(PlanDocument, Timeline, BaselineRecord?)] = []
                for plan in clientPlans {
                    let document = try await plans.document(plan.id, on: connection)
                    guard let timeline = try? document.onboardingPlan.schedule() else { continue }
                    let baseline = try await plans.baselines(plan: plan.id, on: connection).last
                    documents.append((document, timeline, baseline))
                }
                guard let client = documents.first?.0.client else { continue }
                let digest = Self.build(client: client, documents: documents, now: now)
                let zone = TimeZone(identifier: client.timeZone) ?? TimeZone(identifier: "UTC")!
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = zone
                let day = calendar.dateComponents([.year, .month, .day], from: now)
                let today = LocalDate(year: day.year ?? 1970, month: day.month ?? 1, day: day.day ?? 1) ?? LocalDate(dayNumber: 0)
                let recipients = try await notifications.digestRecipients(client: clientID, on: today, connection: connection)
                for member in recipients {
                    try await notifications.create(.init(
                        memberId: member, kind: "digest", title: digest.title, body: digest.body, clientId: clientID), on: connection)
                }
                try await WebhookEvents.publish(.digestWeekly, data: digest, queue: queue, logger: logger, on: connection)
                sent[clientID] = digest
            }
            return sent
        }
    }
}
