import Foundation
import Testing
@testable import TrellisDomain
import TrellisFixtures

@Suite("Working-time axis")
struct WorkingTimelineTests {
    let madrid = "Europe/Madrid"

    @Test func startsAndFinishesAtBoundaries() throws {
        let calendar = try partTimeCalendar()
        var axis = WorkingTimeline(calendar: calendar, origin: localInstant(2026, 3, 2, 9, zone: madrid))
        #expect(try axis.startInstant(at: 0) == localInstant(2026, 3, 2, 9, zone: madrid))
        // Position 300: a start is Tuesday 09:00, a finish is Monday 14:00.
        #expect(try axis.startInstant(at: 300) == localInstant(2026, 3, 3, 9, zone: madrid))
        #expect(try axis.finishInstant(at: 300) == localInstant(2026, 3, 2, 14, zone: madrid))
        #expect(try axis.finishInstant(at: 1500) == localInstant(2026, 3, 6, 14, zone: madrid))
        // Before the origin: the previous Friday.
        #expect(try axis.startInstant(at: -300) == localInstant(2026, 2, 27, 9, zone: madrid))
        #expect(try axis.finishInstant(at: 0) == localInstant(2026, 2, 27, 14, zone: madrid))
        // Far away in both directions (forces growth in chunks).
        #expect(try axis.startInstant(at: 300 * 260 * 3) > localInstant(2028, 12, 1, 0, zone: madrid))
        #expect(try axis.finishInstant(at: -300 * 260 * 3) < localInstant(2023, 4, 1, 0, zone: madrid))
    }

    @Test func instantsRoundToWholeWorkingMinutes() throws {
        var axis = WorkingTimeline(calendar: try partTimeCalendar(), origin: localInstant(2026, 3, 2, 9, zone: madrid))
        let halfMinuteIn = localInstant(2026, 3, 2, 9, zone: madrid).addingTimeInterval(30)
        #expect(try axis.startPosition(of: halfMinuteIn) == 1)
        #expect(try axis.finishPosition(of: halfMinuteIn) == 0)
        // Saturday maps to the end of Friday / the start of Monday: the same position.
        let saturday = localInstant(2026, 3, 7, 11, zone: madrid)
        #expect(try axis.startPosition(of: saturday) == 1500)
        #expect(try axis.finishPosition(of: saturday) == 1500)
    }

    @Test func originInNonWorkingTime() throws {
        var axis = WorkingTimeline(calendar: try partTimeCalendar(), origin: localInstant(2026, 3, 7, 10, zone: madrid))
        #expect(try axis.startInstant(at: 0) == localInstant(2026, 3, 9, 9, zone: madrid))
        #expect(try axis.startPosition(of: localInstant(2026, 3, 9, 10, zone: madrid)) == 60)
    }

    @Test func beyondHorizonIsAnError() throws {
        var axis = WorkingTimeline(calendar: try partTimeCalendar(), origin: localInstant(2026, 3, 2, 9, zone: madrid))
        #expect(throws: WorkingTimelineError.self) { try axis.startInstant(at: 1_500 * 52 * 300) }
    }

    @Test(arguments: 0..<40)
    func agreesWithDayByDayCalendarArithmetic(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed) &* 7919)
        let origin = utcInstant(2026, 1, 1, 0).addingTimeInterval(Double(Int.random(in: 0..<(400 * 1440), using: &rng)) * 60)
        let calendar = RandomPlanGenerator.randomCalendar(using: &rng, around: origin)
        var axis = WorkingTimeline(calendar: calendar, origin: origin)
        let zero = try axis.startInstant(at: 0)
        #expect(zero == calendar.nextWorkingStart(onOrAfter: origin))
        for _ in 0..<25 {
            let p = Int.random(in: -30_000...200_000, using: &rng)
            let moved = calendar.date(byAddingWorkingMinutes: p, to: zero)
            if p > 0 {
                #expect(try axis.finishInstant(at: p) == moved)
                #expect(try axis.startInstant(at: p) == calendar.nextWorkingStart(onOrAfter: moved))
            } else if p < 0 {
                #expect(try axis.startInstant(at: p) == moved)
            }
            let t = origin.addingTimeInterval(Double(Int.random(in: -100_000...400_000, using: &rng)) * 60)
            let minutes = calendar.workingMinutes(from: zero, to: t)
            #expect(try axis.startPosition(of: t) == minutes)
            #expect(try axis.finishPosition(of: t) == minutes)
        }
    }
}
