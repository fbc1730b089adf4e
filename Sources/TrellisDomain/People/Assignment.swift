/// How much of a person an assignment takes.
public enum Allocation: Sendable, Hashable {
    /// Percent of the person's weekly capacity.
    case percent(Double)
    /// Fixed hours a week.
    case hoursPerWeek(Double)

    /// Hours in a full working week for a person of that capacity.
    public func weeklyHours(capacity: Double) -> Double {
        switch self {
        case .percent(let p): return capacity * p / 100
        case .hoursPerWeek(let h): return h
        }
    }
}

/// A hard assignment is committed; a soft one is tentative (a pitch, a maybe) and is shown apart.
public enum Commitment: String, Sendable, Codable, CaseIterable {
    case hard, soft
}

/// A person holding a role for a client at an allocation between two dates.
public struct AssignmentDraft: Sendable, Hashable {
    public var allocation: Allocation
    public var startsOn: LocalDate
    public var endsOn: LocalDate
    public var commitment: Commitment

    public init(allocation: Allocation, startsOn: LocalDate, endsOn: LocalDate, commitment: Commitment) {
        self.allocation = allocation
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.commitment = commitment
    }

    public func validate() throws(ValidationError) {
        var errors = FieldErrors()
        switch allocation {
        case .percent(let p):
            // Stored with two decimals: anything below 0.01 would round to 0.
            if !p.isFinite || p < 0.01 || p > 100 { errors.add("allocation.percent", "must be from 0.01 to 100") }
        case .hoursPerWeek(let h):
            if !h.isFinite || h < 0.01 || h > 80 { errors.add("allocation.hoursPerWeek", "must be from 0.01 to 80") }
        }
        if endsOn < startsOn { errors.add("endsOn", "must not be before startsOn") }
        try errors.check()
    }
}
