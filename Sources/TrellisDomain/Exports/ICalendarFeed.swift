/// One subscription feed out of several plans' iCalendar exports: a person's feed spans every plan
/// they work on. Events and time zones are copied verbatim (already folded and escaped).
public enum ICalendarFeed {
    /// Merges `calendars`, keeping the events whose UID is in `keepUIDs` (all when nil) and each
    /// VTIMEZONE once.
    public static func merge(_ calendars: [String], keepUIDs: Set<String>?, name: String) -> String {
        var zones: [String: [Substring]] = [:]
        var zoneOrder: [String] = []
        var events: [[Substring]] = []
        for calendar in calendars {
            var block: [Substring] = []
            var inside: Substring?
            for line in calendar.split(separator: "\r\n", omittingEmptySubsequences: true) {
                if inside == nil, line == "BEGIN:VTIMEZONE" || line == "BEGIN:VEVENT" {
                    inside = line.dropFirst(6)
                    block = [line]
                    continue
                }
                guard let kind = inside else { continue }
                block.append(line)
                if line == "END:" + kind {
                    if kind == "VTIMEZONE" {
                        let tzid = block.first { $0.hasPrefix("TZID:") }.map { String($0.dropFirst(5)) } ?? ""
                        if zones[tzid] == nil { zones[tzid] = block; zoneOrder.append(tzid) }
                    } else {
                        let uid = block.first { $0.hasPrefix("UID:") }.map { String($0.dropFirst(4)) } ?? ""
                        if keepUIDs?.contains(uid) ?? true { events.append(block) }
                    }
                    inside = nil
                }
            }
        }
        var out = "BEGIN:VCALENDAR\r\nPRODID:-//Trellis//Timeline feed//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n"
        out += "X-WR-CALNAME:" + ICalendarFeed.escape(name) + "\r\n"
        for tzid in zoneOrder { for line in zones[tzid] ?? [] { out += line + "\r\n" } }
        for event in events { for line in event { out += line + "\r\n" } }
        return out + "END:VCALENDAR\r\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ";", with: "\\;")
            .replacingOccurrences(of: ",", with: "\\,").replacingOccurrences(of: "\n", with: "\\n")
    }
}
