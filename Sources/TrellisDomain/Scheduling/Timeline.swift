import Foundation

/// What the engine computes from a plan. Dates are instants (render them in the calendar's zone);
/// `…Minute` fields are the same dates as positions on the plan's working-time axis
/// (working minutes after the plan start), and slack is in working minutes.
public struct Timeline: Sendable, Hashable, Codable {
    /// The plan start as given.
    public var start: Date
    /// When the last task finishes.
    public var finish: Date
    /// The plan finish on the working-time axis: the plan's length in working minutes.
    public var finishMinute: Int
    /// One entry per plan task, in the plan's order.
    public var tasks: [ScheduledTask]
    /// Task ids (summaries excluded) of a driving chain of critical tasks, from a task that starts
    /// unconstrained by links to one that finishes the plan.
    public var criticalPath: [String]

    public init(start: Date, finish: Date, finishMinute: Int, tasks: [ScheduledTask], criticalPath: [String]) {
        self.start = start
        self.finish = finish
        self.finishMinute = finishMinute
        self.tasks = tasks
        self.criticalPath = criticalPath
    }

    /// Linear search; index `tasks` yourself for repeated lookups.
    public func task(withID id: String) -> ScheduledTask? { tasks.first { $0.id == id } }
}

public struct ScheduledTask: Sendable, Hashable, Codable {
    public var id: String
    public var isSummary: Bool
    public var isMilestone: Bool
    public var earlyStart: Date
    public var earlyFinish: Date
    public var lateStart: Date
    public var lateFinish: Date
    public var earlyStartMinute: Int
    public var earlyFinishMinute: Int
    public var lateStartMinute: Int
    public var lateFinishMinute: Int
    /// How far the task can slip without delaying the plan finish or missing a deadline; negative when a deadline is already missed.
    public var totalSlack: Int
    /// How far the task can slip without delaying any successor (never negative, never above total slack when that is positive).
    public var freeSlack: Int
    /// Total slack ≤ 0.
    public var isCritical: Bool

    public init(
        id: String, isSummary: Bool, isMilestone: Bool,
        earlyStart: Date, earlyFinish: Date, lateStart: Date, lateFinish: Date,
        earlyStartMinute: Int, earlyFinishMinute: Int, lateStartMinute: Int, lateFinishMinute: Int,
        totalSlack: Int, freeSlack: Int, isCritical: Bool
    ) {
        self.id = id
        self.isSummary = isSummary
        self.isMilestone = isMilestone
        self.earlyStart = earlyStart
        self.earlyFinish = earlyFinish
        self.lateStart = lateStart
        self.lateFinish = lateFinish
        self.earlyStartMinute = earlyStartMinute
        self.earlyFinishMinute = earlyFinishMinute
        self.lateStartMinute = lateStartMinute
        self.lateFinishMinute = lateFinishMinute
        self.totalSlack = totalSlack
        self.freeSlack = freeSlack
        self.isCritical = isCritical
    }

    /// Scheduled working minutes between early start and early finish.
    public var durationMinutes: Int { earlyFinishMinute - earlyStartMinute }
}
