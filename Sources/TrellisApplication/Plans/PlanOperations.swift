import Foundation
import Logging
import PostgresNIO
import TrellisDomain
import TrellisQueue
import TrellisStore

/// A plan with its timeline, as every plan operation answers it.
public struct ScheduledPlan: Sendable {
    public var plan: OnboardingPlan
    /// The row's metadata: version (the ETag), template, archive and audit dates.
    public var record: PlanRecord
    public var client: PlanClient
    public var timeline: Timeline
    public var memberNames: [MemberID: String]
    /// Tasks this operation moved from the dates published before.
    public var moved: [TaskMove]

    /// What the renderers take; `generatedAt` is the caller's clock.
    public func export(baseline: BaselineRecord? = nil, generatedAt: Date) -> TimelineExport {
        var details: [String: TaskExportDetails] = [:]
        for task in plan.tasks {
            let id = task.id.description
            details[id] = TaskExportDetails(
                assignee: task.assigneeID.flatMap { memberNames[$0] }, resourceIDs: task.assigneeID.map { [$0.description] } ?? [],
                role: task.roleKey, checklist: task.checklist.map { ChecklistItem($0) }, baseline: baseline?.tasks[id],
                sequence: task.published.sequence)
        }
        return TimelineExport(
            planID: plan.id.description, planName: plan.name, clientName: client.name,
            clientTimeZone: TimeZoneID(plan.calendar.timeZoneID) ?? TimeZoneID("UTC")!, plan: plan.schedulePlan, timeline: timeline,
            taskDetails: details, generatedAt: generatedAt)
    }
}

/// The plan use cases: each one transaction that checks who may do it, locks what it changes, loads the plan
/// once, applies the change in the domain, schedules, writes what changed and enqueues the consequences.
public struct PlanOperations: Sendable {
    let database: TenantDatabase
    let plans: PlanStore
    let queue: JobQueue
    let maxTasksPerPlan: Int

    public init(database: TenantDatabase, maxTasksPerPlan: Int = OnboardingPlan.defaultMaxTasks) {
        self.database = database
        self.plans = PlanStore(logger: database.logger)
        self.queue = JobQueue(client: database.client, logger: database.logger)
        self.maxTasksPerPlan = maxTasksPerPlan
    }

    /// Applies `change` to the plan if it is still at `expectedVersion` (nil: whatever is current).
    public func edit(_ id: PlanID, expectedVersion: Int?, _ change: PlanChange, as principal: Principal) async throws -> ScheduledPlan {
        try principal.require(.writePlans)
        let (plans, queue, maxTasks) = (self.plans, self.queue, self.maxTasksPerPlan)
        return try await database.withTenant(principal.agencyID) { connection in
            var loaded = try await plans.load(id, lock: true, on: connection)
            try Self.checkVisible(loaded.client.id, to: principal)
            if let expectedVersion, expectedVersion != loaded.record.version {
                throw StoreError.versionConflict(expected: expectedVersion, actual: loaded.record.version)
            }
            var delta = try loaded.plan.apply(change, maxTasks: maxTasks)
            return try await Self.scheduleAndWrite(
                &loaded, delta: &delta, because: "\(loaded.plan.name) was edited", bumpVersion: true, 
                plans: plans, queue: queue, on: connection)
        }
    }

    /// Instantiates a template for a client from `startsOn` on the client's calendar; each task's assignee is
    /// whoever holds its responsible role for the client on that date.
    public func create(
        client: ClientID, template: UUID, startsOn: LocalDate, name: String?, as principal: Principal
    ) async throws -> ScheduledPlan {
        try principal.require(.writePlans)
        try Self.checkVisible(client, to: principal)
        var errors = FieldErrors()
        if !OnboardingPlan.startRange.contains(startsOn) { errors.add("startsOn", "must be a date from 2000-01-01 to 2099-12-31") }
        try errors.check()
        let (plans, queue) = (self.plans, self.queue)
        return try await database.withTenant(principal.agencyID) { connection in
            let id = try await plans.createFromTemplate(
                client: client.rawValue, templateID: template, startsOn: startsOn, name: name, on: connection)
            return try await Self.scheduleNew(PlanID(id), plans: plans, queue: queue, on: connection)
        }
    }

    /// Schedules a plan just written in `connection`'s transaction and records its dates (nothing moved yet).
    public static func scheduleNew(
        _ id: PlanID, plans: PlanStore, queue: JobQueue, on connection: TenantConnection
    ) async throws -> ScheduledPlan {
        var loaded = try await plans.load(id, lock: false, on: connection)
        var delta = PlanDelta()
        return try await scheduleAndWrite(&loaded, delta: &delta, because: "", bumpVersion: false, plans: plans, queue: queue, on: connection)
    }

    /// The plan and its timeline, as it stands.
    public func read(_ id: PlanID, as principal: Principal) async throws -> ScheduledPlan {
        try principal.require(.readPlans)
        let plans = self.plans
        return try await database.withTenantReading(principal.agencyID) { connection in
            let loaded = try await plans.load(id, lock: false, on: connection)
            try Self.checkVisible(loaded.client.id, to: principal)
            return ScheduledPlan(plan: loaded.plan, record: loaded.record, client: loaded.client, timeline: try loaded.plan.schedule(),
                                 memberNames: loaded.memberNames, moved: [])
        }
    }

    /// The plan scheduled now and its latest baseline (the one saved last), in one transaction: what the plan page shows.
    public func readWithLatestBaseline(_ id: PlanID, as principal: Principal) async throws -> (ScheduledPlan, BaselineRecord?) {
        try principal.require(.readPlans)
        let plans = self.plans
        return try await database.withTenantReading(principal.agencyID) { connection in
            let loaded = try await plans.load(id, lock: false, on: connection)
            try Self.checkVisible(loaded.client.id, to: principal)
            let latest = try await plans.baselines(plan: id.rawValue, on: connection).last
            return (ScheduledPlan(plan: loaded.plan, record: loaded.record, client: loaded.client, timeline: try loaded.plan.schedule(),
                                  memberNames: loaded.memberNames, moved: []), latest)
        }
    }

    /// The timeline, compared with a saved baseline when one is named.
    public func timeline(_ id: PlanID, baseline name: String?, as principal: Principal) async throws -> (ScheduledPlan, BaselineRecord?) {
        try principal.require(.readPlans)
        let plans = self.plans
        return try await database.withTenantReading(principal.agencyID) { connection in
            let loaded = try await plans.load(id, lock: false, on: connection)
            try Self.checkVisible(loaded.client.id, to: principal)
            var baseline: BaselineRecord?
            if let name {
                baseline = try await plans.baselines(plan: id.rawValue, on: connection).first { $0.name == name }
                if baseline == nil { throw BaselineNotFound(name: name) }
            }
            let scheduled = ScheduledPlan(plan: loaded.plan, record: loaded.record, client: loaded.client, timeline: try loaded.plan.schedule(),
                                          memberNames: loaded.memberNames, moved: [])
            return (scheduled, baseline)
        }
    }

    /// Saves the plan's current schedule under `name`.
    public func saveBaseline(_ id: PlanID, name: String, as principal: Principal) async throws -> BaselineRecord {
        try principal.require(.writePlans)
        if name.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError([FieldError("name", "must not be empty")]) }
        let plans = self.plans
        return try await database.withTenant(principal.agencyID) { connection in
            let loaded = try await plans.load(id, lock: false, on: connection)
            try Self.checkVisible(loaded.client.id, to: principal)
            return try await plans.saveBaseline(plan: id.rawValue, name: name, try loaded.plan.schedule(), on: connection)
        }
    }

    /// Replaces a client's working calendar; every active plan of the client is rescheduled by a job that
    /// commits with the change.
    public func replaceCalendar(client: ClientID, _ calendar: WorkCalendar, as principal: Principal) async throws {
        try principal.require(.writeClients)
        try Self.checkVisible(client, to: principal)
        let (plans, queue, logger) = (self.plans, self.queue, database.logger)
        try await database.withTenant(principal.agencyID) { connection in
            try await plans.setCalendar(client: client.rawValue, calendar, on: connection)
            try await Self.enqueueRecompute(client: client, plans: plans, queue: queue, logger: logger, on: connection)
        }
    }

    /// Enqueues one recompute per active plan of `client` on the caller's transaction. A plan whose recompute is
    /// already pending keeps that one.
    @discardableResult
    public static func enqueueRecompute(
        client: ClientID, plans: PlanStore, queue: JobQueue, logger: Logger, on connection: TenantConnection
    ) async throws -> [EnqueueResult] {
        let agency = connection.agency
        let jobs = try await plans.plans(client: client.rawValue, on: connection).map { plan in
            try NewJob(PlanRecompute(planId: plan.id), agencyID: agency.rawValue, maxAttempts: 5, uniqueKey: PlanRecompute.uniqueKey(plan: plan.id))
        }
        return try await queue.enqueueBatch(jobs, on: connection.connection)
    }

    /// Reschedules a plan after its calendar changed (the `plan.recompute` job); returns the tasks that moved.
    public func recompute(_ id: PlanID, agency: AgencyID) async throws -> [TaskMove] {
        let (plans, queue) = (self.plans, self.queue)
        return try await database.withTenant(agency) { connection in
            var loaded = try await plans.load(id, lock: true, on: connection)
            var delta = PlanDelta()
            return try await Self.scheduleAndWrite(
                &loaded, delta: &delta, because: "The working calendar of \(loaded.client.name) changed", bumpVersion: false,
                plans: plans, queue: queue, on: connection
            ).moved
        }
    }

    /// The common end of every change: schedule (a plan the engine refuses rolls the change back), record the
    /// published dates, write the change with the notices of what moved, and tell the webhooks.
    static func scheduleAndWrite(
        _ loaded: inout LoadedPlan, delta: inout PlanDelta, because cause: String, bumpVersion: Bool, plans: PlanStore, queue: JobQueue, extraNotices: [PlanNotice] = [], on connection: TenantConnection
    ) async throws -> ScheduledPlan {
        let timeline = try loaded.plan.schedule()
        let moves = loaded.plan.publish(timeline, into: &delta)
        var record = loaded.record, names = loaded.memberNames
        if bumpVersion || delta != PlanDelta() {
            let unnamed = Set(loaded.plan.tasks.compactMap(\.assigneeID)).subtracting(names.keys)
            let (written, newNames) = try await plans.write(
                delta, of: loaded.plan, notices: extraNotices + PlanMoves.notices(moves, planName: loaded.plan.name, because: cause),
                assignees: unnamed, bumpVersion: bumpVersion, on: connection)
            record = written
            names.merge(newNames) { a, _ in a }
        }
        if !moves.isEmpty {
            try await WebhookEvents.publish(
                .planRescheduled, data: PlanMoves.payload(moves, plan: loaded.plan, finish: timeline.finish), to: loaded.rescheduledWebhooks,
                queue: queue, on: connection)
        }
        return ScheduledPlan(plan: loaded.plan, record: record, client: loaded.client, timeline: timeline, memberNames: names, moved: moves)
    }

    /// The client marks a task waiting on them done, with a comment: it is then 100 % done, its assignee hears of it in
    /// the inbox and the agency's webhooks get `task.client_done`. A client viewer may do this (and nothing else) for
    /// their own client; agency members who write plans may do it for them.
    public func completeClientTask(_ id: PlanID, task: TaskID, comment: String, at: Date, as principal: Principal) async throws -> ScheduledPlan {
        guard principal.role == .clientViewer || TenantPolicy.allows(principal.role, .writePlans) else { throw AccessDenied(action: .writePlans) }
        let (plans, queue, logger) = (self.plans, self.queue, database.logger)
        return try await database.withTenant(principal.agencyID) { connection in
            var loaded = try await plans.load(id, lock: true, on: connection)
            try Self.checkVisible(loaded.client.id, to: principal)
            var delta = try loaded.plan.apply(.completeClientTask(task, comment: comment, at: at))
            guard let done = loaded.plan.task(task) else { throw PlanChangeError.unknownTask }
            let said = done.clientDone?.comment ?? ""
            let notices = done.assigneeID.map {
                [PlanNotice(member: $0, kind: "client_done", title: "\(loaded.client.name) marked “\(done.name)” done",
                            body: said.isEmpty ? "No comment." : "“\(said)”")]
            } ?? []
            let scheduled = try await Self.scheduleAndWrite(
                &loaded, delta: &delta, because: "\(loaded.client.name) marked “\(done.name)” done", bumpVersion: true,
                plans: plans, queue: queue, extraNotices: notices, on: connection)
            try await WebhookEvents.publish(
                .taskClientDone,
                data: ClientDonePayload(planId: id.description, taskId: task.description, name: done.name,
                                        clientId: loaded.client.id.description, comment: said, doneAt: at),
                queue: queue, logger: logger, on: connection)
            return scheduled
        }
    }

    static func checkVisible(_ client: ClientID, to principal: Principal) throws {
        guard TenantPolicy.canSee(client: client, as: principal) else { throw StoreError.notFound("plan") }
    }
}

/// What a `task.client_done` webhook carries.
public struct ClientDonePayload: Codable, Sendable, Hashable {
    public var planId: String
    public var taskId: String
    public var name: String
    public var clientId: String
    public var comment: String
    public var doneAt: Date
}

/// A timeline asked against a baseline the plan does not have.
public struct BaselineNotFound: Error, Sendable, Hashable {
    public var name: String
}
