import Foundation

/// A field of a patch: left as it is, or set (possibly to nothing, for an optional field).
public enum Patch<Value: Sendable & Hashable>: Sendable, Hashable {
    case unchanged
    case set(Value)

    func applied(to current: Value) -> Value {
        if case .set(let value) = self { return value }
        return current
    }
}

/// A duration or a lag as a person gives it: working minutes, hours, or days of the plan's own calendar
/// (a day is the calendar's working day, 5 hours on a part-time calendar).
public enum PlanDuration: Sendable, Hashable {
    case minutes(Int)
    case hours(Double)
    case days(Double)

    /// The JSON field this unit is given in (`durationMinutes`, `lagDays`…).
    public func field(_ prefix: String) -> String {
        switch self {
        case .minutes: "\(prefix)Minutes"
        case .hours: "\(prefix)Hours"
        case .days: "\(prefix)Days"
        }
    }

    /// Whole working minutes on `calendar`.
    public func minutes(on calendar: WorkCalendar) -> Double {
        switch self {
        case .minutes(let m): Double(m)
        case .hours(let h): h * 60
        case .days(let d): d * Double(calendar.minutesPerDay)
        }
    }
}

/// A change to one task: every field optional; a new task needs a name and a duration.
public struct TaskPatch: Sendable, Hashable {
    public var name: String?
    public var parentID: Patch<TaskID?> = .unchanged
    public var position: Int?
    public var duration: PlanDuration?
    public var roleKey: Patch<String?> = .unchanged
    public var assigneeID: Patch<MemberID?> = .unchanged
    public var checklist: [String]?
    public var constraint: Patch<TaskConstraint?> = .unchanged
    public var percentComplete: Int?
    public var actualStart: Patch<Date?> = .unchanged
    public var actualFinish: Patch<Date?> = .unchanged
    /// Marks the task as waiting on the client (or no longer).
    public var clientAction: Bool?

    public init() {}
}

/// A new dependency between two tasks of the plan.
public struct NewLink: Sendable, Hashable {
    public var predecessor: TaskID
    public var successor: TaskID
    public var kind: DependencyKind
    public var lag: PlanDuration?

    public init(predecessor: TaskID, successor: TaskID, kind: DependencyKind = .finishToStart, lag: PlanDuration? = nil) {
        self.predecessor = predecessor
        self.successor = successor
        self.kind = kind
        self.lag = lag
    }
}

/// Every way a plan changes, as a value: the JSON API, the web pages and the jobs build these and hand
/// them to the same operation.
public enum PlanChange: Sendable, Hashable {
    /// Renames the plan and/or moves its start to the first working minute on or after a date.
    case update(name: String?, startsOn: LocalDate?)
    case archive
    case addTask(TaskID, TaskPatch)
    case updateTask(TaskID, TaskPatch)
    /// Removes a task; its children move up to its parent, its links go with it.
    case removeTask(TaskID)
    case addLink(NewLink)
    case removeLink(predecessor: TaskID, successor: TaskID)
    /// The client marks a task waiting on them done, with a comment, at `at` (the caller's clock): it is then 100 % done.
    case completeClientTask(TaskID, comment: String, at: Date)
}

/// Why a change cannot be applied, beyond invalid fields.
public enum PlanChangeError: Error, Sendable, Hashable {
    /// Fields of the change that are wrong, each named.
    case invalid([FieldError])
    /// The task the change names is not in the plan.
    case unknownTask
    /// The dependency the change names is not in the plan.
    case unknownLink
    /// A field names a task that is not in the plan (`parentId`, `predecessorId`, `successorId`).
    case unknownReference(field: String)
    /// The two tasks are already linked.
    case duplicateLink
    /// The task is not waiting on the client, or the client already marked it done.
    case notWaitingOnClient
}

/// What one change touched, so the store writes only that.
public struct PlanDelta: Sendable, Hashable {
    /// The plan's own fields (name, start).
    public var planFields = false
    public var archived = false
    public private(set) var insertedTasks: Set<TaskID> = []
    public private(set) var updatedTasks: Set<TaskID> = []
    public var deletedTasks: Set<TaskID> = []
    public var insertedLinks: [PlanLink] = []
    public var deletedLinks: [PlanLink] = []

    public init() {}

    mutating func insert(_ task: TaskID) { insertedTasks.insert(task) }

    /// Marks a task changed (a new task stays new).
    public mutating func touch(_ task: TaskID) {
        if !insertedTasks.contains(task) { updatedTasks.insert(task) }
    }

    /// New or changed tasks: the rows to write.
    public var writtenTasks: Set<TaskID> { insertedTasks.union(updatedTasks) }
}

extension OnboardingPlan {
    /// Applies `change`, checking every rule a plan keeps; the plan is unchanged when it throws.
    public mutating func apply(_ change: PlanChange, maxTasks: Int = OnboardingPlan.defaultMaxTasks) throws(PlanChangeError) -> PlanDelta {
        var delta = PlanDelta()
        switch change {
        case .update(let name, let startsOn):
            var errors = FieldErrors()
            if let name, name.trimmingCharacters(in: .whitespaces).isEmpty { errors.add("name", "must not be empty") }
            var start: Date?
            if let startsOn {
                if !Self.startRange.contains(startsOn) {
                    errors.add("startsOn", "must be a date from 2000-01-01 to 2099-12-31")
                } else if let first = calendar.firstWorkingMinute(on: startsOn) {
                    start = first
                } else {
                    errors.add("startsOn", "the calendar has no working time on or after this date")
                }
            }
            if !errors.errors.isEmpty { throw .invalid(errors.errors) }
            if let name { self.name = name }
            if let start { startsAt = start }
            delta.planFields = name != nil || start != nil
        case .archive:
            delta.archived = true
        case .addTask(let id, let patch):
            if tasks.count >= maxTasks { throw .invalid([FieldError("tasks", "a plan holds at most \(maxTasks) tasks")]) }
            if task(id) != nil { throw .invalid([FieldError("id", "the plan already has this task")]) }
            let blank = PlannedTask(id: id, position: (tasks.map(\.position).max() ?? -1) + 1, name: "", durationMinutes: 0)
            let task = try patched(blank, with: patch, isNew: true)
            tasks.append(task)
            delta.insert(id)
        case .updateTask(let id, let patch):
            guard let index = tasks.firstIndex(where: { $0.id == id }) else { throw .unknownTask }
            tasks[index] = try patched(tasks[index], with: patch, isNew: false)
            delta.touch(id)
        case .removeTask(let id):
            guard let removed = task(id) else { throw .unknownTask }
            tasks.removeAll { $0.id == id }
            for index in tasks.indices where tasks[index].parentID == id {
                tasks[index].parentID = removed.parentID
                delta.touch(tasks[index].id)
            }
            links.removeAll { $0.predecessor == id || $0.successor == id }
            delta.deletedTasks.insert(id)
        case .addLink(let new):
            var errors = FieldErrors()
            var lag = 0
            if let given = new.lag {
                let minutes = given.minutes(on: calendar)
                if abs(minutes) > Double(Self.maxMinutes) {
                    errors.add(given.field("lag"), "must be within ±\(Self.maxMinutes) minutes of working time")
                } else {
                    lag = Int(minutes.rounded())
                }
            }
            if new.predecessor == new.successor { errors.add("successorId", "a task cannot depend on itself") }
            if !errors.errors.isEmpty { throw .invalid(errors.errors) }
            if task(new.predecessor) == nil { throw .unknownReference(field: "predecessorId") }
            if task(new.successor) == nil { throw .unknownReference(field: "successorId") }
            if links.contains(where: { $0.predecessor == new.predecessor && $0.successor == new.successor }) { throw .duplicateLink }
            let link = PlanLink(predecessor: new.predecessor, successor: new.successor, kind: new.kind, lagMinutes: lag)
            links.append(link)
            delta.insertedLinks.append(link)
        case .completeClientTask(let id, let comment, let at):
            guard let index = tasks.firstIndex(where: { $0.id == id }) else { throw .unknownTask }
            guard tasks[index].clientAction, tasks[index].clientDone == nil else { throw .notWaitingOnClient }
            let text = comment.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.unicodeScalars.count > 2000 { throw .invalid([FieldError("comment", "must be at most 2000 characters")]) }
            tasks[index].clientDone = ClientDone(at: at, comment: text)
            tasks[index].percentComplete = 100
            delta.touch(id)
        case .removeLink(let predecessor, let successor):
            guard let link = links.first(where: { $0.predecessor == predecessor && $0.successor == successor }) else { throw .unknownLink }
            links.removeAll { $0 == link }
            delta.deletedLinks.append(link)
        }
        return delta
    }

    /// `task` with `patch` applied; every failing field is named at once.
    func patched(_ task: PlannedTask, with patch: TaskPatch, isNew: Bool) throws(PlanChangeError) -> PlannedTask {
        var task = task
        var errors = FieldErrors()
        if let name = patch.name {
            if name.trimmingCharacters(in: .whitespaces).isEmpty { errors.add("name", "must not be empty") }
            task.name = name
        } else if isNew {
            errors.add("name", "is required")
        }
        var unknownParent = false
        if case .set(let parent) = patch.parentID {
            if let parent, parent == task.id { errors.add("parentId", "a task cannot be its own parent") }
            if let parent, parent != task.id, self.task(parent) == nil { unknownParent = true }
            task.parentID = parent
        }
        if let position = patch.position {
            if (0...Self.maxMinutes).contains(position) { task.position = position } else { errors.add("position", "must be from 0 to \(Self.maxMinutes)") }
        }
        if let duration = patch.duration {
            let minutes = duration.minutes(on: calendar)
            if minutes < 0 || minutes > Double(Self.maxMinutes) {
                switch duration {
                case .minutes: errors.add("durationMinutes", minutes < 0 ? "must not be negative" : "must be at most \(Self.maxMinutes)")
                case .hours: errors.add("durationHours", "must be from 0 to \(Self.maxMinutes / 60)")
                case .days: errors.add("durationDays", "must be from 0 to \(Self.maxMinutes) minutes of working time")
                }
            } else {
                task.durationMinutes = Int(minutes.rounded())
            }
        } else if isNew {
            errors.add("durationMinutes", "is required (or durationHours / durationDays; 0 for a milestone)")
        }
        task.roleKey = patch.roleKey.applied(to: task.roleKey)
        task.assigneeID = patch.assigneeID.applied(to: task.assigneeID)
        if let checklist = patch.checklist { task.checklist = checklist }
        task.constraint = patch.constraint.applied(to: task.constraint)
        if let percent = patch.percentComplete {
            if !(0...100).contains(percent) { errors.add("percentComplete", "must be from 0 to 100") }
            task.percentComplete = percent
        }
        task.actualStart = patch.actualStart.applied(to: task.actualStart)
        task.actualFinish = patch.actualFinish.applied(to: task.actualFinish)
        if let clientAction = patch.clientAction {
            task.clientAction = clientAction
            if !clientAction { task.clientDone = nil }
        }
        if let s = task.actualStart, let f = task.actualFinish, f < s { errors.add("actualFinish", "must not be before actualStart") }
        if task.actualFinish != nil && task.actualStart == nil { errors.add("actualStart", "is required once the task has finished") }
        if !errors.errors.isEmpty { throw .invalid(errors.errors) }
        if unknownParent { throw .unknownReference(field: "parentId") }
        return task
    }
}
