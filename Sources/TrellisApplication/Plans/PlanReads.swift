import Foundation
import PostgresNIO
import TrellisDomain
import TrellisStore

/// A task of a person's, across plans: what their own timeline shows.
public struct AssignedTask: Sendable, Hashable {
    public var plan: PlanID
    public var planName: String
    public var clientName: String
    public var task: TaskID
    public var name: String
    public var start: Date
    public var finish: Date
    /// The plan's calendar zone, in which the dates are shown.
    public var timeZone: TimeZone
    public var isMilestone: Bool
    public var critical: Bool
    public var totalSlackMinutes: Int
    public var percentComplete: Int
}

extension PlanOperations {
    /// What `member` does across the active plans the principal may see, between two local dates (each in its
    /// plan's calendar), by start.
    public func personTimeline(_ member: MemberID, from: LocalDate?, to: LocalDate?, as principal: Principal) async throws -> [AssignedTask] {
        try principal.require(.readPlans)
        if let from, let to, to < from { throw ValidationError([FieldError("to", "must not be before from")]) }
        let (plans, logger) = (self.plans, database.logger)
        return try await database.withTenantReading(principal.agencyID) { connection in
            _ = try await PeopleStore(logger: logger).member(member.rawValue, on: connection)
            var rows: [AssignedTask] = []
            for planID in try await plans.planIDs(assignee: member.rawValue, on: connection) {
                let loaded = try await plans.load(PlanID(planID), lock: false, on: connection)
                guard TenantPolicy.canSee(client: loaded.client.id, as: principal) else { continue }
                let plan = loaded.plan
                let timeline = try plan.schedule()
                let mine = Dictionary(plan.tasks.filter { $0.assigneeID == member }.map { ($0.id.description, $0) }, uniquingKeysWith: { a, _ in a })
                for scheduled in timeline.tasks where !scheduled.isSummary {
                    guard let task = mine[scheduled.id] else { continue }
                    if let from, plan.calendar.localDate(of: scheduled.earlyFinish) < from { continue }
                    if let to, plan.calendar.localDate(of: scheduled.earlyStart) > to { continue }
                    rows.append(AssignedTask(
                        plan: plan.id, planName: plan.name, clientName: loaded.client.name, task: task.id, name: task.name,
                        start: scheduled.earlyStart, finish: scheduled.earlyFinish, timeZone: plan.calendar.timeZone,
                        isMilestone: scheduled.isMilestone, critical: scheduled.isCritical, totalSlackMinutes: scheduled.totalSlack,
                        percentComplete: task.percentComplete))
                }
            }
            return rows.sorted { ($0.start, $0.name) < ($1.start, $1.name) }
        }
    }
}

/// One plan rendered in one format: what `GET …/export`, the `export.bundle` job, the calendar feeds and
/// `trellis export` all produce.
public struct RenderedExport: Sendable {
    public var body: String
    public var fileName: String
    public var contentType: String
    public var taskCount: Int
}

public enum PlanExports {
    /// Renders plan `id` as it stands on `connection`'s transaction (the export document carries the people who
    /// can be assigned, which only exports need); `baselineName` compares with a saved baseline.
    public static func render(
        plan id: UUID, format: ExportFormat, baselineName: String? = nil, now: Date, store: PlanStore, on connection: TenantConnection
    ) async throws -> RenderedExport {
        let document = try await store.document(id, on: connection)
        let timeline = try document.onboardingPlan.schedule()
        var baseline: BaselineRecord?
        if let baselineName {
            baseline = try await store.baselines(plan: id, on: connection).first { $0.name == baselineName }
            if baseline == nil { throw BaselineNotFound(name: baselineName) }
        }
        let export = document.export(timeline: timeline, baseline: baseline, generatedAt: now)
        return RenderedExport(
            body: format.render(export, today: now), fileName: "\(document.client.slug)-\(Slug.make(from: document.plan.name)).\(format.fileExtension)",
            contentType: format.contentType, taskCount: document.tasks.count)
    }
}
