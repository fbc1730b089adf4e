import Foundation
import Logging
import PostgresNIO
import TrellisApplication
import TrellisDomain
import TrellisQueue
import TrellisStore

/// `plan.recompute`: reschedules one plan after its client's calendar changed, raising the iCalendar
/// SEQUENCE of the tasks that moved, and tells their assignees (inbox) and the webhooks (`plan.rescheduled`).
public struct PlanRecomputeJob: JobKind {
    public typealias Arguments = PlanRecompute

    let operations: PlanOperations

    public init(database: TenantDatabase) { self.operations = PlanOperations(database: database) }

    public func run(_ arguments: Arguments, _ context: JobContext) async throws -> JobOutcome {
        guard let agencyUUID = context.agencyID else { return .discard(reason: "a recompute needs an agency") }
        do {
            let moved = try await operations.recompute(PlanID(arguments.planId), agency: AgencyID(agencyUUID))
            context.logger.info("plan recomputed", metadata: ["plan": "\(arguments.planId)", "moved": "\(moved.count)"])
            return .completed
        } catch StoreError.notFound {
            return .completed  // the plan is gone: nothing to recompute
        } catch let failure as PlanNotSchedulable {
            return .discard(reason: "the plan cannot be scheduled: \(failure.error)")
        }
    }
}

/// `notifications.prune` (daily): read notifications older than 90 days, and delivery attempts older than
/// 30 days, are deleted in each agency.
public struct NotificationsPruneJob: JobKindWithoutArguments {
    public static let kind = "notifications.prune"
    public static let readRetention: Duration = .seconds(90 * 24 * 3600)
    public static let deliveryRetention: Duration = .seconds(30 * 24 * 3600)

    let database: TenantDatabase

    public init(database: TenantDatabase) { self.database = database }

    public func run(_ context: JobContext) async throws -> JobOutcome {
        let notifications = NotificationStore(logger: context.logger), webhooks = WebhookStore(logger: context.logger)
        var pruned = 0, attempts = 0
        for agency in try await AgencyDirectory(logger: context.logger).all(database) {
            let (n, a) = try await database.withTenant(agency) { connection in
                (try await notifications.pruneRead(olderThan: Self.readRetention, on: connection),
                 try await webhooks.pruneDeliveries(olderThan: Self.deliveryRetention, on: connection))
            }
            pruned += n
            attempts += a
        }
        context.logger.info("pruned notifications", metadata: ["notifications": "\(pruned)", "deliveryAttempts": "\(attempts)"])
        return .completed
    }
}
