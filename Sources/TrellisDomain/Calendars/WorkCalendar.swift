import Foundation

/// When work happens for a client engagement (or a person): weekly local working intervals per
/// weekday, an IANA time zone, holidays and one-off exceptions.
///
/// Intervals are local wall-clock times, so 09:00–14:00 stays 09:00–14:00 local across
/// daylight-saving changes; working time is counted in real elapsed minutes.
/// Precedence for a date: an exception (possibly empty = day off) wins, then a holiday, then the weekly pattern.
public struct WorkCalendar: Sendable {
    public let timeZoneID: String
    public let weekly: [Weekday: [WorkingInterval]]
    public let holidays: Set<LocalDate>
    /// Dates with their own working intervals; an empty list makes the date a day off.
    public let exceptions: [LocalDate: [WorkingInterval]]

    public let timeZone: TimeZone
    // Lookup tables keyed by day number so per-day queries avoid date arithmetic.
    let weekPattern: [[WorkingInterval]]
    let holidayDays: Set<Int>
    let exceptionDays: [Int: [WorkingInterval]]

    /// Builds a calendar, checking the time zone identifier and that intervals are within 00:00–24:00,
    /// sorted-compatible and non-overlapping, and that the week has some working time.
    public init(
        timeZoneID: String,
        weekly: [Weekday: [WorkingInterval]],
        holidays: Set<LocalDate> = [],
        exceptions: [LocalDate: [WorkingInterval]] = [:]
    ) throws(WorkCalendarError) {
        let issues = WorkCalendar.validate(timeZoneID: timeZoneID, weekly: weekly, exceptions: exceptions)
        guard issues.isEmpty, let zone = TimeZone(identifier: timeZoneID) else {
            throw WorkCalendarError(issues: issues)
        }
        self.init(unchecked: zone, id: timeZoneID, weekly: weekly, holidays: holidays, exceptions: exceptions)
    }

    init(unchecked zone: TimeZone, id: String, weekly: [Weekday: [WorkingInterval]],
         holidays: Set<LocalDate>, exceptions: [LocalDate: [WorkingInterval]]) {
        self.timeZoneID = id
        self.timeZone = zone
        self.weekly = weekly.filter { !$0.value.isEmpty }.mapValues { $0.sorted() }
        self.holidays = holidays
        self.exceptions = exceptions.mapValues { $0.sorted() }
        self.weekPattern = Weekday.allCases.map { (weekly[$0] ?? []).sorted() }
        self.holidayDays = Set(holidays.map(\.dayNumber))
        self.exceptionDays = Dictionary(uniqueKeysWithValues: self.exceptions.map { ($0.key.dayNumber, $0.value) })
    }

    /// Every problem with the given parts; empty when they make a valid calendar.
    public static func validate(
        timeZoneID: String,
        weekly: [Weekday: [WorkingInterval]],
        exceptions: [LocalDate: [WorkingInterval]] = [:]
    ) -> [CalendarIssue] {
        var issues: [CalendarIssue] = []
        if TimeZone(identifier: timeZoneID) == nil {
            issues.append(CalendarIssue(field: "timeZoneID", message: "unknown IANA time zone \"\(timeZoneID)\""))
        }
        for day in Weekday.allCases {
            issues += validate(intervals: weekly[day] ?? [], field: "weekly.\(day.rawValue)")
        }
        for (date, intervals) in exceptions.sorted(by: { $0.key < $1.key }) {
            issues += validate(intervals: intervals, field: "exceptions.\(date)")
        }
        let weeklyMinutes = weekly.values.joined().reduce(0) { $0 + max(0, $1.minutes) }
        if weeklyMinutes <= 0 {
            issues.append(CalendarIssue(field: "weekly", message: "the week has no working time"))
        }
        return issues
    }

    private static func validate(intervals: [WorkingInterval], field: String) -> [CalendarIssue] {
        var issues: [CalendarIssue] = []
        for (i, interval) in intervals.enumerated() {
            if interval.startMinute < 0 || interval.endMinute > 1440 || interval.startMinute >= interval.endMinute {
                issues.append(CalendarIssue(field: "\(field)[\(i)]", message: "interval \(interval.startMinute)–\(interval.endMinute) must be a non-empty span within 00:00–24:00"))
            }
        }
        let sorted = intervals.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.startMinute < a.endMinute {
            issues.append(CalendarIssue(field: field, message: "intervals \(a) and \(b) overlap"))
        }
        return issues
    }

    // MARK: Day length

    /// Nominal working minutes in a week (from the weekly pattern).
    public var minutesPerWeek: Int { weekPattern.joined().reduce(0) { $0 + $1.minutes } }

    /// The calendar's own average working day: weekly minutes over the number of weekdays that have
    /// working time (300 for Mon–Fri 09:00–14:00). This is what "1 day" of duration or lag means.
    public var minutesPerDay: Int {
        let workingDays = weekPattern.filter { !$0.isEmpty }.count
        guard workingDays > 0 else { return 0 }
        return (minutesPerWeek + workingDays / 2) / workingDays
    }

    /// The working intervals of a local date, after exceptions and holidays.
    public func intervals(on date: LocalDate) -> [WorkingInterval] { intervals(onDay: date.dayNumber) }

    func intervals(onDay dayNumber: Int) -> [WorkingInterval] {
        if let exception = exceptionDays[dayNumber] { return exception }
        if holidayDays.contains(dayNumber) { return [] }
        return weekPattern[Weekday(dayNumber: dayNumber).index]
    }

    // MARK: Derived calendars

    /// This calendar with extra days off (a person's time off on top of a client calendar).
    /// Periods whose end is before their start contribute nothing.
    public func adding(nonWorkingPeriods periods: [NonWorkingPeriod]) -> WorkCalendar {
        var exceptions = self.exceptions
        for period in periods {
            for date in period.dates { exceptions[date] = [] }
        }
        return WorkCalendar(unchecked: timeZone, id: timeZoneID, weekly: weekly, holidays: holidays, exceptions: exceptions)
    }

    /// This calendar with more holidays.
    public func adding(holidays more: some Sequence<LocalDate>) -> WorkCalendar {
        WorkCalendar(unchecked: timeZone, id: timeZoneID, weekly: weekly, holidays: holidays.union(more), exceptions: exceptions)
    }

    // MARK: Factories

    /// Monday to Friday, 09:00–14:00 local: the part-time engagement the onboarding template assumes.
    public static func partTimeMornings(timeZone: String) throws(WorkCalendarError) -> WorkCalendar {
        let mornings = [WorkingInterval(startMinute: 9 * 60, endMinute: 14 * 60)]
        return try WorkCalendar(timeZoneID: timeZone, weekly: Dictionary(uniqueKeysWithValues: Weekday.workweek.map { ($0, mornings) }))
    }

    /// Every minute of every day, in UTC. Working time equals elapsed time: handy in tests.
    public static let alwaysWorking: WorkCalendar = {
        let allDay = [WorkingInterval(startMinute: 0, endMinute: 1440)]
        return WorkCalendar(
            unchecked: TimeZone(secondsFromGMT: 0) ?? TimeZone.gmt, id: "UTC",
            weekly: Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, allDay) }),
            holidays: [], exceptions: [:]
        )
    }()
}

extension WorkCalendar: Hashable {
    public static func == (lhs: WorkCalendar, rhs: WorkCalendar) -> Bool {
        lhs.timeZoneID == rhs.timeZoneID && lhs.weekly == rhs.weekly
            && lhs.holidays == rhs.holidays && lhs.exceptions == rhs.exceptions
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(timeZoneID)
        hasher.combine(weekly)
        hasher.combine(holidays)
        hasher.combine(exceptions)
    }
}

extension WorkCalendar: Codable {
    private enum CodingKeys: String, CodingKey { case timeZoneID, weekly, holidays, exceptions }

    /// Decoding validates like `init`, so a decoded calendar is always usable.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let id = try c.decode(String.self, forKey: .timeZoneID)
        let weekly = try c.decode([Weekday: [WorkingInterval]].self, forKey: .weekly)
        let holidays = try c.decodeIfPresent([LocalDate].self, forKey: .holidays) ?? []
        let exceptions = try c.decodeIfPresent([LocalDate: [WorkingInterval]].self, forKey: .exceptions) ?? [:]
        do {
            try self.init(timeZoneID: id, weekly: weekly, holidays: Set(holidays), exceptions: exceptions)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: error.issues.map(\.description).joined(separator: "; ")))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(timeZoneID, forKey: .timeZoneID)
        try c.encode(weekly, forKey: .weekly)
        try c.encode(holidays.sorted(), forKey: .holidays)
        try c.encode(exceptions, forKey: .exceptions)
    }
}
