import Foundation
import Testing
@testable import TrellisDomain

/// Builds an instant from a local wall-clock time with Foundation's own calendar, independently of
/// the domain's time-zone code.
func localInstant(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0, zone: String) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: zone) ?? TimeZone(secondsFromGMT: 0)!
    let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
    return calendar.date(from: components)!
}

func utcInstant(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
    localInstant(year, month, day, hour, minute, zone: "UTC")
}

func localDate(_ iso: String) -> LocalDate { LocalDate(iso)! }

let minutesPerHour = 60
/// A day on the part-time calendar.
let partTimeDay = 300

func partTimeCalendar(_ zone: String = "Europe/Madrid", holidays: [String] = []) throws -> WorkCalendar {
    try WorkCalendar.partTimeMornings(timeZone: zone).adding(holidays: holidays.map(localDate))
}

func planTask(_ id: String, _ minutes: Int, parent: String? = nil, constraint: TaskConstraint? = nil) -> PlanTask {
    PlanTask(id: id, name: id, durationMinutes: minutes, parentID: parent, constraint: constraint)
}

func planLink(_ from: String, _ to: String, _ kind: DependencyKind = .finishToStart, lag: Int = 0) -> TaskDependency {
    TaskDependency(predecessorID: from, successorID: to, kind: kind, lagMinutes: lag)
}

extension Timeline {
    subscript(id: String) -> ScheduledTask {
        guard let task = task(withID: id) else {
            Issue.record("no task \(id) in the timeline")
            return tasks[0]
        }
        return task
    }
}

/// Whether a link holds between two scheduled tasks, measured with the calendar's own
/// working-minute arithmetic on the instants (not with the engine's axis positions).
func linkHolds(_ link: TaskDependency, _ p: ScheduledTask, _ s: ScheduledTask, calendar: WorkCalendar, late: Bool = false) -> Bool {
    linkGap(link, p, s, calendar: calendar, late: late) >= link.lagMinutes
}

/// Working minutes between the two ends a link relates (successor end minus predecessor end).
func linkGap(_ link: TaskDependency, _ p: ScheduledTask, _ s: ScheduledTask, calendar: WorkCalendar, late: Bool = false) -> Int {
    let pStart = late ? p.lateStart : p.earlyStart, pFinish = late ? p.lateFinish : p.earlyFinish
    let sStart = late ? s.lateStart : s.earlyStart, sFinish = late ? s.lateFinish : s.earlyFinish
    switch link.kind {
    case .finishToStart: return calendar.workingMinutes(from: pFinish, to: sStart)
    case .startToStart: return calendar.workingMinutes(from: pStart, to: sStart)
    case .finishToFinish: return calendar.workingMinutes(from: pFinish, to: sFinish)
    case .startToFinish: return calendar.workingMinutes(from: pStart, to: sFinish)
    }
}
