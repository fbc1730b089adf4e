import Foundation
import Logging
import PostgresNIO
import TrellisDomain
import TrellisQueue
import TrellisStore

/// What a `plan.rescheduled` webhook carries.
public struct PlanRescheduledPayload: Codable, Sendable, Hashable {
    public struct Moved: Codable, Sendable, Hashable {
        public var taskId: String
        public var name: String
        public var start: Date
        public var finish: Date
        public var previousStart: Date?
        public var previousFinish: Date?
    }
    public var planId: String
    public var planName: String
    public var clientId: String
    public var finish: Date
    public var moved: [Moved]
}

/// `plan.recompute`: reschedules one plan after its client's calendar changed, raising the iCalendar
/// SEQUENCE of the tasks that moved, and tells their assignees (inbox) and the webhooks (`plan.rescheduled`).
public struct PlanRecomputeJob: JobKind {
    public static let kind = "plan.recompute"

    public struct Arguments: Codable, Sendable {
        public var planId: UUID
        public init(planId: UUID) { self.planId = planId }
    }

    let database: TenantDatabase

    public init(database: TenantDatabase) { self.database = database }

    public static func uniqueKey(plan: UUID) -> String { "plan.recompute:\(plan.lowercasedString)" }

    /// Enqueues one recompute per active plan of `client` on the caller's connection (the calendar change's
    /// transaction): both commit or neither. A plan whose recompute is already pending keeps that one.
    @discardableResult
    public static func enqueue(agency: AgencyID, client: UUID, queue: JobQueue, logger: Logger, on connection: PostgresConnection) async throws -> [EnqueueResult] {
        let plans = try await PlanStore(logger: logger).plans(client: client, on: connection)
        let jobs = try plans.map { plan in
            try NewJob(Self.self, Arguments(planId: plan.id), agencyID: agency.rawValue, maxAttempts: 5,
                       uniqueKey: uniqueKey(plan: plan.id))
        }
        return try await queue.enqueueBatch(jobs, on: connection)
    }

    public func run(_ arguments: Arguments, _ context: JobContext) async throws -> JobOutcome {
        guard let agencyUUID = context.agencyID else { return .discard(reason: "a recompute needs an agency") }
        do {
            let moved = try await recompute(agency: AgencyID(agencyUUID), plan: arguments.planId, logger: context.logger)
            context.logger.info("plan recomputed", metadata: ["plan": "\(arguments.planId)", "moved": "\(moved)"])
            return .completed
        } catch StoreError.notFound {
            return .completed  // the plan is gone: nothing to recompute
        } catch let failure as SchedulingFailure {
            return .discard(reason: "the plan cannot be scheduled: \(failure.error)")
        }
    }

    /// Reschedules and records; returns how many tasks moved.
    public func recompute(agency: AgencyID, plan planID: UUID, logger: Logger) async throws -> Int {
        let plans = PlanStore(logger: logger)
        let queue = JobQueue(client: database.client, logger: logger)
        return try await database.withTenant(agency) { connection in
            let (document, timeline) = try await plans.scheduleAndRecord(planID, on: connection)
            return try await PlanMoves.announce(
                document: document, timeline: timeline, because: "The working calendar of \(document.client.name) changed",
                agency: agency, queue: queue, logger: logger, on: connection)
        }
    }
}

/// What every change that moves scheduled tasks announces, whichever path made it (a calendar change's
/// recompute, an edit of the plan): the assignees of the moved tasks get a `task_moved` notice, and the
/// agency's webhooks a `plan.rescheduled` event. Runs in the change's own transaction.
public enum PlanMoves {
    /// `document` is the plan as loaded before this scheduling (its recorded dates are the previous ones);
    /// returns how many tasks moved.
    @discardableResult
    public static func announce(
        document: PlanDocument, timeline: Timeline, because cause: String, agency: AgencyID, queue: JobQueue, logger: Logger,
        on connection: PostgresConnection
    ) async throws -> Int {
        let notifications = NotificationStore(logger: logger)
        var moved: [PlanRescheduledPayload.Moved] = []
        var byAssignee: [UUID: [String]] = [:]
        let scheduled = Dictionary(timeline.tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for task in document.tasks {
            guard let now = scheduled[task.id.lowercasedString], !now.isSummary else { continue }
            // Only tasks that had recorded dates and now have others moved (a first recording is no move).
            guard let oldStart = task.icalStart, let oldFinish = task.icalFinish,
                  oldStart != now.earlyStart || oldFinish != now.earlyFinish else { continue }
            moved.append(.init(taskId: now.id, name: task.name, start: now.earlyStart, finish: now.earlyFinish,
                               previousStart: oldStart, previousFinish: oldFinish))
            if let assignee = task.assigneeId { byAssignee[assignee, default: []].append(task.name) }
        }
        guard !moved.isEmpty else { return 0 }
        for (member, names) in byAssignee.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            let list = names.prefix(10).joined(separator: ", ") + (names.count > 10 ? " and \(names.count - 10) more" : "")
            try await notifications.create(agency: agency, .init(
                memberId: member, kind: "task_moved", title: "Tasks moved in \(document.plan.name)",
                body: "\(cause); these tasks of yours moved: \(list).",
                clientId: document.client.id, planId: document.plan.id), on: connection)
        }
        try await WebhookEvents.publish(.planRescheduled, data: PlanRescheduledPayload(
            planId: document.plan.id.lowercasedString, planName: document.plan.name, clientId: document.client.id.lowercasedString,
            finish: timeline.finish, moved: moved), agency: agency, queue: queue, logger: logger, on: connection)
        return moved.count
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
