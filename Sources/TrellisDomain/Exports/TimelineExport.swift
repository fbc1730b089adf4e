import Foundation

/// Everything an export needs about one plan: the scheduling input, the computed timeline and the
/// people-facing details the scheduler does not know (who, which role, checklists, baselines).
/// A plain value: the API layer builds it from the database, the renderers only read it.
public struct TimelineExport: Sendable {
    public var planID: String
    public var planName: String
    public var clientName: String
    /// Dates are shown in this zone (normally the zone of the plan's calendar).
    public var clientTimeZone: TimeZoneID
    /// The scheduling input: tasks, links, calendar and start.
    public var plan: SchedulePlan
    /// `Scheduler.schedule(plan)`; one entry per plan task, in plan order.
    public var timeline: Timeline
    /// Per task id; a task without an entry has no assignee, role, checklist or baseline, sequence 0.
    public var taskDetails: [String: TaskExportDetails]
    /// People who can be assigned (MSPDI resources).
    public var resources: [ExportResource]
    /// DTSTAMP of iCalendar events and "generated" notes; the domain never reads the clock.
    public var generatedAt: Date

    public init(
        planID: String, planName: String, clientName: String, clientTimeZone: TimeZoneID,
        plan: SchedulePlan, timeline: Timeline,
        taskDetails: [String: TaskExportDetails] = [:], resources: [ExportResource] = [],
        generatedAt: Date
    ) {
        self.planID = planID
        self.planName = planName
        self.clientName = clientName
        self.clientTimeZone = clientTimeZone
        self.plan = plan
        self.timeline = timeline
        self.taskDetails = taskDetails
        self.resources = resources
        self.generatedAt = generatedAt
    }
}

/// What a person reading the export wants to know about a task beyond its dates.
public struct TaskExportDetails: Sendable, Hashable {
    /// Display name of the person doing the task; defaults to the first assigned resource's name.
    public var assignee: String?
    /// Resources (by `ExportResource.id`) assigned to the task, each at the resource's units.
    public var resourceIDs: [String]
    /// Name of the hybrid role responsible ("Community manager").
    public var role: String?
    public var checklist: [ChecklistItem]
    public var baseline: TaskBaseline?
    /// iCalendar SEQUENCE: the store raises it whenever the task's dates change, so calendar
    /// clients replace the event instead of ignoring the update.
    public var sequence: Int

    public init(assignee: String? = nil, resourceIDs: [String] = [], role: String? = nil,
                checklist: [ChecklistItem] = [], baseline: TaskBaseline? = nil, sequence: Int = 0) {
        self.assignee = assignee
        self.resourceIDs = resourceIDs
        self.role = role
        self.checklist = checklist
        self.baseline = baseline
        self.sequence = sequence
    }
}

public struct ChecklistItem: Sendable, Hashable, Codable, ExpressibleByStringLiteral {
    public var text: String
    public var isDone: Bool

    public init(_ text: String, isDone: Bool = false) {
        self.text = text
        self.isDone = isDone
    }

    public init(stringLiteral value: String) { self.init(value) }
}

/// A saved baseline of one task (MS Project's Baseline 0).
public struct TaskBaseline: Sendable, Hashable, Codable {
    public var start: Date
    public var finish: Date
    /// Working minutes; nil when unknown (MSPDI then omits the baseline duration).
    public var durationMinutes: Int?

    public init(start: Date, finish: Date, durationMinutes: Int? = nil) {
        self.start = start
        self.finish = finish
        self.durationMinutes = durationMinutes
    }
}

/// A person as a project resource.
public struct ExportResource: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var email: String?
    /// Share of the person on this plan, from their hybrid-role allocation: 0.6 for 60 %.
    public var units: Double

    public init(id: String, name: String, email: String? = nil, units: Double = 1) {
        self.id = id
        self.name = name
        self.email = email
        self.units = units
    }
}
