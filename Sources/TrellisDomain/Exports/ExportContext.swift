import Foundation

/// What every renderer needs, computed once per render: tasks in outline order with rows, levels
/// and WBS codes, incoming links per task, details per task, and a clock for the client's zone.
struct ExportContext {
    let export: TimelineExport
    let tasks: [PlanTask]
    /// Aligned with `tasks` (the timeline may come in another order, or lack a task).
    let scheduled: [ScheduledTask?]
    /// Plan indices, parents before children, siblings in plan order; tasks missing from the timeline left out.
    let order: [Int]
    /// Per plan index: 1-based row in `order` (MS Project's ID and UID), 0 when not exported.
    let row: [Int]
    /// Per plan index: 1 for top-level tasks.
    let level: [Int]
    let parent: [Int]
    let wbs: [String]
    let isSummary: [Bool]
    /// Links into each plan index: `incoming[incomingStart[i]..<incomingStart[i+1]]` index `plan.dependencies`.
    let incomingStart: [Int]
    let incoming: [Int]
    /// Plan index of each dependency's predecessor and successor (-1 when unknown).
    let linkFrom: [Int]
    let linkTo: [Int]
    let details: [TaskExportDetails?]
    /// Percent complete per plan index; a phase's is its leaves' weighted by duration (as MS Project rolls up).
    let percent: [Int]
    let clock: ZoneClock
    let minutesPerDay: Int

    init(_ export: TimelineExport) {
        self.export = export
        let tasks = export.plan.tasks
        let n = tasks.count
        self.tasks = tasks
        var index: [String: Int] = [:]
        index.reserveCapacity(n)
        for (i, t) in tasks.enumerated() where index[t.id] == nil { index[t.id] = i }

        // The scheduler returns tasks in plan order; fall back to matching by id when it does not.
        let timelineTasks = export.timeline.tasks
        var scheduled: [ScheduledTask?]
        if timelineTasks.count == n && zip(timelineTasks, tasks).allSatisfy({ $0.id == $1.id }) {
            scheduled = timelineTasks.map { Optional($0) }
        } else {
            scheduled = [ScheduledTask?](repeating: nil, count: n)
            for s in timelineTasks { if let i = index[s.id] { scheduled[i] = s } }
        }
        self.scheduled = scheduled

        var parent = [Int](repeating: -1, count: n)
        var childCount = [Int](repeating: 0, count: n + 1)
        for i in 0..<n {
            if let p = tasks[i].parentID.flatMap({ index[$0] }), p != i { parent[i] = p }
        }
        // Children lists (CSR), roots under the virtual node n.
        for i in 0..<n { childCount[parent[i] < 0 ? n : parent[i]] += 1 }
        var childStart = [Int](repeating: 0, count: n + 2)
        for v in 0...n { childStart[v + 1] = childStart[v] + childCount[v] }
        var fill = childStart
        var children = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let p = parent[i] < 0 ? n : parent[i]
            children[fill[p]] = i
            fill[p] += 1
        }
        var isSummary = [Bool](repeating: false, count: n)
        for i in 0..<n where childCount[i] > 0 { isSummary[i] = true }

        // Depth-first, iteratively (deep outlines must not overflow the stack); a parent cycle is never reached from a root.
        var order: [Int] = []
        order.reserveCapacity(n)
        var row = [Int](repeating: 0, count: n)
        var level = [Int](repeating: 0, count: n)
        var wbs = [String](repeating: "", count: n)
        var stack: [(node: Int, next: Int, count: Int)] = [(n, childStart[n], 0)]
        while !stack.isEmpty {
            let top = stack.count - 1
            let (node, next, _) = stack[top]
            guard next < childStart[node + 1] else { stack.removeLast(); continue }
            stack[top].next += 1
            let child = children[next]
            guard scheduled[child] != nil else { continue }
            stack[top].count += 1
            let number = String(stack[top].count)
            wbs[child] = node == n ? number : wbs[node] + "." + number
            level[child] = stack.count
            order.append(child)
            row[child] = order.count
            stack.append((child, childStart[child], 0))
        }
        self.order = order
        self.row = row
        self.level = level
        self.parent = parent
        self.wbs = wbs
        self.isSummary = isSummary

        let links = export.plan.dependencies
        var linkFrom = [Int](repeating: -1, count: links.count)
        var linkTo = [Int](repeating: -1, count: links.count)
        var incomingStart = [Int](repeating: 0, count: n + 1)
        for (k, link) in links.enumerated() {
            linkFrom[k] = index[link.predecessorID] ?? -1
            linkTo[k] = index[link.successorID] ?? -1
            if linkTo[k] >= 0 && linkFrom[k] >= 0 { incomingStart[linkTo[k] + 1] += 1 }
        }
        for i in 0..<n { incomingStart[i + 1] += incomingStart[i] }
        var incoming = [Int](repeating: 0, count: incomingStart[n])
        var cursor = incomingStart
        for k in links.indices where linkTo[k] >= 0 && linkFrom[k] >= 0 {
            incoming[cursor[linkTo[k]]] = k
            cursor[linkTo[k]] += 1
        }
        self.incomingStart = incomingStart
        self.incoming = incoming
        self.linkFrom = linkFrom
        self.linkTo = linkTo

        self.details = export.taskDetails.isEmpty
            ? [TaskExportDetails?](repeating: nil, count: n)
            : tasks.map { export.taskDetails[$0.id] }

        var percent = tasks.map { min(100, max(0, $0.percentComplete)) }
        var done = [Double](repeating: 0, count: n), total = [Double](repeating: 0, count: n)
        for i in order.reversed() {  // children come after their parent in `order`
            if isSummary[i] {
                percent[i] = total[i] > 0 ? Int((done[i] / total[i] * 100).rounded(.down)) : 0
            } else {
                total[i] = Double(max(0, scheduled[i]?.durationMinutes ?? 0))
                done[i] = total[i] * Double(percent[i]) / 100
            }
            if parent[i] >= 0 { done[parent[i]] += done[i]; total[parent[i]] += total[i] }
        }
        self.percent = percent

        var lo = min(export.plan.start, export.timeline.start), hi = max(export.timeline.finish, lo)
        for s in export.timeline.tasks {
            lo = min(lo, s.earlyStart, s.lateStart)
            hi = max(hi, s.earlyFinish, s.lateFinish)
        }
        clock = ZoneClock(zone: export.clientTimeZone.timeZone, from: lo, to: hi)
        minutesPerDay = max(1, export.plan.calendar.minutesPerDay)
    }

    /// Incoming link indices of plan task `i`.
    @inline(__always)
    func links(into i: Int) -> ArraySlice<Int> { incoming[incomingStart[i]..<incomingStart[i + 1]] }

    /// The assignee shown for a task: its own, else its first resource's name.
    func assignee(_ i: Int) -> String? {
        guard let d = details[i] else { return nil }
        if let a = d.assignee, !a.isEmpty { return a }
        guard let first = d.resourceIDs.first else { return nil }
        return export.resources.first { $0.id == first }?.name
    }

    /// Name of the top-level phase above task `i` (nil for top-level tasks).
    func phaseName(_ i: Int) -> String? {
        var p = parent[i], top = -1, guardSteps = 0
        while p >= 0 && guardSteps < tasks.count { top = p; p = parent[p]; guardSteps += 1 }
        return top >= 0 ? tasks[top].name : nil
    }
}

// MARK: - Time zone clock

/// UTC offsets of one zone, with the transitions over the plan's span precomputed, and fast
/// date formatting. Outside the span it asks Foundation.
struct ZoneClock {
    let zone: TimeZone
    struct Transition { var at: Int; var from: Int; var to: Int; var isDaylight: Bool }
    /// Offset changes from about a year before the span to a day after it, ascending.
    private(set) var transitions: [Transition] = []
    private let lo: Int, hi: Int
    /// The offset in force before the first transition.
    let initialOffset: Int
    var spanStart: Date { Date(timeIntervalSince1970: TimeInterval(lo)) }

    init(zone: TimeZone, from: Date, to: Date) {
        self.zone = zone
        let start = Int(from.timeIntervalSince1970.rounded(.down)) - 400 * 86_400
        let end = Int(to.timeIntervalSince1970.rounded(.up)) + 86_400
        lo = start
        hi = end
        initialOffset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(start)))
        var cursor = Date(timeIntervalSince1970: TimeInterval(start))
        var previous = initialOffset
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 <= TimeInterval(end) {
            let at = Int(next.timeIntervalSince1970.rounded())
            let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(at)))
            if offset != previous {
                transitions.append(Transition(at: at, from: previous, to: offset, isDaylight: zone.isDaylightSavingTime(for: next)))
                previous = offset
            }
            cursor = next
        }
    }

    @inline(__always)
    func offset(atUnix t: Int) -> Int {
        guard t >= lo && t <= hi else { return zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))) }
        var offset = initialOffset
        for tr in transitions {  // a handful per year: a linear scan beats a search
            if tr.at > t { break }
            offset = tr.to
        }
        return offset
    }

    // MARK: Formatting

    enum Style {
        /// 2026-01-05T09:00:00+01:00
        case iso
        /// 2026-01-05T08:00:00Z (UTC)
        case utcISO
        /// 2026-01-05T09:00:00 (local, no offset: MSPDI)
        case localISO
        /// 20260105T090000 (iCalendar local with TZID)
        case icalLocal
        /// 20260105T080000Z (iCalendar UTC)
        case icalUTC
        /// 2026-01-05 09:00 (Mermaid)
        case minutes
        /// 2026-01-05 (a local date)
        case date
    }

    @inline(__always)
    static func unix(_ date: Date) -> Int { Int(date.timeIntervalSince1970.rounded(.down)) }

    func format(_ date: Date, _ style: Style) -> String { format(unix: ZoneClock.unix(date), style) }

    func format(unix t: Int, _ style: Style) -> String {
        let offset = writtenOffset(atUnix: t, style)
        return ZoneClock.format(local: t + offset, offset: offset, style)
    }

    /// The offset a date is written with: none for UTC styles; whole minutes for an offset written out
    /// (RFC 3339 has no seconds there: local mean time's `-00:14:44` becomes `-00:14`, and the clock time
    /// follows, so the instant stays exact).
    @inline(__always)
    func writtenOffset(atUnix t: Int, _ style: Style) -> Int {
        if style == .icalUTC || style == .utcISO { return 0 }
        let offset = offset(atUnix: t)
        return style == .iso ? offset / 60 * 60 : offset
    }

    /// Local seconds since 1970 of an instant (for positioning on a local-day axis).
    @inline(__always)
    func local(_ date: Date) -> Int { let t = ZoneClock.unix(date); return t + offset(atUnix: t) }

    /// Appends a date without building a String.
    @inline(__always)
    func append(_ date: Date, _ style: Style, to w: inout ExportWriter) {
        let t = ZoneClock.unix(date)
        let offset = writtenOffset(atUnix: t, style)
        w.appendASCII { ZoneClock.write(local: t + offset, offset: offset, style, into: $0) }
    }

    static func format(local: Int, offset: Int, _ style: Style) -> String {
        String(unsafeUninitializedCapacity: 32) { write(local: local, offset: offset, style, into: $0) }
    }

    /// Writes the date into `buf` (at least 32 bytes) and returns the byte count.
    @inline(__always)
    static func write(local: Int, offset: Int, _ style: Style, into buf: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let day = floorDiv(local, 86_400)
        let secs = local - day * 86_400
        let d = LocalDate(dayNumber: day)
        let h = secs / 3600, m = (secs / 60) % 60, s = secs % 60
        do {
            var i = 0
            @inline(__always) func put(_ byte: UInt8) { buf[i] = byte; i += 1 }
            @inline(__always) func two(_ v: Int) { put(UInt8(48 + v / 10)); put(UInt8(48 + v % 10)) }
            @inline(__always) func four(_ v: Int) { two(v / 100 % 100); two(v % 100) }
            let dateSep: Bool = style != .icalLocal && style != .icalUTC
            four(d.year); if dateSep { put(45) }; two(d.month); if dateSep { put(45) }; two(d.day)
            switch style {
            case .date:
                break
            case .minutes:
                put(32); two(h); put(58); two(m)
            case .icalLocal, .icalUTC:
                put(84); two(h); two(m); two(s)
                if style == .icalUTC { put(90) }
            case .localISO, .iso, .utcISO:
                put(84); two(h); put(58); two(m); put(58); two(s)
                if style == .utcISO { put(90) }
                if style == .iso {
                    put(offset < 0 ? 45 : 43)
                    let a = abs(offset) / 60
                    two(a / 60); put(58); two(a % 60)
                }
            }
            return i
        }
    }
}

// MARK: - Numbers and escaping

enum ExportText {
    /// `value` with at most `digits` decimals, trailing zeros dropped ("2.5", "3", "-0.25"), locale-free.
    static func decimal(_ value: Double, digits: Int = 2) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((abs(value) * Double(scale)).rounded())
        if scaled == 0 { return "0" }
        var whole = String(scaled / scale)
        var frac = scaled % scale
        if value < 0 { whole = "-" + whole }
        guard frac != 0 else { return whole }
        var width = digits
        while frac % 10 == 0 { frac /= 10; width -= 1 }
        let f = String(frac)
        return whole + "." + String(repeating: "0", count: width - f.count) + f
    }

    /// Appends `text` escaped for XML character data and attribute values; drops what XML 1.0 forbids
    /// (control characters, U+FFFE, U+FFFF). Works on UTF-8 bytes: every character it touches is ASCII.
    static func appendXML(_ text: String, to writer: inout ExportWriter) {
        var text = text
        text.withUTF8 { bytes in
            writer.withBytes { out in
                var i = 0
                while i < bytes.count {
                    let b = bytes[i]
                    switch b {
                    case 0x26: out.append(contentsOf: [0x26, 0x61, 0x6D, 0x70, 0x3B])            // &amp;
                    case 0x3C: out.append(contentsOf: [0x26, 0x6C, 0x74, 0x3B])                  // &lt;
                    case 0x3E: out.append(contentsOf: [0x26, 0x67, 0x74, 0x3B])                  // &gt;
                    case 0x22: out.append(contentsOf: [0x26, 0x71, 0x75, 0x6F, 0x74, 0x3B])      // &quot;
                    case 0x27: out.append(contentsOf: [0x26, 0x61, 0x70, 0x6F, 0x73, 0x3B])      // &apos;
                    case 0x09, 0x0A, 0x0D: out.append(b)
                    case 0x00..<0x20: break
                    case 0xEF where i + 2 < bytes.count && bytes[i + 1] == 0xBF && bytes[i + 2] >= 0xBE:
                        i += 2  // U+FFFE or U+FFFF
                    default: out.append(b)
                    }
                    i += 1
                }
            }
        }
    }
}

/// RFC 3339 instants written in a zone, as the exports write them (an offset with seconds, before a zone's first
/// standard offset, is truncated to minutes and the clock time follows, so the instant stays exact). Built once
/// for a span of dates, it formats without a formatter per date.
public struct ZonedTimestamps: Sendable {
    let clock: ZoneClock

    public init(zone: TimeZone, from: Date, to: Date) {
        clock = ZoneClock(zone: zone, from: from, to: to)
    }

    public func rfc3339(_ date: Date) -> String {
        let t = ZoneClock.unix(date)
        let offset = clock.writtenOffset(atUnix: t, .iso)
        return ZoneClock.format(local: t + offset, offset: offset, .iso)
    }
}
