import Foundation

/// Microsoft Project XML (MSPDI), as MS Project 2007+ and MPXJ read it.
///
/// Dates are local wall-clock times of the client's zone (MSPDI has no zones). Elements follow the
/// schema's order, since MS Project validates it. Phases become summary tasks; the Trellis task id
/// goes into the task's Text1 field so a round trip can match tasks.
public struct MSPDIExporter: TimelineRenderer {
    public init() {}

    public var estimatedBytesPerTask: Int { 1600 }

    /// MS Project's field id of Task Text1.
    static let text1FieldID = "188743731"

    public func write(_ export: TimelineExport, to w: inout ExportWriter) {
        let ctx = ExportContext(export)
        let calendar = export.plan.calendar
        let clock = ctx.clock
        let mpd = ctx.minutesPerDay

        w.append("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n")
        w.append("<Project xmlns=\"http://schemas.microsoft.com/project\">\n")
        w.append("<SaveVersion>14</SaveVersion>\n")
        element("Name", export.planName, &w)
        element("Title", export.planName, &w)
        element("Company", export.clientName, &w)
        element("Author", "Trellis", &w)
        w.append("<CreationDate>"); clock.append(export.generatedAt, .localISO, to: &w); w.append("</CreationDate>\n")
        w.append("<ScheduleFromStart>1</ScheduleFromStart>\n")
        w.append("<StartDate>"); clock.append(export.timeline.start, .localISO, to: &w); w.append("</StartDate>\n")
        w.append("<FinishDate>"); clock.append(export.timeline.finish, .localISO, to: &w); w.append("</FinishDate>\n")
        w.append("<CalendarUID>1</CalendarUID>\n")
        let week = Weekday.allCases.flatMap { calendar.weekly[$0] ?? [] }
        let dayStart = week.map(\.startMinute).min() ?? 9 * 60
        let dayEnd = week.map(\.endMinute).max() ?? 17 * 60
        w.append("<DefaultStartTime>" + clockTime(dayStart) + "</DefaultStartTime>\n")
        w.append("<DefaultFinishTime>" + clockTime(dayEnd) + "</DefaultFinishTime>\n")
        w.append("<MinutesPerDay>\(mpd)</MinutesPerDay>\n")
        w.append("<MinutesPerWeek>\(calendar.minutesPerWeek)</MinutesPerWeek>\n")
        w.append("<DaysPerMonth>20</DaysPerMonth>\n")
        w.append("<DefaultTaskType>1</DefaultTaskType>\n")  // fixed duration: assignments do not stretch tasks
        w.append("<DurationFormat>7</DurationFormat>\n")
        // Trellis lets links win over constraint dates (a missed deadline shows as negative slack): so does this option.
        w.append("<HonorConstraints>0</HonorConstraints>\n")
        w.append("<ExtendedAttributes><ExtendedAttribute><FieldID>\(Self.text1FieldID)</FieldID><FieldName>Text1</FieldName><Alias>Trellis ID</Alias></ExtendedAttribute></ExtendedAttributes>\n")

        writeCalendar(calendar, name: "\(export.clientName) (\(calendar.timeZoneID))", to: &w)

        w.append("<Tasks>\n")
        for i in ctx.order {
            writeTask(i, ctx, to: &w)
            w.flushIfNeeded()
        }
        w.append("</Tasks>\n")

        writeResourcesAndAssignments(ctx, to: &w)
        w.append("</Project>\n")
    }

    // MARK: Calendar

    /// The base calendar: the weekly pattern, then one exception day per holiday or exception date
    /// (the MSPDI 2003 form, WeekDay with DayType 0 and a TimePeriod, which every MS Project and MPXJ read).
    private func writeCalendar(_ calendar: WorkCalendar, name: String, to w: inout ExportWriter) {
        w.append("<Calendars>\n<Calendar>\n<UID>1</UID>\n")
        element("Name", name, &w)
        w.append("<IsBaseCalendar>1</IsBaseCalendar>\n<IsBaselineCalendar>0</IsBaselineCalendar>\n<BaseCalendarUID>-1</BaseCalendarUID>\n<WeekDays>\n")
        let days: [Weekday] = [.sunday, .monday, .tuesday, .wednesday, .thursday, .friday, .saturday]
        for (k, day) in days.enumerated() {
            let intervals = calendar.weekly[day] ?? []
            w.append("<WeekDay><DayType>\(k + 1)</DayType><DayWorking>\(intervals.isEmpty ? 0 : 1)</DayWorking>")
            writeWorkingTimes(intervals, to: &w)
            w.append("</WeekDay>\n")
        }
        // The calendar's precedence: an exception wins over a holiday on the same date.
        let dates = Set(calendar.holidays).union(calendar.exceptions.keys).sorted()
        for date in dates {
            let intervals = calendar.exceptions[date] ?? []
            let day = date.description
            w.append("<WeekDay><DayType>0</DayType><DayWorking>\(intervals.isEmpty ? 0 : 1)</DayWorking>")
            w.append("<TimePeriod><FromDate>\(day)T00:00:00</FromDate><ToDate>\(day)T23:59:00</ToDate></TimePeriod>")
            writeWorkingTimes(intervals, to: &w)
            w.append("</WeekDay>\n")
        }
        w.append("</WeekDays>\n</Calendar>\n</Calendars>\n")
    }

    private func writeWorkingTimes(_ intervals: [WorkingInterval], to w: inout ExportWriter) {
        guard !intervals.isEmpty else { return }
        w.append("<WorkingTimes>")
        for interval in intervals {
            w.append("<WorkingTime><FromTime>" + clockTime(interval.startMinute) + "</FromTime><ToTime>"
                     + clockTime(interval.endMinute) + "</ToTime></WorkingTime>")
        }
        w.append("</WorkingTimes>")
    }

    // MARK: Tasks

    private func writeTask(_ i: Int, _ ctx: ExportContext, to w: inout ExportWriter) {
        guard let s = ctx.scheduled[i] else { return }
        let task = ctx.tasks[i]
        let clock = ctx.clock
        let mpd = ctx.minutesPerDay
        let summary = ctx.isSummary[i]
        let uid = ctx.row[i]
        let duration = max(0, s.durationMinutes)

        w.append("<Task>\n<UID>"); w.append(uid); w.append("</UID>\n<ID>"); w.append(uid); w.append("</ID>\n")
        element("Name", task.name, &w)
        w.append("<Type>1</Type>\n<IsNull>0</IsNull>\n")
        let wbs = ctx.wbs[i]
        w.append("<WBS>"); w.append(wbs); w.append("</WBS>\n<OutlineNumber>"); w.append(wbs)
        w.append("</OutlineNumber>\n<OutlineLevel>"); w.append(ctx.level[i]); w.append("</OutlineLevel>\n")
        w.append("<Priority>500</Priority>\n")
        w.append("<Start>"); clock.append(s.earlyStart, .localISO, to: &w); w.append("</Start>\n")
        w.append("<Finish>"); clock.append(s.earlyFinish, .localISO, to: &w); w.append("</Finish>\n")
        w.append("<Duration>"); w.append(Self.duration(minutes: duration)); w.append("</Duration>\n")
        w.append("<DurationFormat>"); w.append(duration % mpd == 0 ? 7 : 5); w.append("</DurationFormat>\n")
        w.append("<Estimated>0</Estimated>\n")
        w.append("<Milestone>"); w.append(s.isMilestone ? 1 : 0); w.append("</Milestone>\n<Summary>"); w.append(summary ? 1 : 0); w.append("</Summary>\n<Critical>"); w.append(s.isCritical ? 1 : 0); w.append("</Critical>\n")
        w.append("<EarlyStart>"); clock.append(s.earlyStart, .localISO, to: &w); w.append("</EarlyStart>\n")
        w.append("<EarlyFinish>"); clock.append(s.earlyFinish, .localISO, to: &w); w.append("</EarlyFinish>\n")
        w.append("<LateStart>"); clock.append(s.lateStart, .localISO, to: &w); w.append("</LateStart>\n")
        w.append("<LateFinish>"); clock.append(s.lateFinish, .localISO, to: &w); w.append("</LateFinish>\n")
        // Slack is in tenths of a minute, like link lags.
        w.append("<FreeSlack>"); w.append(s.freeSlack * 10); w.append("</FreeSlack>\n<TotalSlack>"); w.append(s.totalSlack * 10); w.append("</TotalSlack>\n")
        w.append("<PercentComplete>"); w.append(ctx.percent[i]); w.append("</PercentComplete>\n")
        if !summary {
            if let a = task.actualStart { w.append("<ActualStart>"); clock.append(a, .localISO, to: &w); w.append("</ActualStart>\n") }
            if let a = task.actualFinish { w.append("<ActualFinish>"); clock.append(a, .localISO, to: &w); w.append("</ActualFinish>\n") }
        }
        if let c = task.constraint {
            w.append("<ConstraintType>"); w.append(Self.constraintType(c.kind)); w.append("</ConstraintType>\n")
            w.append("<ConstraintDate>"); clock.append(c.date, .localISO, to: &w); w.append("</ConstraintDate>\n")
        } else {
            w.append("<ConstraintType>0</ConstraintType>\n")
        }
        if let notes = notes(i, ctx) { element("Notes", notes, &w) }
        for k in ctx.links(into: i) {
            let link = ctx.export.plan.dependencies[k]
            let from = ctx.linkFrom[k]
            guard ctx.row[from] > 0 else { continue }
            w.append("<PredecessorLink><PredecessorUID>"); w.append(ctx.row[from]); w.append("</PredecessorUID><Type>"); w.append(Self.linkType(link.kind)); w.append("</Type>")
            w.append("<CrossProject>0</CrossProject><LinkLag>"); w.append(link.lagMinutes * 10); w.append("</LinkLag><LagFormat>"); w.append(link.lagMinutes % mpd == 0 ? 7 : 5); w.append("</LagFormat></PredecessorLink>\n")
        }
        w.append("<ExtendedAttribute><FieldID>"); w.append(Self.text1FieldID); w.append("</FieldID><Value>")
        ExportText.appendXML(task.id, to: &w)
        w.append("</Value></ExtendedAttribute>\n")
        if let b = ctx.details[i]?.baseline {
            w.append("<Baseline><Number>0</Number><Start>"); clock.append(b.start, .localISO, to: &w)
            w.append("</Start><Finish>"); clock.append(b.finish, .localISO, to: &w); w.append("</Finish>")
            if let d = b.durationMinutes {
                w.append("<Duration>" + Self.duration(minutes: max(0, d)) + "</Duration><DurationFormat>\(d % mpd == 0 ? 7 : 5)</DurationFormat>")
            }
            w.append("</Baseline>\n")
        }
        w.append("</Task>\n")
    }

    private func notes(_ i: Int, _ ctx: ExportContext) -> String? {
        guard let d = ctx.details[i] else { return nil }
        var lines: [String] = []
        if let role = d.role { lines.append("Role: " + role) }
        if let who = ctx.assignee(i) { lines.append("Assignee: " + who) }
        if !d.checklist.isEmpty {
            lines.append("Checklist:")
            for item in d.checklist { lines.append((item.isDone ? "[x] " : "[ ] ") + item.text) }
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    // MARK: Resources

    private func writeResourcesAndAssignments(_ ctx: ExportContext, to w: inout ExportWriter) {
        let resources = ctx.export.resources
        let clock = ctx.clock
        var uid: [String: Int] = [:]
        w.append("<Resources>\n")
        for (k, r) in resources.enumerated() where uid[r.id] == nil {
            uid[r.id] = k + 1
            w.append("<Resource><UID>"); w.append(k + 1); w.append("</UID><ID>"); w.append(k + 1); w.append("</ID>")
            element("Name", r.name, &w, newline: false)
            w.append("<Type>1</Type><IsNull>0</IsNull>")
            element("Initials", initials(r.name), &w, newline: false)
            if let email = r.email { element("EmailAddress", email, &w, newline: false) }
            w.append("<MaxUnits>" + ExportText.decimal(r.units) + "</MaxUnits></Resource>\n")
        }
        w.append("</Resources>\n<Assignments>\n")
        var next = 1
        for i in ctx.order where !ctx.isSummary[i] {
            guard let d = ctx.details[i], !d.resourceIDs.isEmpty, let s = ctx.scheduled[i] else { continue }
            for id in d.resourceIDs {
                guard let r = uid[id] else { continue }
                let units = resources[r - 1].units
                let work = Double(max(0, s.durationMinutes)) * units
                w.append("<Assignment><UID>"); w.append(next); w.append("</UID><TaskUID>"); w.append(ctx.row[i]); w.append("</TaskUID><ResourceUID>"); w.append(r); w.append("</ResourceUID>")
                w.append("<Finish>"); clock.append(s.earlyFinish, .localISO, to: &w); w.append("</Finish><Start>"); clock.append(s.earlyStart, .localISO, to: &w); w.append("</Start>")
                w.append("<Units>" + ExportText.decimal(units) + "</Units><Work>" + Self.duration(minutes: Int(work.rounded())) + "</Work></Assignment>\n")
                next += 1
            }
            w.flushIfNeeded()
        }
        w.append("</Assignments>\n")
    }

    private func initials(_ name: String) -> String {
        String(name.split(separator: " ").compactMap(\.first).prefix(3))
    }

    // MARK: Encodings

    private func element(_ name: String, _ value: String, _ w: inout ExportWriter, newline: Bool = true) {
        w.append("<" + name + ">")
        ExportText.appendXML(value, to: &w)
        w.append(newline ? "</" + name + ">\n" : "</" + name + ">")
    }

    /// `PT25H0M0S`.
    static func duration(minutes: Int) -> String { "PT\(minutes / 60)H\(minutes % 60)M0S" }

    /// "09:00:00"; the end of the day (24:00) is written 00:00:00, as MS Project does.
    private func clockTime(_ minute: Int) -> String {
        let m = minute % 1440
        return WorkingInterval.formatClock(m) + ":00"
    }

    static func linkType(_ kind: DependencyKind) -> Int {
        switch kind {
        case .finishToFinish: 0
        case .finishToStart: 1
        case .startToFinish: 2
        case .startToStart: 3
        }
    }

    static func constraintType(_ kind: ConstraintKind) -> Int {
        switch kind {
        case .mustStartOn: 2
        case .mustFinishOn: 3
        case .startNoEarlierThan: 4
        case .startNoLaterThan: 5
        case .finishNoEarlierThan: 6
        case .finishNoLaterThan: 7
        }
    }
}
