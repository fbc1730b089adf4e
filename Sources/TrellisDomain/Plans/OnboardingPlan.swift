import Foundation

/// The dates the calendar feeds last published for a task, and how many times they changed (iCalendar
/// `SEQUENCE`). A task whose schedule leaves its published dates has moved.
public struct PublishedDates: Sendable, Hashable {
    public var sequence: Int
    public var start: Date?
    public var finish: Date?
    /// Total slack in working minutes as the same schedule left it (nil until scheduled): what read models judge
    /// health and the critical path by without scheduling again.
    public var slackMinutes: Int?

    public init(sequence: Int = 0, start: Date? = nil, finish: Date? = nil, slackMinutes: Int? = nil) {
        self.sequence = sequence
        self.start = start
        self.finish = finish
        self.slackMinutes = slackMinutes
    }
}

/// A task as the agency plans it: what the engine schedules, plus who does it and what it involves.
public struct PlannedTask: Sendable, Hashable {
    public var id: TaskID
    /// Order among the plan's tasks (the outline is `parentID` and `position`).
    public var position: Int
    public var parentID: TaskID?
    public var name: String
    /// Working minutes on the plan's calendar; 0 is a milestone.
    public var durationMinutes: Int
    public var roleKey: String?
    public var assigneeID: MemberID?
    public var checklist: [String]
    public var constraint: TaskConstraint?
    public var percentComplete: Int
    public var actualStart: Date?
    public var actualFinish: Date?
    public var published: PublishedDates
    /// Waiting on the client (an approval, a document to send): the portal lists it for them to mark done.
    public var clientAction: Bool
    /// When the client marked it done, and what they said.
    public var clientDone: ClientDone?

    public init(
        id: TaskID, position: Int, parentID: TaskID? = nil, name: String, durationMinutes: Int, roleKey: String? = nil,
        assigneeID: MemberID? = nil, checklist: [String] = [], constraint: TaskConstraint? = nil, percentComplete: Int = 0,
        actualStart: Date? = nil, actualFinish: Date? = nil, published: PublishedDates = PublishedDates(), clientAction: Bool = false,
        clientDone: ClientDone? = nil
    ) {
        self.clientAction = clientAction
        self.clientDone = clientDone
        self.id = id
        self.position = position
        self.parentID = parentID
        self.name = name
        self.durationMinutes = durationMinutes
        self.roleKey = roleKey
        self.assigneeID = assigneeID
        self.checklist = checklist
        self.constraint = constraint
        self.percentComplete = percentComplete
        self.actualStart = actualStart
        self.actualFinish = actualFinish
        self.published = published
    }
}

/// A client's answer to a task waiting on them.
public struct ClientDone: Sendable, Hashable {
    public var at: Date
    public var comment: String

    public init(at: Date, comment: String) {
        self.at = at
        self.comment = comment
    }
}

/// A dependency between two tasks of one plan.
public struct PlanLink: Sendable, Hashable {
    public var predecessor: TaskID
    public var successor: TaskID
    public var kind: DependencyKind
    /// Working minutes; negative is a lead.
    public var lagMinutes: Int

    public init(predecessor: TaskID, successor: TaskID, kind: DependencyKind = .finishToStart, lagMinutes: Int = 0) {
        self.predecessor = predecessor
        self.successor = successor
        self.kind = kind
        self.lagMinutes = lagMinutes
    }
}

/// A scheduled task whose dates left the ones published before: what an assignee is told and a
/// `plan.rescheduled` webhook carries.
public struct TaskMove: Sendable, Hashable {
    public var task: TaskID
    public var name: String
    public var assignee: MemberID?
    public var start: Date
    public var finish: Date
    public var previousStart: Date
    public var previousFinish: Date
}

/// An onboarding plan: its tasks and links on the client's working calendar. Every change goes through
/// `apply(_:)`, which validates it (naming every failing field) and says what changed, so that the store
/// writes only that; `schedule()` then computes the timeline, and `publish(_:)` records its dates.
public struct OnboardingPlan: Sendable {
    public var id: PlanID
    public var clientID: ClientID
    public var name: String
    /// The first working minute of the plan.
    public var startsAt: Date
    public var calendar: WorkCalendar
    /// In outline order (`position`, then id).
    public var tasks: [PlannedTask]
    public var links: [PlanLink]

    /// A plan stays a size the engine, the timeline and the feeds answer in time.
    public static let defaultMaxTasks = 5_000
    /// Durations and lags in minutes of working time: a million is years of any calendar, and fits the columns.
    public static let maxMinutes = 1_000_000
    /// Plans start in this century: the working calendars are computed over a bounded span of years, and a
    /// plan dated in year 2 is a typo, not an engagement.
    public static let startRange = LocalDate(year: 2000, month: 1, day: 1)!...LocalDate(year: 2099, month: 12, day: 31)!

    public init(id: PlanID, clientID: ClientID, name: String, startsAt: Date, calendar: WorkCalendar, tasks: [PlannedTask], links: [PlanLink]) {
        self.id = id
        self.clientID = clientID
        self.name = name
        self.startsAt = startsAt
        self.calendar = calendar
        self.tasks = tasks
        self.links = links
    }

    public func task(_ id: TaskID) -> PlannedTask? { tasks.first { $0.id == id } }

    /// The engine's input.
    public var schedulePlan: SchedulePlan {
        SchedulePlan(
            start: startsAt, calendar: calendar,
            tasks: tasks.map { task in
                PlanTask(
                    id: task.id.description, name: task.name, durationMinutes: task.durationMinutes,
                    parentID: task.parentID?.description, constraint: task.constraint,
                    percentComplete: task.percentComplete, actualStart: task.actualStart, actualFinish: task.actualFinish)
            },
            dependencies: links.map {
                TaskDependency(predecessorID: $0.predecessor.description, successorID: $0.successor.description,
                               kind: $0.kind, lagMinutes: $0.lagMinutes)
            })
    }

    /// Schedules the plan; a plan that cannot be scheduled (a cycle, a phase that cannot take a link)
    /// is refused with the names of the tasks involved.
    public func schedule() throws(PlanNotSchedulable) -> Timeline {
        do {
            return try Scheduler.schedule(schedulePlan)
        } catch {
            throw PlanNotSchedulable(error: error, taskNames: Dictionary(tasks.map { ($0.id.description, $0.name) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    /// Records `timeline`'s dates as the published ones: a task whose dates changed gets the next
    /// sequence. Returns the tasks (not phases) that moved from dates published before, and marks every
    /// changed task in `delta`.
    public mutating func publish(_ timeline: Timeline, into delta: inout PlanDelta) -> [TaskMove] {
        let scheduled = Dictionary(timeline.tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var moves: [TaskMove] = []
        for index in tasks.indices {
            let task = tasks[index]
            guard let now = scheduled[task.id.description] else { continue }
            let moved = task.published.start != now.earlyStart || task.published.finish != now.earlyFinish
            if !moved {
                // Same dates, other slack (a parallel branch grew): stored for the read models, not a move.
                if task.published.slackMinutes != now.totalSlack {
                    tasks[index].published.slackMinutes = now.totalSlack
                    delta.touch(task.id)
                }
                continue
            }
            if let oldStart = task.published.start, let oldFinish = task.published.finish, !now.isSummary {
                moves.append(TaskMove(task: task.id, name: task.name, assignee: task.assigneeID, start: now.earlyStart, finish: now.earlyFinish,
                                      previousStart: oldStart, previousFinish: oldFinish))
            }
            tasks[index].published = PublishedDates(
                sequence: task.published.start == nil ? 0 : task.published.sequence + 1, start: now.earlyStart, finish: now.earlyFinish,
                slackMinutes: now.totalSlack)
            delta.touch(task.id)
        }
        return moves
    }
}

/// A plan the engine refused, with the task names that explain why.
public struct PlanNotSchedulable: Error, Sendable {
    public var error: SchedulingError
    public var taskNames: [String: String]

    public init(error: SchedulingError, taskNames: [String: String]) {
        self.error = error
        self.taskNames = taskNames
    }

    /// The refusal as field errors a person can act on.
    public var fieldErrors: [FieldError] {
        func named(_ ids: [String]) -> String { ids.map { "\(taskNames[$0] ?? $0) (\($0))" }.joined(separator: " → ") }
        switch error {
        case .cycle(let ids): return [FieldError("dependencies", "these links form a cycle: \(named(ids + ids.prefix(1)))")]
        case .unknownTaskIDs(let ids): return [FieldError("dependencies", "unknown tasks \(ids.joined(separator: ", "))")]
        case .selfDependency(let ids): return [FieldError("dependencies", "\(named(ids)) depends on itself")]
        case .duplicateTaskID(let id): return [FieldError("tasks", "duplicate task \(id)")]
        case .unknownParent(let task, let parent): return [FieldError("parentId", "\(named([task])) has an unknown parent \(parent)")]
        case .parentCycle(let ids): return [FieldError("parentId", "the parent chain loops: \(named(ids))")]
        case .negativeDuration(let id): return [FieldError("durationMinutes", "\(named([id])) has a negative duration")]
        case .invalidPercentComplete(let id): return [FieldError("percentComplete", "\(named([id])) must be 0–100")]
        case .actualFinishBeforeActualStart(let id): return [FieldError("actualFinish", "\(named([id])) finishes before it starts")]
        case .unsupportedSummaryLink(let p, let s): return [FieldError("dependencies", "a phase cannot take this link: \(named([p])) → \(named([s]))")]
        case .beyondHorizon(let id): return [FieldError("tasks", "the schedule runs past the calendar's horizon\(id.map { " at \(named([$0]))" } ?? "")")]
        }
    }
}
