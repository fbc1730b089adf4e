import Foundation
import Testing
import TrellisDomain

@Suite("The local date of an instant")
struct LocalDateOfInstantTests {
    @Test func followsTheCalendarsZoneAcrossDaylightSaving() throws {
        let madrid = try WorkCalendar.partTimeMornings(timeZone: "Europe/Madrid")
        // 2026-03-29 is the spring-forward day: 22:30 UTC is already 00:30 on the 30th (UTC+2).
        let lateSunday = Date(timeIntervalSince1970: 1_774_823_400)  // 2026-03-29T22:30:00Z
        #expect(madrid.localDate(of: lateSunday) == LocalDate(year: 2026, month: 3, day: 30))
        // The day before, 22:30 UTC is still 23:30 on the 28th (UTC+1).
        #expect(madrid.localDate(of: lateSunday.addingTimeInterval(-86_400)) == LocalDate(year: 2026, month: 3, day: 28))
        let utc = WorkCalendar.alwaysWorking
        #expect(utc.localDate(of: lateSunday) == LocalDate(year: 2026, month: 3, day: 29))
    }
}
