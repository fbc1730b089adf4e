import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// A periodic job: a cron expression in an IANA time zone, and the job to enqueue at each fire time.
public struct CronSchedule: Sendable {
    /// What to do with fire times that passed while no scheduler ran (downtime, a long pause).
    public enum MissedSlotPolicy: String, Sendable, Hashable {
        /// Enqueue one job for all the missed slots (the latest of them), late.
        case runOnce = "run_once"
        /// Drop missed slots; a slot fires only within `onTimeWindow` of its time.
        case skip
    }

    /// Unique among schedules; the key of its slots in `trellis_cron_slots`.
    public var name: String
    public var expression: CronExpression
    public var timeZone: TimeZone
    /// The job to enqueue (its `runAt` is ignored: the job is due at once). The scheduler adds
    /// `cron_schedule` and `cron_fire_time` to its metadata.
    public var job: NewJob
    public var missedSlots: MissedSlotPolicy

    public init(
        name: String, expression: CronExpression, timeZone: TimeZone = TimeZone(identifier: "UTC")!, job: NewJob,
        missedSlots: MissedSlotPolicy = .runOnce
    ) {
        self.name = name
        self.expression = expression
        self.timeZone = timeZone
        self.job = job
        self.missedSlots = missedSlots
    }

    /// Parses `expression` and looks up `timeZone` (an IANA name such as `Europe/Madrid`).
    public init(
        name: String, expression: String, timeZone: String = "UTC", job: NewJob,
        missedSlots: MissedSlotPolicy = .runOnce
    ) throws {
        guard let zone = TimeZone(identifier: timeZone) else {
            throw CronParseError(expression: expression, message: "unknown time zone '\(timeZone)'")
        }
        self.init(name: name, expression: try CronExpression(expression), timeZone: zone, job: job, missedSlots: missedSlots)
    }
}

/// One slot a scheduler enqueued.
public struct FiredSlot: Sendable, Hashable {
    public var schedule: String
    public var fireTime: Date
    public var result: EnqueueResult
}

/// Fires cron schedules: the schedules given in code plus the enabled per-agency rows of
/// `trellis_cron_schedules` (named `agency:<uuid>:<name>`).
///
/// Safe to run two (or more): each tick takes or renews the leader lease (a row in `trellis_leader`, renewed
/// every tick, expiring after `leaseDuration`); the others are spares until it expires or is released. Even if
/// two schedulers both act as leader (a paused leader whose lease expired), a slot is enqueued in one
/// transaction with its `(schedule, fire_time)` row inserted `ON CONFLICT DO NOTHING` first, so it is enqueued
/// exactly once.
///
/// The clock is injected (`now`), so tests move it; leases use the database's clock.
public final class CronScheduler: Service, Sendable {
    public struct Configuration: Sendable {
        public var leaseName: String
        public var holderID: String
        public var leaseDuration: Duration
        public var tickInterval: Duration
        /// For `.skip`: how late a slot may still fire.
        public var onTimeWindow: Duration
        /// Load per-agency schedules from `trellis_cron_schedules`.
        public var loadAgencySchedules: Bool
        public var agencyScheduleReloadInterval: Duration

        public init(
            leaseName: String = "trellis-scheduler",
            holderID: String = JobWorker.makeWorkerID(),
            leaseDuration: Duration = .seconds(15),
            tickInterval: Duration = .seconds(1),
            onTimeWindow: Duration = .seconds(60),
            loadAgencySchedules: Bool = true,
            agencyScheduleReloadInterval: Duration = .seconds(30)
        ) {
            self.leaseName = leaseName
            self.holderID = holderID
            self.leaseDuration = leaseDuration
            self.tickInterval = tickInterval
            self.onTimeWindow = onTimeWindow
            self.loadAgencySchedules = loadAgencySchedules
            self.agencyScheduleReloadInterval = agencyScheduleReloadInterval
        }
    }

    public struct TickReport: Sendable {
        public var isLeader: Bool
        public var fired: [FiredSlot]
    }

    private struct State {
        /// Per schedule: the latest fire time already handled (enqueued, skipped, or "first seen at").
        var cursors: [String: Date] = [:]
        var agencySchedules: [CronSchedule] = []
        var agencySchedulesLoadedAt: ContinuousClock.Instant?
        var isLeader = false
        var badAgencySchedules: Set<String> = []
    }

    public let configuration: Configuration
    let client: PostgresClient
    let schedules: [CronSchedule]
    let now: @Sendable () -> Date
    let logger: Logger
    let queue: JobQueue
    private let state = Mutex(State())

    public init(
        client: PostgresClient,
        schedules: [CronSchedule],
        configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "trellis.scheduler")
    ) {
        self.client = client
        self.schedules = schedules
        self.configuration = configuration
        self.now = now
        self.logger = logger
        self.queue = JobQueue(client: client, logger: logger)
    }

    public var isLeader: Bool { state.withLock { $0.isLeader } }

    public func run() async throws {
        logger.info("scheduler starting", metadata: ["holder": "\(configuration.holderID)", "schedules": "\(schedules.map(\.name))"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.tick()
                } catch {
                    if Task.isCancelled { break }
                    self.logger.error("scheduler tick failed", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: self.configuration.tickInterval)
            }
        }
        if isLeader {
            try? await queue.releaseLeadership(configuration.leaseName, holder: configuration.holderID)
            state.withLock { $0.isLeader = false }
        }
        logger.info("scheduler stopped")
    }

    /// Takes or renews the leader lease; when leading, enqueues the due slots.
    @discardableResult
    public func tick() async throws -> TickReport {
        let leading = try await acquireLeadership()
        guard leading else { return TickReport(isLeader: false, fired: []) }
        return TickReport(isLeader: true, fired: try await enqueueDueSlots())
    }

    func acquireLeadership() async throws -> Bool {
        let leading = try await queue.acquireLeadership(
            configuration.leaseName, holder: configuration.holderID, lease: configuration.leaseDuration)
        let changed = state.withLock { state -> Bool in
            defer { state.isLeader = leading }
            return state.isLeader != leading
        }
        if changed { logger.info(leading ? "became the scheduler leader" : "lost the scheduler leadership") }
        return leading
    }

    /// Enqueues every due slot, without looking at the leader lease (the slot row makes that safe).
    func enqueueDueSlots() async throws -> [FiredSlot] {
        let now = self.now()
        let all = schedules + (try await agencySchedules())
        guard !all.isEmpty else { return [] }
        let latest = try await queue.latestCronSlots(all.map(\.name))
        var fired: [FiredSlot] = []
        for schedule in all {
            let remembered = state.withLock { $0.cursors[schedule.name] }
            let cursor: Date
            switch (latest[schedule.name], remembered) {
            case (let a?, let b?): cursor = max(a, b)
            case (let a?, nil): cursor = a
            case (nil, let b?): cursor = b
            case (nil, nil):
                // First sight of a schedule that never fired: start from now (no back-fill).
                state.withLock { $0.cursors[schedule.name] = now }
                continue
            }
            // Bound the catch-up after a very long downtime.
            let from = max(cursor, now.addingTimeInterval(-400 * 86400))
            var due: Date? = nil
            var probe = from
            while let next = schedule.expression.nextFireTime(after: probe, in: schedule.timeZone), next <= now {
                due = next
                probe = next
            }
            guard let due else { continue }
            state.withLock { $0.cursors[schedule.name] = due }
            if schedule.missedSlots == .skip && now.timeIntervalSince(due) > configuration.onTimeWindow.seconds {
                logger.info("missed cron slot skipped", metadata: ["schedule": "\(schedule.name)", "fire_time": "\(due)"])
                continue
            }
            if let slot = try await enqueueSlot(schedule, fireTime: due) {
                fired.append(slot)
            }
        }
        return fired
    }

    /// Claims `(schedule, fireTime)` and enqueues its job in one transaction; nil if the slot was taken.
    func enqueueSlot(_ schedule: CronSchedule, fireTime: Date) async throws -> FiredSlot? {
        let queue = self.queue
        let logger = self.logger
        var job = schedule.job
        job.runAt = nil
        job.metadata = JobJSON.merging(
            job.metadata, ["cron_schedule": schedule.name, "cron_fire_time": Self.iso8601(fireTime)]
        )
        guard let result = try await queue.enqueueCronSlot(schedule.name, fireTime: fireTime, job: job) else { return nil }
        logger.info(
            "cron slot enqueued",
            metadata: ["schedule": "\(schedule.name)", "fire_time": "\(fireTime)", "job_id": "\(result.jobID)"]
        )
        return FiredSlot(schedule: schedule.name, fireTime: fireTime, result: result)
    }

    private func agencySchedules() async throws -> [CronSchedule] {
        guard configuration.loadAgencySchedules else { return [] }
        let cached = state.withLock { state -> [CronSchedule]? in
            guard let loaded = state.agencySchedulesLoadedAt,
                ContinuousClock.now - loaded < configuration.agencyScheduleReloadInterval
            else { return nil }
            return state.agencySchedules
        }
        if let cached { return cached }
        var loaded: [CronSchedule] = []
        var bad: [String] = []
        let rows = try await queue.agencyScheduleRows()
        for try await (agency, name, expression, zone, kind, args, queueName, priority, maxAttempts, missed) in rows.decode(
            (UUID, String, String, String, String, String, String, Int64, Int64, String).self
        ) {
            let fullName = "agency:\(agency.uuidString.lowercased()):\(name)"
            do {
                let job = NewJob(
                    kind: kind, queue: queueName, args: Data(args.utf8), agencyID: agency, priority: Int(priority),
                    maxAttempts: Int(maxAttempts)
                )
                loaded.append(
                    try CronSchedule(
                        name: fullName, expression: expression, timeZone: zone, job: job,
                        missedSlots: try CronSchedule.MissedSlotPolicy(rawValue: missed)
                            ?? { throw UnknownJobValue(column: "trellis_cron_schedules.missed_slots", value: missed) }()
                    )
                )
            } catch {
                bad.append("\(fullName): \(error)")
            }
        }
        let newlyBad = state.withLock { state -> [String] in
            state.agencySchedules = loaded
            state.agencySchedulesLoadedAt = .now
            let fresh = bad.filter { !state.badAgencySchedules.contains($0) }
            state.badAgencySchedules = Set(bad)
            return fresh
        }
        for problem in newlyBad { logger.error("ignoring an invalid agency schedule", metadata: ["problem": "\(problem)"]) }
        return loaded
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
