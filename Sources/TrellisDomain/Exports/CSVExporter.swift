import Foundation

/// CSV (RFC 4180): a header row, then one row per task in outline order (phases included), CRLF
/// line endings, fields quoted only when needed. Dates are ISO 8601 with the client zone's offset.
///
/// Text that a spreadsheet would run as a formula (starting with = + - @ or a tab/CR) gets a leading
/// apostrophe: an exported plan must not be a way to run formulas on a client's machine.
public struct CSVExporter: TimelineRenderer {
    /// A UTF-8 byte order mark first, so Excel opens accented names correctly.
    public var byteOrderMark: Bool

    public init(byteOrderMark: Bool = false) {
        self.byteOrderMark = byteOrderMark
    }

    public static let columns = [
        "row", "id", "wbs", "name", "phase", "summary", "milestone", "start", "finish", "duration_hours",
        "percent_complete", "assignee", "role", "total_slack_hours", "free_slack_hours", "critical",
        "predecessors", "baseline_start", "baseline_finish", "variance_days",
    ]

    public func write(_ export: TimelineExport, to w: inout ExportWriter) {
        let ctx = ExportContext(export)
        let clock = ctx.clock
        let mpd = Double(ctx.minutesPerDay)
        let variances = ctx.baselineFinishVariances()
        if byteOrderMark { w.append("\u{FEFF}") }
        w.append(Self.columns.joined(separator: ","))
        w.append("\r\n")
        for i in ctx.order {
            guard let s = ctx.scheduled[i] else { continue }
            let task = ctx.tasks[i]
            let baseline = ctx.details[i]?.baseline
            w.append(String(ctx.row[i])); w.append(",")
            field(task.id, &w); w.append(",")
            w.append(ctx.wbs[i]); w.append(",")
            text(task.name, &w); w.append(",")
            text(ctx.phaseName(i) ?? "", &w); w.append(",")
            w.append(ctx.isSummary[i] ? "true," : "false,")
            w.append(s.isMilestone ? "true," : "false,")
            clock.append(s.earlyStart, .iso, to: &w); w.append(",")
            clock.append(s.earlyFinish, .iso, to: &w); w.append(",")
            w.append(ExportText.decimal(Double(s.durationMinutes) / 60)); w.append(",")
            w.append(String(ctx.percent[i])); w.append(",")
            text(ctx.assignee(i) ?? "", &w); w.append(",")
            text(ctx.details[i]?.role ?? "", &w); w.append(",")
            w.append(ExportText.decimal(Double(s.totalSlack) / 60)); w.append(",")
            w.append(ExportText.decimal(Double(s.freeSlack) / 60)); w.append(",")
            w.append(s.isCritical ? "true," : "false,")
            w.append(ctx.predecessorList(i)); w.append(",")
            if let baseline {
                clock.append(baseline.start, .iso, to: &w); w.append(",")
                clock.append(baseline.finish, .iso, to: &w); w.append(",")
            } else {
                w.append(",,")
            }
            if let v = variances[i] { w.append(ExportText.decimal(Double(v) / mpd)) }
            w.append("\r\n")
            w.flushIfNeeded()
        }
    }

    /// A free-text field: neutralised against formula injection, then quoted as needed.
    private func text(_ value: String, _ w: inout ExportWriter) {
        if let first = value.utf8.first, first == 0x3D || first == 0x2B || first == 0x2D || first == 0x40 || first == 0x09 || first == 0x0D {
            field("'" + value, &w)
        } else {
            field(value, &w)
        }
    }

    private func field(_ value: String, _ w: inout ExportWriter) {
        guard value.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
            w.append(value)
            return
        }
        var value = value
        value.withUTF8 { bytes in
            w.withBytes { out in
                out.append(0x22)
                for b in bytes {
                    if b == 0x22 { out.append(0x22) }  // a quote is doubled
                    out.append(b)
                }
                out.append(0x22)
            }
        }
    }
}

extension ExportContext {
    /// Predecessors as MS Project writes them, by row: "3FS", "5SS+2d", "7FF-1.5h"
    /// (lags in the calendar's days when whole, else in working hours), separated by ";".
    func predecessorList(_ i: Int) -> String {
        var out = ""
        for k in links(into: i) {
            let link = export.plan.dependencies[k]
            let from = row[linkFrom[k]]
            guard from > 0 else { continue }
            if !out.isEmpty { out += ";" }
            out += String(from) + link.kind.rawValue
            out += ExportContext.lag(link.lagMinutes, minutesPerDay: minutesPerDay)
        }
        return out
    }

    /// "", "+2d", "-1.5h".
    static func lag(_ minutes: Int, minutesPerDay: Int) -> String {
        guard minutes != 0 else { return "" }
        let sign = minutes > 0 ? "+" : "-"
        let a = abs(minutes)
        if a % minutesPerDay == 0 { return sign + String(a / minutesPerDay) + "d" }
        return sign + ExportText.decimal(Double(a) / 60) + "h"
    }

    /// Per plan index: how many working minutes the early finish is later than the baseline finish
    /// (negative = ahead), measured on the plan's own working-time axis; nil without a baseline.
    func baselineFinishVariances() -> [Int?] {
        var result = [Int?](repeating: nil, count: tasks.count)
        var axis: WorkingTimeline?
        for i in order {
            guard let b = details[i]?.baseline, let s = scheduled[i] else { continue }
            if axis == nil { axis = WorkingTimeline(calendar: export.plan.calendar, origin: export.plan.start) }
            if let p = try? axis!.finishPosition(of: b.finish) { result[i] = s.earlyFinishMinute - p }
        }
        return result
    }
}
