import Foundation

/// A reusable onboarding plan: ordered phases of tasks with durations in working time, links,
/// milestones, the role responsible and a checklist. Instantiated into plan tasks for one client
/// on that client's calendar (a "day" is the calendar's own day length).
public struct OnboardingTemplate: Sendable, Hashable, Codable {
    public var name: String
    public var description: String
    public var phases: [TemplatePhase]

    public init(name: String, description: String, phases: [TemplatePhase]) {
        self.name = name
        self.description = description
        self.phases = phases
    }

    public var tasks: [TemplateTask] { phases.flatMap(\.tasks) }
}

public struct TemplatePhase: Sendable, Hashable, Codable {
    /// Stable key, unique across the template's phases and tasks.
    public var key: String
    public var name: String
    public var tasks: [TemplateTask]

    public init(key: String, name: String, tasks: [TemplateTask]) {
        self.key = key
        self.name = name
        self.tasks = tasks
    }
}

public struct TemplateTask: Sendable, Hashable, Codable {
    /// Stable key, unique across the template's phases and tasks.
    public var key: String
    public var name: String
    public var duration: WorkDuration
    public var isMilestone: Bool
    /// A role catalog key such as "community-manager" or "public-relations".
    public var roleKey: String
    public var checklist: [String]
    /// Links from other tasks of the template to this one.
    public var dependencies: [TemplateDependency]

    public init(key: String, name: String, duration: WorkDuration, isMilestone: Bool = false, roleKey: String,
                checklist: [String] = [], dependencies: [TemplateDependency] = []) {
        self.key = key
        self.name = name
        self.duration = duration
        self.isMilestone = isMilestone
        self.roleKey = roleKey
        self.checklist = checklist
        self.dependencies = dependencies
    }

    /// A zero-length milestone.
    public static func milestone(_ key: String, _ name: String, roleKey: String, checklist: [String] = [],
                                 after dependencies: [TemplateDependency]) -> TemplateTask {
        TemplateTask(key: key, name: name, duration: .days(0), isMilestone: true, roleKey: roleKey, checklist: checklist, dependencies: dependencies)
    }
}

public struct TemplateDependency: Sendable, Hashable, Codable {
    public var predecessorKey: String
    public var kind: DependencyKind
    /// Negative for a lead.
    public var lag: WorkDuration

    public init(predecessorKey: String, kind: DependencyKind = .finishToStart, lag: WorkDuration = .days(0)) {
        self.predecessorKey = predecessorKey
        self.kind = kind
        self.lag = lag
    }

    public static func fs(_ key: String, lag: WorkDuration = .days(0)) -> TemplateDependency { .init(predecessorKey: key, kind: .finishToStart, lag: lag) }
    public static func ss(_ key: String, lag: WorkDuration = .days(0)) -> TemplateDependency { .init(predecessorKey: key, kind: .startToStart, lag: lag) }
    public static func ff(_ key: String, lag: WorkDuration = .days(0)) -> TemplateDependency { .init(predecessorKey: key, kind: .finishToFinish, lag: lag) }
    public static func sf(_ key: String, lag: WorkDuration = .days(0)) -> TemplateDependency { .init(predecessorKey: key, kind: .startToFinish, lag: lag) }
}

/// An amount of working time in the unit people think in. Days are resolved with the calendar's own
/// day length when a template is instantiated (a part-time day is 5 hours).
public struct WorkDuration: Sendable, Hashable, Codable, CustomStringConvertible {
    public var amount: Int
    public var unit: WorkDurationUnit

    public init(amount: Int, unit: WorkDurationUnit) {
        self.amount = amount
        self.unit = unit
    }

    public static func minutes(_ amount: Int) -> WorkDuration { .init(amount: amount, unit: .minutes) }
    public static func hours(_ amount: Int) -> WorkDuration { .init(amount: amount, unit: .hours) }
    public static func days(_ amount: Int) -> WorkDuration { .init(amount: amount, unit: .days) }

    /// Working minutes on a calendar whose day is `minutesPerDay` long.
    public func minutes(minutesPerDay: Int) -> Int {
        switch unit {
        case .minutes: amount
        case .hours: amount * 60
        case .days: amount * minutesPerDay
        }
    }

    public var description: String { "\(amount) \(unit.rawValue)" }
}

public enum WorkDurationUnit: String, Sendable, Hashable, Codable, CaseIterable {
    case minutes, hours, days
}
