import Foundation

/// Everything the scheduling engine needs: the tasks, the links between them, the working calendar
/// and the instant the plan starts.
public struct SchedulePlan: Sendable, Hashable, Codable {
    public var start: Date
    public var calendar: WorkCalendar
    public var tasks: [PlanTask]
    public var dependencies: [TaskDependency]

    public init(start: Date, calendar: WorkCalendar, tasks: [PlanTask], dependencies: [TaskDependency]) {
        self.start = start
        self.calendar = calendar
        self.tasks = tasks
        self.dependencies = dependencies
    }
}

/// One task of a plan. A task that other tasks name as their `parentID` is a summary (a phase):
/// its own duration, progress and actual dates are ignored and its dates roll up from its children.
public struct PlanTask: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    /// Working minutes; 0 makes a milestone.
    public var durationMinutes: Int
    public var parentID: String?
    public var constraint: TaskConstraint?
    /// 0...100.
    public var percentComplete: Int
    public var actualStart: Date?
    public var actualFinish: Date?

    public init(
        id: String, name: String, durationMinutes: Int, parentID: String? = nil,
        constraint: TaskConstraint? = nil, percentComplete: Int = 0,
        actualStart: Date? = nil, actualFinish: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.durationMinutes = durationMinutes
        self.parentID = parentID
        self.constraint = constraint
        self.percentComplete = percentComplete
        self.actualStart = actualStart
        self.actualFinish = actualFinish
    }

    public var isMilestone: Bool { durationMinutes == 0 }
}

/// A date constraint, MS Project style. Constraints never override links: a link that pushes a task
/// past a "no later than"/"must" date shows up as negative total slack instead.
public struct TaskConstraint: Sendable, Hashable, Codable {
    public var kind: ConstraintKind
    public var date: Date

    public init(kind: ConstraintKind, date: Date) {
        self.kind = kind
        self.date = date
    }

    public static func startNoEarlierThan(_ date: Date) -> TaskConstraint { .init(kind: .startNoEarlierThan, date: date) }
    public static func startNoLaterThan(_ date: Date) -> TaskConstraint { .init(kind: .startNoLaterThan, date: date) }
    public static func finishNoEarlierThan(_ date: Date) -> TaskConstraint { .init(kind: .finishNoEarlierThan, date: date) }
    public static func finishNoLaterThan(_ date: Date) -> TaskConstraint { .init(kind: .finishNoLaterThan, date: date) }
    public static func mustStartOn(_ date: Date) -> TaskConstraint { .init(kind: .mustStartOn, date: date) }
    public static func mustFinishOn(_ date: Date) -> TaskConstraint { .init(kind: .mustFinishOn, date: date) }
}

public enum ConstraintKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Pushes the early start (forward pass).
    case startNoEarlierThan
    /// Caps the late start (backward pass): a deadline for starting.
    case startNoLaterThan
    /// Pushes the early finish.
    case finishNoEarlierThan
    /// Caps the late finish: a deadline.
    case finishNoLaterThan
    /// Both "start no earlier than" and "start no later than" the date.
    case mustStartOn
    /// Both "finish no earlier than" and "finish no later than" the date.
    case mustFinishOn
}

/// A link between two tasks with a lag (negative = lead) in working minutes.
public struct TaskDependency: Sendable, Hashable, Codable {
    public var predecessorID: String
    public var successorID: String
    public var kind: DependencyKind
    public var lagMinutes: Int

    public init(predecessorID: String, successorID: String, kind: DependencyKind = .finishToStart, lagMinutes: Int = 0) {
        self.predecessorID = predecessorID
        self.successorID = successorID
        self.kind = kind
        self.lagMinutes = lagMinutes
    }
}

public enum DependencyKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Successor starts after predecessor finishes (+ lag).
    case finishToStart = "FS"
    /// Successor starts after predecessor starts (+ lag).
    case startToStart = "SS"
    /// Successor finishes after predecessor finishes (+ lag).
    case finishToFinish = "FF"
    /// Successor finishes after predecessor starts (+ lag).
    case startToFinish = "SF"
}

public enum SchedulingError: Error, Sendable, Hashable {
    case duplicateTaskID(String)
    /// Dependencies name tasks that are not in the plan (each id once, in order of appearance).
    case unknownTaskIDs([String])
    /// Tasks linked to themselves.
    case selfDependency(taskIDs: [String])
    /// The tasks of one dependency cycle, in link order, starting with the one listed first in the plan.
    case cycle(taskIDs: [String])
    case unknownParent(taskID: String, parentID: String)
    /// Tasks whose parent chain loops.
    case parentCycle(taskIDs: [String])
    case negativeDuration(taskID: String)
    case invalidPercentComplete(taskID: String)
    case actualFinishBeforeActualStart(taskID: String)
    /// A link a summary cannot take: finish-to-finish or start-to-finish into a summary
    /// (its finish is rolled up, not scheduled), or a link between a summary and its own subtask.
    case unsupportedSummaryLink(predecessorID: String, successorID: String)
    /// The schedule reaches further than the calendar horizon (about 200 years), or a date is out of range.
    case beyondHorizon(taskID: String?)
}
