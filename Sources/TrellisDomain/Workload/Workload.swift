/// The inputs of the workload report for one person.
public struct WorkloadPerson: Sendable {
    public var memberID: MemberID
    public var name: String
    public var weeklyCapacityHours: Double
    public var timeOff: [TimeOff]
    public var assignments: [WorkloadAssignment]

    public init(memberID: MemberID, name: String, weeklyCapacityHours: Double, timeOff: [TimeOff], assignments: [WorkloadAssignment]) {
        self.memberID = memberID
        self.name = name
        self.weeklyCapacityHours = weeklyCapacityHours
        self.timeOff = timeOff
        self.assignments = assignments
    }
}

public struct WorkloadAssignment: Sendable {
    public var assignmentID: String
    public var clientName: String
    public var roleName: String
    public var draft: AssignmentDraft

    public init(assignmentID: String, clientName: String, roleName: String, draft: AssignmentDraft) {
        self.assignmentID = assignmentID
        self.clientName = clientName
        self.roleName = roleName
        self.draft = draft
    }
}

/// One person's load in one ISO week.
public struct WorkloadWeek: Sendable, Hashable, Codable {
    public var week: ISOWeek
    /// Capacity less time off, in hours.
    public var availableHours: Double
    public var hardHours: Double
    public var softHours: Double
    /// Hard allocations exceed what is available.
    public var overAllocated: Bool
    /// Hard plus soft allocations exceed what is available: a warning, not yet a conflict.
    public var overAllocatedIncludingSoft: Bool
    public var utilizationPercent: Double?
}

public struct WorkloadRow: Sendable, Hashable, Codable {
    public var memberId: MemberID
    public var name: String
    public var weeklyCapacityHours: Double
    public var weeks: [WorkloadWeek]
}

/// Workload per person per ISO week: allocations against capacity less time off.
/// Capacity is spread over the five weekdays, so a day off removes a fifth of the week,
/// and an assignment that covers part of a week counts for the weekdays it covers.
public enum Workload {
    static let tolerance = 0.0001

    public static func report(people: [WorkloadPerson], from: ISOWeek, through: ISOWeek) -> [WorkloadRow] {
        var weeks: [ISOWeek] = []
        var week = from
        while week <= through {
            weeks.append(week)
            week = week.next
        }
        return people.map { person in
            WorkloadRow(
                memberId: person.memberID, name: person.name, weeklyCapacityHours: person.weeklyCapacityHours,
                weeks: weeks.map { load(of: person, in: $0) })
        }
    }

    public static func load(of person: WorkloadPerson, in week: ISOWeek) -> WorkloadWeek {
        let weekdays = (0..<5).map { week.monday.adding(days: $0) }
        let daysAway = weekdays.filter { day in person.timeOff.contains { $0.startsOn <= day && day <= $0.endsOn } }.count
        let available = person.weeklyCapacityHours * Double(5 - daysAway) / 5
        var hard = 0.0
        var soft = 0.0
        for assignment in person.assignments {
            let draft = assignment.draft
            let covered = weekdays.filter { draft.startsOn <= $0 && $0 <= draft.endsOn }.count
            guard covered > 0 else { continue }
            let hours = draft.allocation.weeklyHours(capacity: person.weeklyCapacityHours) * Double(covered) / 5
            switch draft.commitment {
            case .hard: hard += hours
            case .soft: soft += hours
            }
        }
        return WorkloadWeek(
            week: week, availableHours: rounded(available), hardHours: rounded(hard), softHours: rounded(soft),
            overAllocated: hard > available + tolerance,
            overAllocatedIncludingSoft: hard + soft > available + tolerance,
            utilizationPercent: available > 0 ? rounded((hard + soft) / available * 100) : nil)
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
