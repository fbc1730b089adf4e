/// A date without a time or a zone (`2026-03-02`), as used for assignments, time off and holidays.
/// Arithmetic is done on days since 1970-01-01 (Howard Hinnant's civil-calendar algorithms),
/// so the domain needs no calendar object and no clock.
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
              day <= CivilDate.daysInMonth(year: year, month: month)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD` strictly.
    public init?(iso string: some StringProtocol) {
        let parts = string.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public init(daysSinceEpoch z0: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    public var isoWeekday: Int {
        let d = daysSinceEpoch  // 1970-01-01 was a Thursday
        return ((d % 7 + 7) % 7 + 3) % 7 + 1
    }

    public func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    public var iso: String {
        let y = String(year), m = month < 10 ? "0\(month)" : "\(month)", d = day < 10 ? "0\(day)" : "\(day)"
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + m + "-" + d
    }

    public var description: String { iso }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let date = CivilDate(iso: string) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a date as YYYY-MM-DD")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}

/// An ISO 8601 week (`2026-W10`): weeks start on Monday; week 1 holds the year's first Thursday.
public struct ISOWeek: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let week: Int

    public init(containing date: CivilDate) {
        let monday = date.adding(days: 1 - date.isoWeekday)
        let thursday = monday.adding(days: 3)
        self.year = thursday.year
        let jan1 = CivilDate(daysSinceEpoch: CivilDate(year: thursday.year, month: 1, day: 1)!.daysSinceEpoch)
        self.week = (thursday.daysSinceEpoch - jan1.daysSinceEpoch) / 7 + 1
    }

    public init?(iso string: some StringProtocol) {
        let parts = string.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].first == "W",
              let y = Int(parts[0]), let w = Int(parts[1].dropFirst()), (1...53).contains(w),
              let jan4 = CivilDate(year: y, month: 1, day: 4)
        else { return nil }
        let candidate = ISOWeek(containing: jan4.adding(days: 1 - jan4.isoWeekday + (w - 1) * 7))
        guard candidate.year == y, candidate.week == w else { return nil }
        self = candidate
    }

    /// The Monday that starts this week.
    public var monday: CivilDate {
        // A valid (year, week) always has a Jan 4 in its year.
        let jan4 = CivilDate(daysSinceEpoch: CivilDate(year: year, month: 1, day: 4)!.daysSinceEpoch)
        return jan4.adding(days: 1 - jan4.isoWeekday + (week - 1) * 7)
    }

    public var next: ISOWeek { ISOWeek(containing: monday.adding(days: 7)) }

    public var iso: String { "\(year)-W\(week < 10 ? "0" : "")\(week)" }
    public var description: String { iso }

    public static func < (a: ISOWeek, b: ISOWeek) -> Bool { (a.year, a.week) < (b.year, b.week) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let week = ISOWeek(iso: try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an ISO week as YYYY-Www")
        }
        self = week
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}
