/// A template turned into plan tasks and links for one plan.
public struct TemplateInstance: Sendable, Hashable, Codable {
    /// Phases (as summary tasks) and their tasks, in template order.
    public var tasks: [InstantiatedTask]
    public var dependencies: [TaskDependency]

    public var planTasks: [PlanTask] { tasks.map(\.planTask) }
}

public struct InstantiatedTask: Sendable, Hashable, Codable {
    /// The template key this task came from.
    public var templateKey: String
    public var isPhase: Bool
    public var planTask: PlanTask
    /// nil for phases.
    public var roleKey: String?
    public var checklist: [String]
}

extension OnboardingTemplate {
    /// Plan tasks and links for this template on a calendar (days become the calendar's day length).
    /// Phases become summary tasks. `makeID` turns a template key into a plan task id and must be
    /// injective; see `instantiate(calendar:planID:)` for deterministic ids.
    public func instantiate(calendar: WorkCalendar, makeID: (String) -> String) throws(TemplateValidationError) -> TemplateInstance {
        let issues = validate()
        guard issues.isEmpty else { throw TemplateValidationError(issues: issues) }
        let day = calendar.minutesPerDay
        var ids: [String: String] = [:]
        func id(_ key: String) -> String {
            if let existing = ids[key] { return existing }
            let made = makeID(key)
            ids[key] = made
            return made
        }
        var tasks: [InstantiatedTask] = []
        var links: [TaskDependency] = []
        for phase in phases {
            let phaseID = id(phase.key)
            tasks.append(InstantiatedTask(
                templateKey: phase.key, isPhase: true,
                planTask: PlanTask(id: phaseID, name: phase.name, durationMinutes: 0),
                roleKey: nil, checklist: []
            ))
            for task in phase.tasks {
                let taskID = id(task.key)
                tasks.append(InstantiatedTask(
                    templateKey: task.key, isPhase: false,
                    planTask: PlanTask(id: taskID, name: task.name,
                                       durationMinutes: task.isMilestone ? 0 : task.duration.minutes(minutesPerDay: day),
                                       parentID: phaseID),
                    roleKey: task.roleKey, checklist: task.checklist
                ))
                for d in task.dependencies {
                    links.append(TaskDependency(predecessorID: id(d.predecessorKey), successorID: taskID,
                                                kind: d.kind, lagMinutes: d.lag.minutes(minutesPerDay: day)))
                }
            }
        }
        return TemplateInstance(tasks: tasks, dependencies: links)
    }

    /// Instantiates with ids derived from the plan id and each key (`deterministicID`): the same plan
    /// and template always give the same ids, and no randomness is needed in the domain.
    public func instantiate(calendar: WorkCalendar, planID: String) throws(TemplateValidationError) -> TemplateInstance {
        try instantiate(calendar: calendar) { OnboardingTemplate.deterministicID(planID: planID, key: $0) }
    }

    /// A UUID-formatted id (version 8, RFC 9562 "custom") derived from a plan id and a template key
    /// with two independent 64-bit FNV-1a hashes. Stable across runs and platforms.
    public static func deterministicID(planID: String, key: String) -> String {
        let bytes = Array(planID.utf8) + [0] + Array(key.utf8)
        func fnv(_ basis: UInt64) -> UInt64 {
            var h = basis
            for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
            // Final avalanche (SplitMix64 finalizer) so similar keys differ in every nibble.
            h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
            h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
            return h ^ (h >> 31)
        }
        var high = fnv(0xCBF2_9CE4_8422_2325), low = fnv(0x84222325_CBF29CE4)
        high = (high & ~0xF000) | 0x8000                                  // version 8
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000       // RFC 4122 variant
        func hex(_ v: UInt64, _ digits: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
        let h = hex(high, 16), l = hex(low, 16)
        return "\(h.prefix(8))-\(h.dropFirst(8).prefix(4))-\(h.suffix(4))-\(l.prefix(4))-\(l.suffix(12))"
    }
}
