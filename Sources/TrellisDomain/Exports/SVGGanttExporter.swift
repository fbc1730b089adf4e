import Foundation

/// A Gantt chart as SVG: one row per task in outline order, bars over a calendar-day axis in the
/// client's local time with non-working days shaded, phases as brackets, milestones as diamonds,
/// dependency arrows, the critical path in red, progress inside bars, baselines as ghost bars,
/// an optional today line, a legend and a title. About 1600 px wide: readable on screen and
/// printed on A4 landscape.
public struct SVGGanttExporter: TimelineRenderer {
    /// Where to draw the today line; nil draws none (the domain never reads the clock).
    public var today: Date?
    /// Above this many rows dependency arrows are left out: they would be a solid mesh and most of the file.
    public var maxArrowRows: Int
    /// Total width in px; the time axis gets what the labels leave.
    public var width: Double
    /// Inside a web page (the web app's plan page): no XML declaration and no `<style>` (the page's stylesheet styles
    /// the same classes, so no inline style is needed under its Content-Security-Policy), and each bar names its task
    /// (`data-task`, with its start day, `data-start`), and the chart says where its day axis starts and how wide a day is
    /// (`data-x0`, `data-day-width`), so the page can drag bars. The chart's own title (plan and client) is left
    /// out: the page's heading says both, and the title repeated it and ran past the chart's right edge.
    public var embedded = false
    /// Pixels per calendar day (the page's zoom); nil fits the plan into `width`.
    public var dayWidth: Double?

    public init(today: Date? = nil, maxArrowRows: Int = 1500, width: Double = 1600) {
        self.today = today
        self.maxArrowRows = maxArrowRows
        self.width = width
    }

    public var estimatedBytesPerTask: Int { 420 }

    // Layout, in px.
    private let margin = 24.0, labelWidth = 400.0, rowHeight = 24.0, barHeight = 12.0
    private let legendHeight = 26.0, axisHeight = 38.0, footerHeight = 30.0
    /// The title and subtitle lines; embedded, the subtitle only.
    private var titleHeight: Double { embedded ? 30 : 58 }

    private struct Axis {
        let startLocal: Int  // local seconds at the left edge (a local midnight)
        let days: Int
        let x0: Double
        let dayWidth: Double
        @inline(__always) func x(local: Int) -> Double { x0 + Double(local - startLocal) / 86_400 * dayWidth }
        var right: Double { x0 + Double(days) * dayWidth }
    }

    public func write(_ export: TimelineExport, to w: inout ExportWriter) {
        let ctx = ExportContext(export)
        let clock = ctx.clock
        let rows = ctx.order
        let calendar = export.plan.calendar

        // The axis: whole local days from the Monday on or before the first date to the day after the last.
        var first = clock.local(export.timeline.start), last = clock.local(export.timeline.finish)
        for i in rows {
            guard let s = ctx.scheduled[i] else { continue }
            first = min(first, clock.local(s.earlyStart)); last = max(last, clock.local(s.earlyFinish))
            if let b = ctx.details[i]?.baseline { first = min(first, clock.local(b.start)); last = max(last, clock.local(b.finish)) }
        }
        var firstDay = floorDiv(first, 86_400)
        firstDay -= LocalDate(dayNumber: firstDay).weekday.index
        let lastDay = floorDiv(last, 86_400) + 1
        let chartX = margin + labelWidth
        let available = width - chartX - margin
        // Room after the last date for the notes beside the last bars (about 130 px).
        var days = max(7, lastDay - firstDay + 1)
        days += Int((130 / max(0.25, min(40, available / Double(days)))).rounded(.up))
        let dayWidth = self.dayWidth ?? max(0.25, min(40, available / Double(days)))
        let axis = Axis(startLocal: firstDay * 86_400, days: days, x0: chartX, dayWidth: dayWidth)

        let chartTop = margin + titleHeight + legendHeight + axisHeight
        let chartHeight = Double(rows.count) * rowHeight
        let totalWidth = (axis.right + margin).rounded(.up)
        let totalHeight = (chartTop + chartHeight + footerHeight + margin).rounded(.up)

        if !embedded { w.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") }
        w.append("<svg xmlns=\"http://www.w3.org/2000/svg\"\(embedded ? " class=\"gantt-chart\" role=\"img\" data-x0=\"\(n(axis.x0))\" data-day-width=\"\(n(axis.dayWidth))\"" : "") width=\"\(n(totalWidth))\" height=\"\(n(totalHeight))\" viewBox=\"0 0 \(n(totalWidth)) \(n(totalHeight))\" font-family=\"'DejaVu Sans', 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\" font-size=\"12\">\n")
        w.append("<title>")
        ExportText.appendXML("\(export.planName) — \(export.clientName)", to: &w)
        w.append("</title>\n")
        w.append(embedded ? Self.markers + "</defs>\n" : Self.style)
        w.append("<rect class=\"page\" width=\"100%\" height=\"100%\"/>\n")

        writeHeader(ctx, axis: axis, to: &w)
        writeAxis(calendar: calendar, axis: axis, top: chartTop, height: chartHeight, rowCount: rows.count, to: &w)

        // Row backgrounds and labels.
        w.append("<g class=\"rows\">\n")
        for (r, i) in rows.enumerated() {
            let y = chartTop + Double(r) * rowHeight
            if ctx.isSummary[i] {
                w.append("<rect class=\"phase-row\" x=\"\(n(margin))\" y=\"\(n(y))\" width=\"\(n(axis.right - margin))\" height=\"\(n(rowHeight))\"/>\n")
            } else if r % 2 == 1 {
                w.append("<rect class=\"zebra\" x=\"\(n(margin))\" y=\"\(n(y))\" width=\"\(n(axis.right - margin))\" height=\"\(n(rowHeight))\"/>\n")
            }
            writeLabel(i, ctx, y: y, to: &w)
            w.flushIfNeeded()
        }
        w.append("</g>\n")

        // Dependency arrows under the bars.
        if rows.count <= maxArrowRows {
            w.append("<g class=\"links\">\n")
            for k in export.plan.dependencies.indices {
                writeLink(k, ctx, axis: axis, top: chartTop, to: &w)
            }
            w.append("</g>\n")
            w.flushIfNeeded()
        }

        w.append("<g class=\"bars\">\n")
        for (r, i) in rows.enumerated() {
            writeBar(i, ctx, axis: axis, y: chartTop + Double(r) * rowHeight, to: &w)
            w.flushIfNeeded()
        }
        w.append("</g>\n")

        if let today {
            let x = axis.x(local: clock.local(today))
            if x >= axis.x0 && x <= axis.right {
                w.append("<g class=\"today\"><line x1=\"\(n(x))\" y1=\"\(n(chartTop - 6))\" x2=\"\(n(x))\" y2=\"\(n(chartTop + chartHeight))\"/>")
                w.append("<text x=\"\(n(x + 4))\" y=\"\(n(chartTop + 10))\">Today</text></g>\n")
            }
        }

        var footer = "Times in \(export.clientTimeZone.identifier) · working time " + Self.describe(calendar)
            + " · generated " + clock.format(export.generatedAt, .minutes)
        if rows.count > maxArrowRows { footer += " · dependency arrows omitted above \(maxArrowRows) rows" }
        w.append("<text class=\"footer\" x=\"\(n(margin))\" y=\"\(n(chartTop + chartHeight + 22))\">")
        ExportText.appendXML(footer, to: &w)
        w.append("</text>\n</svg>\n")
    }

    // MARK: Header and axis

    private func writeHeader(_ ctx: ExportContext, axis: Axis, to w: inout ExportWriter) {
        let e = ctx.export
        if !embedded {
            w.append("<text class=\"title\" x=\"\(n(margin))\" y=\"\(n(margin + 22))\">")
            ExportText.appendXML(e.planName, to: &w)
            w.append("<tspan class=\"client\" dx=\"10\">")
            ExportText.appendXML(e.clientName, to: &w)
            w.append("</tspan></text>\n")
        }
        let start = ctx.clock.format(e.timeline.start, .date), finish = ctx.clock.format(e.timeline.finish, .date)
        let workingDays = Double(e.timeline.finishMinute) / Double(ctx.minutesPerDay)
        w.append("<text class=\"subtitle\" x=\"\(n(margin))\" y=\"\(n(margin + titleHeight - 14))\">")
        ExportText.appendXML("\(start) → \(finish) · \(ExportText.decimal(workingDays, digits: 1)) working days · \(ctx.order.count) rows · critical path: \(e.timeline.criticalPath.count) tasks", to: &w)
        w.append("</text>\n")

        // Legend: one swatch and word per mark.
        var x = margin
        let y = margin + titleHeight + 4
        func item(_ swatch: String, _ label: String, _ width: Double, _ w: inout ExportWriter) {
            w.append(swatch)
            w.append("<text class=\"legend\" x=\"\(n(x + 22))\" y=\"\(n(y + 11))\">\(label)</text>\n")
            x += width
        }
        w.append("<g class=\"legend-box\">\n")
        item("<rect class=\"bar\" x=\"\(n(x))\" y=\"\(n(y + 2))\" width=\"18\" height=\"10\" rx=\"2\"/>", "Task", 70, &w)
        item("<rect class=\"bar critical\" x=\"\(n(x))\" y=\"\(n(y + 2))\" width=\"18\" height=\"10\" rx=\"2\"/>", "Critical path", 118, &w)
        item("<rect class=\"bar\" x=\"\(n(x))\" y=\"\(n(y + 2))\" width=\"18\" height=\"10\" rx=\"2\"/><rect class=\"progress\" x=\"\(n(x))\" y=\"\(n(y + 2))\" width=\"10\" height=\"10\" rx=\"2\"/>", "Progress", 92, &w)
        item("<rect class=\"baseline\" x=\"\(n(x))\" y=\"\(n(y + 9))\" width=\"18\" height=\"4\"/>", "Baseline", 90, &w)
        item("<path class=\"phase\" d=\"\(phasePath(x: x, width: 18, y: y + 3))\"/>", "Phase", 76, &w)
        item("<path class=\"milestone\" d=\"\(diamond(x: x + 9, y: y + 7, r: 6))\"/>", "Milestone", 96, &w)
        item("<path class=\"link\" d=\"M\(n(x)),\(n(y + 4))H\(n(x + 8))V\(n(y + 10))H\(n(x + 16))\"\(embedded ? "" : " marker-end=\"url(#arrow)\"")/>", "Dependency", 110, &w)
        item("<rect class=\"off\" x=\"\(n(x))\" y=\"\(n(y))\" width=\"18\" height=\"14\"/>", "Non-working day", 140, &w)
        if today != nil {
            item("<line class=\"today-swatch\" x1=\"\(n(x + 9))\" y1=\"\(n(y))\" x2=\"\(n(x + 9))\" y2=\"\(n(y + 14))\"/>", "Today", 70, &w)
        }
        w.append("</g>\n")
    }

    private func writeAxis(calendar: WorkCalendar, axis: Axis, top: Double, height: Double, rowCount: Int, to w: inout ExportWriter) {
        let firstDay = axis.startLocal / 86_400
        let headerTop = top - axisHeight
        w.append("<g class=\"axis\">\n")
        // Non-working days, merged into runs (a weekend is one rectangle).
        var d = 0
        while d < axis.days {
            guard calendar.intervals(on: LocalDate(dayNumber: firstDay + d)).isEmpty else { d += 1; continue }
            var end = d + 1
            while end < axis.days && calendar.intervals(on: LocalDate(dayNumber: firstDay + end)).isEmpty { end += 1 }
            let x = axis.x0 + Double(d) * axis.dayWidth
            w.append("<rect class=\"off\" x=\"\(n(x))\" y=\"\(n(top))\" width=\"\(n(Double(end - d) * axis.dayWidth))\" height=\"\(n(height))\"/>\n")
            d = end
        }
        // Months on the first header line, week starts (Mondays) on the second.
        let monthWide = axis.dayWidth * 30 >= 56
        let weekWide = axis.dayWidth * 7 >= 18
        for day in 0..<axis.days {
            let date = LocalDate(dayNumber: firstDay + day)
            let x = axis.x0 + Double(day) * axis.dayWidth
            if date.day == 1 || day == 0 {
                if date.day == 1 {
                    w.append("<line class=\"month\" x1=\"\(n(x))\" y1=\"\(n(headerTop))\" x2=\"\(n(x))\" y2=\"\(n(top + height))\"/>\n")
                }
                // The partial first month is labelled only when its label cannot run into the next one.
                let roomy = date.day == 1 || Double(LocalDate.daysInMonth(year: date.year, month: date.month) - date.day + 1) * axis.dayWidth >= 64
                if roomy && (monthWide || date.month == 1 || day == 0) {
                    let label = monthWide ? Self.monthNames[date.month - 1] + " " + String(date.year) : String(date.year)
                    w.append("<text class=\"month-label\" x=\"\(n(x + 4))\" y=\"\(n(headerTop + 13))\">\(label)</text>\n")
                }
            }
            if date.weekday == .monday && weekWide {
                w.append("<line class=\"week\" x1=\"\(n(x))\" y1=\"\(n(headerTop + 20))\" x2=\"\(n(x))\" y2=\"\(n(top + height))\"/>\n")
                w.append("<text class=\"week-label\" x=\"\(n(x + 2))\" y=\"\(n(headerTop + 32))\">\(date.day)</text>\n")
            }
        }
        w.append("<line class=\"frame\" x1=\"\(n(margin))\" y1=\"\(n(top))\" x2=\"\(n(axis.right))\" y2=\"\(n(top))\"/>\n")
        w.append("<line class=\"frame\" x1=\"\(n(axis.x0))\" y1=\"\(n(headerTop))\" x2=\"\(n(axis.x0))\" y2=\"\(n(top + height))\"/>\n")
        w.append("<text class=\"column\" x=\"\(n(margin + 4))\" y=\"\(n(headerTop + 32))\">Task</text>\n")
        w.append("</g>\n")
    }

    // MARK: Rows

    private func writeLabel(_ i: Int, _ ctx: ExportContext, y: Double, to w: inout ExportWriter) {
        let indent = Double(max(0, ctx.level[i] - 1)) * 14
        let x = margin + 6 + indent
        let summary = ctx.isSummary[i]
        // Names longer than the column lose their middle, where similar names ("… (month 4)") differ least;
        // the full name is the tooltip.
        let name = ctx.tasks[i].name.replacingOccurrences(of: "\n", with: " ")
        let room = max(8, Int((labelWidth - 16 - indent - 34) / (summary ? 7.6 : 6.9)))
        let count = name.count
        let shown = count > room ? String(name.prefix(room * 3 / 5)) + "…" + String(name.suffix(room - 1 - room * 3 / 5)) : name
        w.append("<text class=\"\(summary ? "label phase-label" : "label")\" x=\"\(n(x))\" y=\"\(n(y + 16))\"><tspan class=\"wbs\">")
        w.append(ctx.wbs[i])
        w.append("</tspan> ")
        ExportText.appendXML(shown, to: &w)
        if shown != name {
            w.append("<title>")
            ExportText.appendXML(name, to: &w)
            w.append("</title>")
        }
        w.append("</text>\n")
    }

    private func writeBar(_ i: Int, _ ctx: ExportContext, axis: Axis, y: Double, to w: inout ExportWriter) {
        guard let s = ctx.scheduled[i] else { return }
        let clock = ctx.clock
        let x1 = axis.x(local: clock.local(s.earlyStart)), x2 = axis.x(local: clock.local(s.earlyFinish))
        let mid = y + rowHeight / 2
        var labelX = x2 + 6

        if let b = ctx.details[i]?.baseline, !ctx.isSummary[i] {
            let bx1 = axis.x(local: clock.local(b.start)), bx2 = axis.x(local: clock.local(b.finish))
            w.append("<rect class=\"baseline\" x=\"\(n(bx1))\" y=\"\(n(mid + barHeight / 2))\" width=\"\(n(max(2, bx2 - bx1)))\" height=\"4\"><title>Baseline \(clock.format(b.start, .minutes)) → \(clock.format(b.finish, .minutes))</title></rect>\n")
            labelX = max(labelX, bx2 + 6)
        }
        let tip = "\(clock.format(s.earlyStart, .minutes)) → \(clock.format(s.earlyFinish, .minutes)) · slack \(ExportText.decimal(Double(s.totalSlack) / 60, digits: 1)) h"
        if ctx.isSummary[i] {
            w.append("<path class=\"phase\" d=\"\(phasePath(x: x1, width: max(2, x2 - x1), y: mid - 5))\"><title>\(tip)</title></path>\n")
            return
        }
        let critical = s.isCritical ? " critical" : ""
        if s.isMilestone {
            w.append("<path class=\"milestone\(critical)\" d=\"\(diamond(x: x1, y: mid, r: 7))\"><title>\(tip)</title></path>\n")
            w.append("<text class=\"note\" x=\"\(n(x1 + 10))\" y=\"\(n(mid + 4))\">\(Self.shortDate(clock.local(s.earlyStart)))</text>\n")
            return
        }
        let width = max(2, x2 - x1)
        w.append("<rect class=\"bar\(critical)\"\(embedded ? " data-task=\"\(ctx.export.plan.tasks[i].id)\" data-start=\"\(LocalDate(dayNumber: floorDiv(clock.local(s.earlyStart), 86_400)))\"" : "") x=\"\(n(x1))\" y=\"\(n(mid - barHeight / 2 - 1))\" width=\"\(n(width))\" height=\"\(n(barHeight))\" rx=\"2\"><title>\(tip)</title></rect>\n")
        let percent = ctx.percent[i]
        if percent > 0 {
            w.append("<rect class=\"progress\(critical)\" x=\"\(n(x1))\" y=\"\(n(mid - barHeight / 2 - 1))\" width=\"\(n(width * Double(percent) / 100))\" height=\"\(n(barHeight))\" rx=\"2\"/>\n")
        }
        // Who does it, after the bar (before it when the bar ends near the right edge).
        if let who = ctx.assignee(i) {
            let text = percent > 0 ? "\(who) · \(percent)%" : who
            let anchorEnd = labelX + Double(text.count) * 6 > axis.right
            w.append("<text class=\"note\" x=\"\(n(anchorEnd ? x1 - 6 : labelX))\" y=\"\(n(mid + 3))\"\(anchorEnd ? " text-anchor=\"end\"" : "")>")
            ExportText.appendXML(text, to: &w)
            w.append("</text>\n")
        }
    }

    /// An elbow from the predecessor's start or finish to the successor's start or finish: out
    /// horizontally, down (or up) between the rows, in horizontally with an arrowhead.
    private func writeLink(_ k: Int, _ ctx: ExportContext, axis: Axis, top: Double, to w: inout ExportWriter) {
        let from = ctx.linkFrom[k], to = ctx.linkTo[k]
        guard from >= 0, to >= 0, ctx.row[from] > 0, ctx.row[to] > 0,
              let a = ctx.scheduled[from], let b = ctx.scheduled[to] else { return }
        let kind = ctx.export.plan.dependencies[k].kind
        let clock = ctx.clock
        let fromFinish = kind == .finishToStart || kind == .finishToFinish
        let toStart = kind == .finishToStart || kind == .startToStart
        let x1 = axis.x(local: clock.local(fromFinish ? a.earlyFinish : a.earlyStart))
        let x2 = axis.x(local: clock.local(toStart ? b.earlyStart : b.earlyFinish))
        let y1 = top + (Double(ctx.row[from]) - 0.5) * rowHeight
        let y2 = top + (Double(ctx.row[to]) - 0.5) * rowHeight
        let out = fromFinish ? 6.0 : -6.0        // leave away from the bar
        let into = toStart ? -7.0 : 7.0          // arrive from outside the bar
        let gutter = y2 > y1 ? y2 - rowHeight / 2 : y2 + rowHeight / 2
        var d = "M\(n(x1)),\(n(y1))H\(n(x1 + out))"
        if (toStart && x1 + out <= x2 + into) || (!toStart && x1 + out >= x2 + into) {
            d += "V\(n(y2))H\(n(x2))"  // a plain elbow
        } else {
            d += "V\(n(gutter))H\(n(x2 + into))V\(n(y2))H\(n(x2))"
        }
        let critical = a.isCritical && b.isCritical ? " critical" : ""
        // Embedded, the page's style sheet puts the arrowhead on (`.gantt-chart .link`): 30 bytes less per arrow.
        w.append(embedded ? "<path class=\"link\(critical)\" d=\"\(d)\"/>\n"
            : "<path class=\"link\(critical)\" d=\"\(d)\" marker-end=\"url(#arrow\(critical.isEmpty ? "" : "-critical"))\"/>\n")
    }

    // MARK: Shapes and text

    private func diamond(x: Double, y: Double, r: Double) -> String {
        "M\(n(x)),\(n(y - r))L\(n(x + r)),\(n(y))L\(n(x)),\(n(y + r))L\(n(x - r)),\(n(y))Z"
    }

    /// A thin bar with downward points at both ends, MS Project's summary shape.
    private func phasePath(x: Double, width: Double, y: Double) -> String {
        let h = 6.0, tip = min(5, width / 2)
        return "M\(n(x)),\(n(y))H\(n(x + width))V\(n(y + h + 4))L\(n(x + width - tip)),\(n(y + h))H\(n(x + tip))L\(n(x)),\(n(y + h + 4))Z"
    }

    /// One decimal at most; coordinates need no more.
    @inline(__always)
    private func n(_ v: Double) -> String { ExportText.decimal(v, digits: 1) }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func shortDate(_ local: Int) -> String {
        let d = LocalDate(dayNumber: floorDiv(local, 86_400))
        return "\(d.day) \(monthNames[d.month - 1])"
    }

    /// "Mon–Fri 09:00–14:00", "Mon–Thu 09:00–17:00; Fri 09:00–14:00".
    static func describe(_ calendar: WorkCalendar) -> String {
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        var groups: [(from: Int, to: Int, hours: String)] = []
        for (k, day) in Weekday.allCases.enumerated() {
            let intervals = calendar.weekly[day] ?? []
            guard !intervals.isEmpty else { continue }
            let hours = intervals.map(\.description).joined(separator: ", ")
            if let last = groups.last, last.to == k - 1, last.hours == hours {
                groups[groups.count - 1].to = k
            } else {
                groups.append((k, k, hours))
            }
        }
        return groups.map { ($0.from == $0.to ? names[$0.from] : names[$0.from] + "–" + names[$0.to]) + " " + $0.hours }
            .joined(separator: "; ")
    }

    static let markers = """
        <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,1 L9,5 L0,9 z" fill="#5f6b7a"/></marker>
        <marker id="arrow-critical" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,1 L9,5 L0,9 z" fill="#c62828"/></marker>

        """

    static let style = markers + """
        <style>
        .page { fill: #ffffff; }
        .title { font-size: 22px; font-weight: 700; fill: #1d2733; }
        .client { font-size: 18px; font-weight: 400; fill: #5f6b7a; }
        .subtitle { font-size: 13px; fill: #5f6b7a; }
        .legend { font-size: 12px; fill: #33404f; }
        .zebra { fill: #f6f8fa; }
        .phase-row { fill: #eef2f7; }
        .off { fill: #e9ecf0; opacity: 0.75; }
        .month { stroke: #9aa5b1; stroke-width: 1; }
        .week { stroke: #d5dbe1; stroke-width: 1; }
        .frame { stroke: #9aa5b1; stroke-width: 1; }
        .month-label { font-size: 12px; font-weight: 600; fill: #33404f; }
        .week-label, .column { font-size: 11px; fill: #5f6b7a; }
        .column { font-weight: 600; }
        .label { font-size: 12px; fill: #1d2733; }
        .phase-label { font-weight: 700; }
        .wbs { fill: #8593a3; font-size: 11px; }
        .bar { fill: #6d9eeb; stroke: #3c6fc4; stroke-width: 0.8; }
        .bar.critical { fill: #ef8a84; stroke: #c62828; }
        .progress { fill: #2f5fb3; opacity: 0.85; }
        .progress.critical { fill: #a61b1b; }
        .baseline { fill: #7c8794; opacity: 0.55; }
        .phase { fill: #26313d; }
        .milestone { fill: #26313d; stroke: #ffffff; stroke-width: 1; }
        .milestone.critical { fill: #c62828; }
        .link { fill: none; stroke: #7c8794; stroke-width: 1.1; }
        .link.critical { stroke: #c62828; stroke-width: 1.4; }
        .note { font-size: 10.5px; fill: #5f6b7a; }
        .today line, .today-swatch { stroke: #e8590c; stroke-width: 1.6; stroke-dasharray: 5 3; }
        .today text { font-size: 11px; font-weight: 600; fill: #e8590c; }
        .footer { font-size: 11px; fill: #8593a3; }
        </style>
        </defs>

        """
}
