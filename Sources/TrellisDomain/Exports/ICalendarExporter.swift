import Foundation

/// iCalendar (RFC 5545): one VEVENT per task that is not a phase (milestones included), in the
/// client's zone with its VTIMEZONE, so a calendar app shows the same instants as the timeline.
///
/// UIDs are stable (`<task id>@trellis`) and SEQUENCE comes from the store, so re-importing or
/// subscribing updates events in place. Lines end in CRLF and are folded at 75 octets.
public struct ICalendarExporter: TimelineRenderer {
    public init() {}

    public var estimatedBytesPerTask: Int { 420 }

    public func write(_ export: TimelineExport, to w: inout ExportWriter) {
        let ctx = ExportContext(export)
        let clock = ctx.clock
        let tzid = export.clientTimeZone.identifier
        let stamp = clock.format(export.generatedAt, .icalUTC)

        line("BEGIN:VCALENDAR", &w)
        line("VERSION:2.0", &w)
        line("PRODID:-//Trellis//Timeline export//EN", &w)
        line("CALSCALE:GREGORIAN", &w)
        line("METHOD:PUBLISH", &w)
        line("X-WR-CALNAME:" + Self.text("\(export.planName) — \(export.clientName)"), &w)
        line("X-WR-TIMEZONE:" + tzid, &w)
        writeTimeZone(tzid, clock, &w)

        for i in ctx.order where !ctx.isSummary[i] {
            guard let s = ctx.scheduled[i] else { continue }
            let task = ctx.tasks[i]
            line("BEGIN:VEVENT", &w)
            line("UID:" + Self.text(task.id) + "@trellis", &w)
            line("DTSTAMP:" + stamp, &w)
            line("SEQUENCE:\(max(0, ctx.details[i]?.sequence ?? 0))", &w)
            line("DTSTART;TZID=" + tzid + ":" + clock.format(s.earlyStart, .icalLocal), &w)
            // RFC 5545 wants DTEND after DTSTART; without DTEND an event is an instant, which is what a milestone is.
            if s.earlyFinish > s.earlyStart {
                line("DTEND;TZID=" + tzid + ":" + clock.format(s.earlyFinish, .icalLocal), &w)
            }
            line("SUMMARY:" + Self.text(task.name), &w)
            line("DESCRIPTION:" + Self.text(description(i, s, ctx)), &w)
            var categories: [String] = []
            if s.isMilestone { categories.append("Milestone") }
            if s.isCritical { categories.append("Critical") }
            if !categories.isEmpty { line("CATEGORIES:" + categories.map(Self.text).joined(separator: ","), &w) }
            // Plan items, not meetings: they must not block free/busy time.
            line("TRANSP:TRANSPARENT", &w)
            line("END:VEVENT", &w)
            w.flushIfNeeded()
        }
        line("END:VCALENDAR", &w)
    }

    private func description(_ i: Int, _ s: ScheduledTask, _ ctx: ExportContext) -> String {
        var text = "Client: " + ctx.export.clientName + "\nPlan: " + ctx.export.planName
        if let phase = ctx.phaseName(i) { text += "\nPhase: " + phase }
        if let who = ctx.assignee(i) { text += "\nAssignee: " + who }
        if let role = ctx.details[i]?.role { text += "\nRole: " + role }
        text += "\nProgress: \(ctx.percent[i])%"
        if s.isCritical { text += "\nOn the critical path" }
        if let items = ctx.details[i]?.checklist, !items.isEmpty {
            text += "\nChecklist:"
            for item in items { text += (item.isDone ? "\n[x] " : "\n[ ] ") + item.text }
        }
        return text
    }

    // MARK: VTIMEZONE

    /// The zone's real offset changes from the one in force a year before the plan to its end, one
    /// observance each (no RRULE to get wrong); a zone without changes gets a single STANDARD.
    private func writeTimeZone(_ tzid: String, _ clock: ZoneClock, _ w: inout ExportWriter) {
        line("BEGIN:VTIMEZONE", &w)
        line("TZID:" + tzid, &w)
        line("X-LIC-LOCATION:" + tzid, &w)
        let transitions = clock.transitions
        if transitions.isEmpty {
            let offset = clock.initialOffset
            line("BEGIN:STANDARD", &w)
            line("DTSTART:19700101T000000", &w)
            line("TZOFFSETFROM:" + Self.offset(offset), &w)
            line("TZOFFSETTO:" + Self.offset(offset), &w)
            if let name = abbreviation(clock.zone, at: clock.spanStart) { line("TZNAME:" + name, &w) }
            line("END:STANDARD", &w)
        }
        for t in transitions {
            let kind = t.isDaylight ? "DAYLIGHT" : "STANDARD"
            line("BEGIN:" + kind, &w)
            // DTSTART is the wall-clock time of the change in the offset it changes from.
            line("DTSTART:" + ZoneClock.format(local: t.at + t.from, offset: t.from, .icalLocal), &w)
            line("TZOFFSETFROM:" + Self.offset(t.from), &w)
            line("TZOFFSETTO:" + Self.offset(t.to), &w)
            if let name = abbreviation(clock.zone, at: Date(timeIntervalSince1970: TimeInterval(t.at))) { line("TZNAME:" + name, &w) }
            line("END:" + kind, &w)
        }
        line("END:VTIMEZONE", &w)
    }

    /// "CET", not "GMT+1" (some platforms only know the latter; then there is no TZNAME).
    private func abbreviation(_ zone: TimeZone, at date: Date) -> String? {
        guard let a = zone.abbreviation(for: date), !a.hasPrefix("GMT"), !a.hasPrefix("UTC") || a == "UTC",
              a.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        return a
    }

    /// "+0100", "-0430", with seconds when the zone has them.
    static func offset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let a = abs(seconds)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return sign + two(a / 3600) + two(a / 60 % 60) + (a % 60 == 0 ? "" : two(a % 60))
    }

    // MARK: Lines

    /// TEXT value escaping: backslash, semicolon, comma and newlines; other controls are not allowed.
    static func text(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == 0x5C || $0 == 0x3B || $0 == 0x2C || $0 == 0x7F }) else { return value }
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 16)
        var previousCR = false
        for b in value.utf8 {  // all escaped characters are ASCII, so bytes are enough
            defer { previousCR = b == 0x0D }
            switch b {
            case 0x5C, 0x3B, 0x2C: out.append(0x5C); out.append(b)   // backslash, semicolon, comma
            case 0x0D: out.append(0x5C); out.append(0x6E)            // CR or CRLF: one escaped newline
            case 0x0A: if !previousCR { out.append(0x5C); out.append(0x6E) }
            case 0x09: out.append(b)
            case 0x00..<0x20, 0x7F: break
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes a content line with CRLF, folded so no physical line exceeds 75 octets; a fold never
    /// splits a UTF-8 sequence (continuation lines start with a space, which unfolding removes).
    private func line(_ content: String, _ w: inout ExportWriter) {
        let utf8 = content.utf8
        if utf8.count <= 75 {
            w.append(content)
            w.append("\r\n")
            return
        }
        let bytes = Array(utf8)
        var start = 0, limit = 75
        while start < bytes.count {
            var end = min(bytes.count, start + limit)
            if end < bytes.count {
                while end > start && bytes[end] & 0xC0 == 0x80 { end -= 1 }  // back off to a scalar boundary
            }
            if start > 0 { w.append(" ") }
            w.append(String(decoding: bytes[start..<end], as: UTF8.self))
            w.append("\r\n")
            start = end
            limit = 74  // the leading space counts
        }
    }
}
