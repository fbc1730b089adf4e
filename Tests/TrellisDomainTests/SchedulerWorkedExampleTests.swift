import Foundation
import Testing
@testable import TrellisDomain

/// Small plans worked out by hand on Mon–Fri 09:00–14:00 (Europe/Madrid unless stated).
@Suite("Scheduler: worked examples")
struct SchedulerWorkedExampleTests {
    let madrid = "Europe/Madrid"
    /// Monday 2 March 2026, 09:00 Madrid.
    var monday: Date { localInstant(2026, 3, 2, 9, zone: madrid) }
    func at(_ day: Int, _ hour: Int, month: Int = 3) -> Date { localInstant(2026, month, day, hour, zone: madrid) }

    func schedule(_ tasks: [PlanTask], _ links: [TaskDependency] = [], calendar: WorkCalendar? = nil, start: Date? = nil) throws -> Timeline {
        try Scheduler.schedule(SchedulePlan(start: start ?? monday, calendar: calendar ?? partTimeCalendar(), tasks: tasks, dependencies: links))
    }

    @Test func twentyFiveHourTaskEndsFridayAfternoon() throws {
        let t = try schedule([planTask("a", 25 * minutesPerHour)])
        #expect(t["a"].earlyStart == at(2, 9))
        #expect(t["a"].earlyFinish == at(6, 14))
        #expect(t.finish == at(6, 14))
        #expect(t.finishMinute == 1500)
        #expect(t.criticalPath == ["a"])
    }

    @Test func holidayMovesTheFinishToNextMonday() throws {
        let t = try schedule([planTask("a", 25 * minutesPerHour)], calendar: partTimeCalendar(holidays: ["2026-03-04"]))
        #expect(t["a"].earlyFinish == at(9, 14))
    }

    @Test func startToStartWithLag() throws {
        let t = try schedule([planTask("a", 10 * minutesPerHour), planTask("b", 5 * minutesPerHour)], [planLink("a", "b", .startToStart, lag: 2 * minutesPerHour)])
        #expect(t["b"].earlyStart == at(2, 11))
        #expect(t["b"].earlyFinish == at(3, 11))
        #expect(t["b"].totalSlack == 3 * minutesPerHour)  // b may finish as late as a (Tue 14:00)
    }

    @Test func finishToFinishWithOneDayLead() throws {
        let t = try schedule([planTask("a", 25 * minutesPerHour), planTask("b", 10 * minutesPerHour)], [planLink("a", "b", .finishToFinish, lag: -partTimeDay)])
        #expect(t["b"].earlyFinish == at(5, 14))  // Thursday 14:00, one working day before Friday 14:00
        #expect(t["b"].earlyStart == at(4, 9))
    }

    @Test func startToFinish() throws {
        let t = try schedule([planTask("a", 5 * minutesPerHour), planTask("b", 5 * minutesPerHour)], [planLink("a", "b", .startToFinish, lag: 2 * partTimeDay)])
        #expect(t["b"].earlyFinish == at(3, 14))
        #expect(t["b"].earlyStart == at(3, 9))
    }

    @Test func finishToStartAcrossTheWeekend() throws {
        let t = try schedule([planTask("a", 25 * minutesPerHour), planTask("b", 5 * minutesPerHour)], [planLink("a", "b")])
        #expect(t["b"].earlyStart == at(9, 9))
        #expect(t.criticalPath == ["a", "b"])
    }

    @Test func spanningSpringForwardKeepsLocalHours() throws {
        // Europe/Madrid moves to summer time on Sunday 29 March 2026: 09:00 is 08:00Z before, 07:00Z after.
        let start = at(23, 9)
        let t = try schedule(
            [planTask("long", 10 * partTimeDay), planTask("next", partTimeDay), planTask("parallel", partTimeDay)],
            [planLink("long", "next"), planLink("long", "parallel", .startToStart, lag: 5 * partTimeDay)],
            start: start
        )
        #expect(t["long"].earlyStart == utcInstant(2026, 3, 23, 8))
        #expect(t["long"].earlyFinish == utcInstant(2026, 4, 3, 12))  // Friday 3 April 14:00 CEST
        #expect(t["parallel"].earlyStart == utcInstant(2026, 3, 30, 7))  // Monday 30 March 09:00 CEST
        #expect(t["parallel"].earlyFinish == utcInstant(2026, 3, 30, 12))
        #expect(t["next"].earlyStart == utcInstant(2026, 4, 6, 7))
    }

    @Test func splitDayCalendar() throws {
        let split = [WorkingInterval(from: "09:00", to: "12:30")!, WorkingInterval(from: "13:30", to: "17:00")!]
        let ny = "America/New_York"
        let calendar = try WorkCalendar(timeZoneID: ny, weekly: Dictionary(uniqueKeysWithValues: Weekday.workweek.map { ($0, split) }))
        let t = try schedule(
            [planTask("morning", 210), planTask("after", 240), planTask("week", 5 * 420)],
            [planLink("morning", "after"), planLink("after", "week")],
            calendar: calendar, start: localInstant(2026, 3, 2, 9, zone: ny)
        )
        #expect(t["morning"].earlyFinish == localInstant(2026, 3, 2, 12, 30, zone: ny))  // not 13:30
        #expect(t["after"].earlyStart == localInstant(2026, 3, 2, 13, 30, zone: ny))
        #expect(t["after"].earlyFinish == localInstant(2026, 3, 3, 9, 30, zone: ny))
        // Five split days later, across the 8 March DST change: Tuesday 10 March 09:30 local.
        #expect(t["week"].earlyFinish == localInstant(2026, 3, 10, 9, 30, zone: ny))
    }

    @Test func missedDeadlineGivesNegativeSlack() throws {
        let t = try schedule(
            [planTask("a", 5 * partTimeDay), planTask("b", 5 * partTimeDay, constraint: .finishNoLaterThan(at(6, 14))), planTask("c", partTimeDay)],
            [planLink("a", "b")]
        )
        // b cannot finish before Friday 13 March; the deadline is a week earlier. Links still win.
        #expect(t["b"].earlyFinish == at(13, 14))
        #expect(t["b"].lateFinish == at(6, 14))
        #expect(t["b"].totalSlack == -5 * partTimeDay)
        #expect(t["a"].totalSlack == -5 * partTimeDay)
        #expect(t["a"].isCritical && t["b"].isCritical)
        #expect(t["c"].totalSlack == 9 * partTimeDay)
        #expect(!t["c"].isCritical)
        #expect(t.criticalPath == ["a", "b"])
    }

    @Test func metDeadlineLimitsSlack() throws {
        let t = try schedule(
            [planTask("a", 5 * partTimeDay), planTask("b", 5 * partTimeDay), planTask("x", 2 * partTimeDay, constraint: .finishNoLaterThan(at(4, 14)))],
            [planLink("a", "b")]
        )
        #expect(t["x"].totalSlack == partTimeDay)
        #expect(t["x"].freeSlack == partTimeDay)
    }

    @Test func freeAndTotalSlack() throws {
        let t = try schedule(
            [planTask("a", 2 * partTimeDay), planTask("b", 5 * partTimeDay), planTask("c", partTimeDay), planTask("d", partTimeDay)],
            [planLink("a", "c"), planLink("b", "c"), planLink("a", "d")]
        )
        #expect(t["a"].totalSlack == 3 * partTimeDay)
        #expect(t["a"].freeSlack == 0)  // d follows a immediately
        #expect(t["d"].freeSlack == 3 * partTimeDay)
        #expect(t["b"].totalSlack == 0 && t["b"].freeSlack == 0)
        #expect(t.criticalPath == ["b", "c"])
    }

    @Test func milestonesSitAtTheEndOfPreviousWork() throws {
        let t = try schedule(
            [planTask("kickoff", 0), planTask("a", 5 * partTimeDay), planTask("done", 0), planTask("b", partTimeDay)],
            [planLink("kickoff", "a"), planLink("a", "done"), planLink("done", "b")]
        )
        #expect(t["kickoff"].earlyStart == at(2, 9) && t["kickoff"].earlyFinish == at(2, 9))
        #expect(t["done"].isMilestone)
        #expect(t["done"].earlyStart == at(6, 14) && t["done"].earlyFinish == at(6, 14))
        #expect(t["b"].earlyStart == at(9, 9))
        #expect(t.criticalPath == ["kickoff", "a", "done", "b"])
    }

    @Test func startConstraintInNonWorkingTimeMovesToNextWorkingMinute() throws {
        let t = try schedule([planTask("a", minutesPerHour, constraint: .startNoEarlierThan(at(7, 12))),
                              planTask("b", minutesPerHour, constraint: .startNoEarlierThan(at(2, 10).addingTimeInterval(30)))])
        #expect(t["a"].earlyStart == at(9, 9))
        #expect(t["b"].earlyStart == at(2, 10).addingTimeInterval(60))
    }

    @Test func mustStartOnPinsAndReportsConflicts() throws {
        let t = try schedule([planTask("a", 5 * partTimeDay), planTask("b", partTimeDay, constraint: .mustStartOn(at(4, 9)))], [planLink("a", "b")])
        // The link wins (b starts Monday 9), and the missed date shows as negative slack.
        #expect(t["b"].earlyStart == at(9, 9))
        #expect(t["b"].totalSlack == -3 * partTimeDay)
    }

    @Test func phasesRollUpAndCarryLinks() throws {
        let t = try schedule(
            [planTask("phase", 0), planTask("a", 2 * partTimeDay, parent: "phase"), planTask("b", 3 * partTimeDay, parent: "phase"),
             planTask("before", partTimeDay), planTask("after", partTimeDay), planTask("overlap", partTimeDay)],
            [planLink("a", "b"), planLink("before", "phase"), planLink("phase", "after"), planLink("phase", "overlap", .startToStart, lag: partTimeDay)]
        )
        // "before" holds back every child of the phase.
        #expect(t["a"].earlyStart == at(3, 9))
        #expect(t["phase"].isSummary)
        #expect(t["phase"].earlyStart == at(3, 9))
        #expect(t["phase"].earlyFinish == at(9, 14))
        #expect(t["after"].earlyStart == at(10, 9))
        #expect(t["overlap"].earlyStart == at(4, 9))
        #expect(t["phase"].isCritical)
        #expect(t.criticalPath == ["before", "a", "b", "after"])
    }

    @Test func progressPinsActualDates() throws {
        var done = planTask("done", 5 * partTimeDay)
        done.actualStart = at(2, 9)
        done.actualFinish = at(4, 14)  // finished early, in 3 days
        done.percentComplete = 100
        var started = planTask("started", 2 * partTimeDay)
        started.actualStart = at(3, 9)
        started.percentComplete = 50
        let t = try schedule(
            [done, planTask("next", partTimeDay), planTask("blocker", 5 * partTimeDay), started],
            [planLink("done", "next"), planLink("blocker", "started")]
        )
        #expect(t["done"].earlyStart == at(2, 9) && t["done"].earlyFinish == at(4, 14))
        #expect(t["next"].earlyStart == at(5, 9))
        // Work already started keeps its actual start even though its predecessor is not finished.
        #expect(t["started"].earlyStart == at(3, 9))
        #expect(t["started"].earlyFinish == at(4, 14))
    }

    @Test func startsOnMondayWhenThePlanStartsOnAWeekend() throws {
        let t = try schedule([planTask("a", minutesPerHour)], start: at(7, 10))
        #expect(t["a"].earlyStart == at(9, 9))
        #expect(t.start == at(7, 10))
    }

    @Test func emptyPlan() throws {
        let t = try schedule([])
        #expect(t.tasks.isEmpty && t.criticalPath.isEmpty && t.finishMinute == 0)
    }
}

@Suite("Scheduler: errors")
struct SchedulerErrorTests {
    func schedule(_ tasks: [PlanTask], _ links: [TaskDependency]) throws(SchedulingError) -> Timeline {
        try Scheduler.schedule(SchedulePlan(start: utcInstant(2026, 3, 2, 9), calendar: .alwaysWorking, tasks: tasks, dependencies: links))
    }

    func error(_ tasks: [PlanTask], _ links: [TaskDependency]) -> SchedulingError? {
        do {
            _ = try schedule(tasks, links)
            return nil
        } catch {
            return error
        }
    }

    @Test func cycleNamesExactlyTheCycleInOrder() {
        let tasks = ["d", "b", "c", "a", "e"].map { planTask($0, 60) }
        let links = [planLink("d", "a"), planLink("a", "b"), planLink("b", "c"), planLink("c", "a", .startToStart), planLink("c", "e")]
        #expect(error(tasks, links) == .cycle(taskIDs: ["b", "c", "a"]))
    }

    @Test func twoTaskCycleAndCycleThroughAPhase() {
        #expect(error([planTask("x", 1), planTask("y", 1)], [planLink("x", "y"), planLink("y", "x", .finishToFinish)]) == .cycle(taskIDs: ["x", "y"]))
        let tasks = [planTask("p", 0), planTask("child", 60, parent: "p"), planTask("other", 60)]
        #expect(error(tasks, [planLink("child", "other"), planLink("other", "p")]) == .cycle(taskIDs: ["p", "child", "other"]))
    }

    @Test func unknownAndSelfLinksAreNamed() {
        let tasks = [planTask("a", 60), planTask("b", 60)]
        #expect(error(tasks, [planLink("a", "ghost"), planLink("nobody", "b"), planLink("a", "ghost")]) == .unknownTaskIDs(["ghost", "nobody"]))
        #expect(error(tasks, [planLink("a", "b"), planLink("b", "b")]) == .selfDependency(taskIDs: ["b"]))
    }

    @Test func malformedTasks() {
        #expect(error([planTask("a", 60), planTask("a", 30)], []) == .duplicateTaskID("a"))
        #expect(error([planTask("a", -1)], []) == .negativeDuration(taskID: "a"))
        #expect(error([planTask("a", 60, parent: "zz")], []) == .unknownParent(taskID: "a", parentID: "zz"))
        #expect(error([planTask("a", 60, parent: "b"), planTask("b", 60, parent: "a")], []) == .parentCycle(taskIDs: ["a", "b"]))
        var over = planTask("a", 60)
        over.percentComplete = 101
        #expect(error([over], []) == .invalidPercentComplete(taskID: "a"))
        #expect(error([planTask("p", 0), planTask("c", 60, parent: "p"), planTask("x", 60)], [planLink("x", "p", .finishToFinish)])
            == .unsupportedSummaryLink(predecessorID: "x", successorID: "p"))
        #expect(error([planTask("p", 0), planTask("c", 60, parent: "p")], [planLink("p", "c")])
            == .unsupportedSummaryLink(predecessorID: "p", successorID: "c"))
        #expect(error([planTask("a", 60), planTask("b", 60)], [planLink("a", "b", lag: Int.max)]) == .beyondHorizon(taskID: "b"))
    }
}
