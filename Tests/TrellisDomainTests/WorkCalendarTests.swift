import Foundation
import Testing
@testable import TrellisDomain

@Suite("Work calendars")
struct WorkCalendarTests {
    @Test func partTimeMorningsDayAndWeekLength() throws {
        let calendar = try WorkCalendar.partTimeMornings(timeZone: "Europe/Madrid")
        #expect(calendar.minutesPerDay == 300)
        #expect(calendar.minutesPerWeek == 1500)
        #expect(calendar.intervals(on: localDate("2026-03-02")) == [WorkingInterval(from: "09:00", to: "14:00")])
        #expect(calendar.intervals(on: localDate("2026-03-07")).isEmpty)  // Saturday
    }

    @Test func splitDayLength() throws {
        let split = [WorkingInterval(from: "09:00", to: "12:30")!, WorkingInterval(from: "13:30", to: "17:00")!]
        let calendar = try WorkCalendar(timeZoneID: "America/New_York", weekly: Dictionary(uniqueKeysWithValues: Weekday.workweek.map { ($0, split) }))
        #expect(calendar.minutesPerDay == 420)
        #expect(calendar.minutesPerWeek == 2100)
    }

    @Test func validationNamesTheFields() {
        let overlapping = [WorkingInterval(from: "09:00", to: "12:00")!, WorkingInterval(from: "11:00", to: "13:00")!]
        #expect(throws: WorkCalendarError.self) { try WorkCalendar(timeZoneID: "Mars/Olympus", weekly: [.monday: overlapping]) }
        let issues = WorkCalendar.validate(
            timeZoneID: "Mars/Olympus",
            weekly: [.monday: overlapping, .tuesday: [WorkingInterval(startMinute: 600, endMinute: 1500)]],
            exceptions: [localDate("2026-01-02"): [WorkingInterval(startMinute: 700, endMinute: 600)]]
        )
        #expect(Set(issues.map(\.field)) == ["timeZoneID", "weekly.monday", "weekly.tuesday[0]", "exceptions.2026-01-02[0]"])
        #expect(WorkCalendar.validate(timeZoneID: "UTC", weekly: [:]).map(\.field) == ["weekly"])
        #expect(WorkCalendar.validate(timeZoneID: "Europe/Madrid", weekly: [.monday: overlapping.dropLast()]).isEmpty)
    }

    @Test func codableRoundTripAndValidatingDecode() throws {
        let calendar = try partTimeCalendar(holidays: ["2026-01-06"])
            .adding(nonWorkingPeriods: [NonWorkingPeriod(start: localDate("2026-02-02"), end: localDate("2026-02-03"))])
        let json = try JSONEncoder().encode(calendar)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"monday\":[{\"end\":\"14:00\",\"start\":\"09:00\"}]") || text.contains("\"start\":\"09:00\""))
        #expect(try JSONDecoder().decode(WorkCalendar.self, from: json) == calendar)
        let bad = Data(#"{"timeZoneID":"Nowhere/Land","weekly":{"monday":[{"start":"09:00","end":"14:00"}]}}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(WorkCalendar.self, from: bad) }
    }

    @Test func localDatesMatchFoundation() throws {
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = TimeZone(secondsFromGMT: 0)!
        for dayNumber in stride(from: -100_000, through: 2_900_000, by: 997) {
            let mine = LocalDate(dayNumber: dayNumber)
            let theirs = gregorian.dateComponents([.year, .month, .day, .weekday], from: Date(timeIntervalSince1970: Double(dayNumber) * 86_400))
            #expect(mine.year == theirs.year && mine.month == theirs.month && mine.day == theirs.day)
            #expect(mine.dayNumber == dayNumber)
            // (From 1696: Foundation switches to the Julian calendar before 1582.) Foundation: 1 = Sunday … 7 = Saturday.
            #expect(mine.weekday.index == ((theirs.weekday ?? 0) + 5) % 7)
        }
        #expect(LocalDate("2026-02-29") == nil)
        #expect(LocalDate("2024-02-29")?.description == "2024-02-29")
        #expect(LocalDate("2026-3-1") == nil)
    }

    @Test(arguments: ["Europe/Madrid", "America/New_York", "Australia/Sydney", "Asia/Kolkata"])
    func workingIntervalsFollowLocalTimeAcrossDaylightSaving(zone: String) throws {
        // Every day of 2026 and 2027: each working interval's instants equal Foundation's own local-time conversion.
        let calendar = try partTimeCalendar(zone)
        var day = localDate("2026-01-01")
        while day < localDate("2028-01-01") {
            let expected = calendar.intervals(on: day).map {
                DateInterval(start: localInstant(day.year, day.month, day.day, $0.startMinute / 60, $0.startMinute % 60, zone: zone),
                             end: localInstant(day.year, day.month, day.day, $0.endMinute / 60, $0.endMinute % 60, zone: zone))
            }
            #expect(calendar.workingIntervals(on: day) == expected, "\(zone) \(day)")
            day = day.adding(days: 1)
        }
    }

    @Test func madridSpringForwardShiftsUTCByAnHour() throws {
        let calendar = try partTimeCalendar("Europe/Madrid")
        // Friday before the change: 09:00 CET = 08:00Z. Monday after: 09:00 CEST = 07:00Z.
        #expect(calendar.workingIntervals(on: localDate("2026-03-27")) == [DateInterval(start: utcInstant(2026, 3, 27, 8), end: utcInstant(2026, 3, 27, 13))])
        #expect(calendar.workingIntervals(on: localDate("2026-03-30")) == [DateInterval(start: utcInstant(2026, 3, 30, 7), end: utcInstant(2026, 3, 30, 12))])
    }

    @Test func roundTheClockDaysHaveRealLengthOnDaylightSavingDays() throws {
        let allDay = [WorkingInterval(startMinute: 0, endMinute: 1440)]
        let calendar = try WorkCalendar(timeZoneID: "Europe/Madrid", weekly: Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, allDay) }))
        let minutes = { (d: String) in calendar.workingIntervals(on: localDate(d)).reduce(0) { $0 + Int($1.duration / 60) } }
        #expect(minutes("2026-03-28") == 1440)
        #expect(minutes("2026-03-29") == 1380)
        #expect(minutes("2026-10-25") == 1500)
        // A working hour that falls entirely in the spring-forward gap does not exist.
        let gapHour = try WorkCalendar(timeZoneID: "Europe/Madrid", weekly: [.sunday: [WorkingInterval(from: "02:00", to: "03:00")!]])
        #expect(gapHour.workingIntervals(on: localDate("2026-03-29")).isEmpty)
        #expect(gapHour.workingIntervals(on: localDate("2026-03-22")).count == 1)
        // And the ambiguous fall-back hour is worked twice (02:00 CEST to 03:00 CET = 2 real hours).
        #expect(gapHour.workingIntervals(on: localDate("2026-10-25")).first?.duration == 7200)
    }

    @Test func workingMinuteArithmetic() throws {
        let calendar = try partTimeCalendar("Europe/Madrid", holidays: ["2026-03-04"])
        let monday = localInstant(2026, 3, 2, 9, zone: "Europe/Madrid")
        // 20 working hours over Mon, Tue, Thu (Wednesday is a holiday) and Fri: ends Fri 14:00.
        let friday14 = localInstant(2026, 3, 6, 14, zone: "Europe/Madrid")
        #expect(calendar.date(byAddingWorkingMinutes: 20 * minutesPerHour, to: monday) == friday14)
        #expect(calendar.workingMinutes(from: monday, to: friday14) == 20 * minutesPerHour)
        #expect(calendar.workingMinutes(from: friday14, to: monday) == -20 * minutesPerHour)
        // Exactly one day ends at 14:00 the same day, not 09:00 the next.
        #expect(calendar.date(byAddingWorkingMinutes: 300, to: monday) == localInstant(2026, 3, 2, 14, zone: "Europe/Madrid"))
        // Backwards lands on the start of a working minute.
        #expect(calendar.date(byAddingWorkingMinutes: -300, to: localInstant(2026, 3, 5, 9, zone: "Europe/Madrid")) == localInstant(2026, 3, 3, 9, zone: "Europe/Madrid"))
        #expect(calendar.date(byAddingWorkingMinutes: 0, to: friday14) == friday14)
        #expect(calendar.nextWorkingStart(onOrAfter: friday14) == localInstant(2026, 3, 9, 9, zone: "Europe/Madrid"))
        #expect(calendar.isWorking(at: monday))
        #expect(!calendar.isWorking(at: friday14))
        #expect(!calendar.isWorking(at: localInstant(2026, 3, 4, 10, zone: "Europe/Madrid")))
    }

    @Test func timeOffAndExceptions() throws {
        let base = try partTimeCalendar()
        let person = base.adding(nonWorkingPeriods: [NonWorkingPeriod(start: localDate("2026-03-02"), end: localDate("2026-03-03"), note: "leave")])
        #expect(person.intervals(on: localDate("2026-03-02")).isEmpty)
        #expect(person.intervals(on: localDate("2026-03-03")).isEmpty)
        #expect(person.intervals(on: localDate("2026-03-04")).count == 1)
        let saturdayShift = try WorkCalendar(timeZoneID: "Europe/Madrid", weekly: base.weekly, holidays: [localDate("2026-03-02")],
                                             exceptions: [localDate("2026-03-07"): [WorkingInterval(from: "10:00", to: "12:00")!]])
        #expect(saturdayShift.intervals(on: localDate("2026-03-07")).map(\.minutes) == [120])
        #expect(saturdayShift.intervals(on: localDate("2026-03-02")).isEmpty)
    }
}
