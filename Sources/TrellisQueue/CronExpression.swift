import Foundation

public struct CronParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var expression: String
    public var message: String
    public var description: String { "invalid cron expression '\(expression)': \(message)" }
}

/// A five-field cron expression: `minute hour day-of-month month day-of-week`.
///
/// Each field takes `*`, numbers, ranges `a-b`, lists `a,b,c`, steps `*/n`, `a-b/n` and `a/n` (from a to the
/// field's end); months and weekdays also take names (`JAN`, `MON`); weekday 0 and 7 are Sunday. Macros:
/// `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
///
/// Day rule (Vixie cron): when both day-of-month and day-of-week are restricted (neither starts with `*`), a
/// day matches if EITHER matches (`0 9 1,15 * MON` fires on the 1st, the 15th and every Monday); otherwise
/// both must match.
///
/// Time zones and daylight saving time: fire times are wall-clock times in the schedule's IANA time zone.
/// A wall time skipped by a spring-forward transition fires shifted forward by the gap (02:30 → 03:30), once.
/// A wall time repeated by a fall-back transition fires once, at its first occurrence — except when the hour
/// field starts with `*` (e.g. `*/15 * * * *`): such schedules follow real time through the repeated hour.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let source: String
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    let hourWildcard: Bool

    public var description: String { source }

    private static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    private static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    private static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ expression: String) throws {
        let trimmed = expression.trimmingCharacters(in: .whitespacesAndNewlines)
        self.source = trimmed
        let expanded = Self.macros[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        func fail(_ message: String) -> CronParseError { CronParseError(expression: trimmed, message: message) }
        guard fields.count == 5 else { throw fail("expected 5 fields (minute hour day-of-month month day-of-week), got \(fields.count)") }
        do {
            minutes = try Self.parseField(fields[0], range: 0...59, names: nil).sorted()
            hours = try Self.parseField(fields[1], range: 0...23, names: nil).sorted()
            daysOfMonth = Set(try Self.parseField(fields[2], range: 1...31, names: nil))
            months = Set(try Self.parseField(fields[3], range: 1...12, names: (Self.monthNames, 1)))
            daysOfWeek = Set(try Self.parseField(fields[4], range: 0...7, names: (Self.dayNames, 0)).map { $0 % 7 })
        } catch let error as FieldError {
            throw fail(error.message)
        }
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
        hourWildcard = fields[1].hasPrefix("*")
    }

    private struct FieldError: Error { var message: String }

    private static func parseField(_ field: String, range: ClosedRange<Int>, names: ([String], Int)?) throws -> [Int] {
        var values = Set<Int>()
        for item in field.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw FieldError(message: "empty list item in '\(field)'") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else { throw FieldError(message: "too many '/' in '\(item)'") }
            var step = 1
            if parts.count == 2 {
                guard let s = Int(parts[1]), s > 0 else { throw FieldError(message: "bad step in '\(item)'") }
                step = s
            }
            let base = parts[0]
            let lower: Int
            let upper: Int
            if base == "*" {
                lower = range.lowerBound
                upper = range.upperBound
            } else if let dash = base.firstIndex(of: "-") {
                lower = try value(String(base[..<dash]), range: range, names: names, item: item)
                upper = try value(String(base[base.index(after: dash)...]), range: range, names: names, item: item)
                guard lower <= upper else { throw FieldError(message: "range \(base) goes backwards") }
            } else {
                lower = try value(base, range: range, names: names, item: item)
                upper = parts.count == 2 ? range.upperBound : lower  // "a/n": from a to the end
            }
            values.formUnion(stride(from: lower, through: upper, by: step))
        }
        return Array(values)
    }

    private static func value(_ text: String, range: ClosedRange<Int>, names: ([String], Int)?, item: String) throws -> Int {
        if let number = Int(text) {
            guard range.contains(number) else {
                throw FieldError(message: "\(number) is outside \(range.lowerBound)-\(range.upperBound) in '\(item)'")
            }
            return number
        }
        if let (list, offset) = names, let index = list.firstIndex(of: text.uppercased()) {
            return index + offset
        }
        throw FieldError(message: "'\(text)' is not a number\(names == nil ? "" : " or a name") in '\(item)'")
    }

    // MARK: Matching

    func dayMatches(day: Int, month: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let domMatch = daysOfMonth.contains(day)
        let dowMatch = daysOfWeek.contains(weekday)
        if dayOfMonthRestricted && dayOfWeekRestricted { return domMatch || dowMatch }
        return domMatch && dowMatch
    }

    /// The first fire time strictly after `date`, in `timeZone`; nil if none within eight years
    /// (e.g. `0 0 30 2 *`).
    public func nextFireTime(after date: Date, in timeZone: TimeZone) -> Date? {
        let after = date.timeIntervalSince1970
        let localNow = floor(after) + Double(timeZone.secondsFromGMT(for: date))
        let firstDay = Int(floor(localNow / 86400))
        for dayNumber in firstDay...(firstDay + 366 * 8 + 2) {
            let (year, month, day) = Civil.date(fromDays: dayNumber)
            _ = year
            guard dayMatches(day: day, month: month, weekday: Civil.weekday(days: dayNumber)) else { continue }
            let midnight = Double(dayNumber) * 86400
            let offsetBefore = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: midnight - 86400))
            let offsetAfter = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: midnight + 2 * 86400))
            let transitionDay = offsetBefore != offsetAfter
            var best: Double? = nil
            for hour in hours {
                for minute in minutes {
                    let wall = midnight + Double(hour * 3600 + minute * 60)
                    if !transitionDay {
                        let instant = wall - Double(offsetBefore)
                        if instant > after { return Date(timeIntervalSince1970: instant) }
                        continue
                    }
                    for instant in resolve(wall: wall, timeZone: timeZone) where instant > after {
                        best = min(best ?? instant, instant)
                    }
                }
            }
            if let best { return Date(timeIntervalSince1970: best) }
        }
        return nil
    }

    /// Fire times in `(start, end]`, at most `limit`.
    public func fireTimes(after start: Date, through end: Date, in timeZone: TimeZone, limit: Int = 10_000) -> [Date] {
        var result: [Date] = []
        var cursor = start
        while result.count < limit, let next = nextFireTime(after: cursor, in: timeZone), next <= end {
            result.append(next)
            cursor = next
        }
        return result
    }

    /// The instants of a local wall time (seconds as if UTC) on a day with a transition.
    private func resolve(wall: Double, timeZone: TimeZone) -> [Double] {
        let before = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - 86400))
        let after = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: wall + 86400))
        var instants: [Double] = []
        for offset in Set([before, after]) {
            let instant = wall - Double(offset)
            if timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: instant)) == offset { instants.append(instant) }
        }
        instants.sort()
        if instants.isEmpty {
            // Skipped by a spring-forward: shift forward by the gap.
            return [wall - Double(before)]
        }
        if instants.count > 1 && !hourWildcard {
            // Repeated by a fall-back: once, at the first occurrence.
            return [instants[0]]
        }
        return instants
    }
}

/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), after Howard Hinnant.
enum Civil {
    static func date(fromDays z: Int) -> (year: Int, month: Int, day: Int) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 0 = Sunday … 6 = Saturday.
    static func weekday(days: Int) -> Int {
        let w = (days + 4) % 7
        return w < 0 ? w + 7 : w
    }
}
