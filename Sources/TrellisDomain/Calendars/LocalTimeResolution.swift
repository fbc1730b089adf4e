import Foundation

/// A stretch of working time on the instant line: `[start, start + minutes·60)` in Unix seconds.
struct WorkingSegment: Sendable, Hashable {
    var start: Int
    var minutes: Int
    var end: Int { start + minutes * 60 }
}

extension WorkCalendar {
    /// UTC offset in force at a Unix instant.
    @inline(__always)
    func offset(atUnix t: Int) -> Int {
        timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    /// The local day (days since 1970-01-01) an instant falls on in this calendar's zone.
    func localDay(ofUnix t: Double) -> Int {
        let whole = Int(t.rounded(.down))
        return floorDiv(whole + offset(atUnix: whole), 86_400)
    }

    /// The working segments of one local day, as instants. Each local wall-clock boundary is
    /// converted with the offset in force at that moment: a time skipped by a spring-forward gap
    /// maps to the transition instant, an ambiguous fall-back time to its earlier occurrence.
    /// Both rules keep the mapping monotonic, so segments never overlap.
    func segments(onDay day: Int) -> [WorkingSegment] {
        let intervals = intervals(onDay: day)
        if intervals.isEmpty { return [] }
        let midnight = day * 86_400
        // Offsets well before and after the day: equal means no transition touches the day (the usual case).
        let before = offset(atUnix: midnight - 86_400)
        let after = offset(atUnix: midnight + 2 * 86_400)
        var result: [WorkingSegment] = []
        result.reserveCapacity(intervals.count)
        for interval in intervals {
            let localStart = midnight + interval.startMinute * 60
            let localEnd = midnight + interval.endMinute * 60
            let start: Int, end: Int
            if before == after {
                start = localStart - before
                end = localEnd - before
            } else {
                start = instant(ofLocal: localStart, before: before, after: after)
                end = instant(ofLocal: localEnd, before: before, after: after)
            }
            let minutes = (end - start) / 60
            if minutes > 0 { result.append(WorkingSegment(start: start, minutes: minutes)) }
        }
        return result
    }

    /// Local wall-clock seconds to a Unix instant around one offset transition (`before` → `after`).
    private func instant(ofLocal local: Int, before: Int, after: Int) -> Int {
        let withBefore = local - before, withAfter = local - after
        let beforeValid = offset(atUnix: withBefore) == before
        let afterValid = offset(atUnix: withAfter) == after
        switch (beforeValid, afterValid) {
        case (true, true): return min(withBefore, withAfter)  // fall-back overlap: earlier occurrence
        case (true, false): return withBefore
        case (false, true): return withAfter
        case (false, false):
            // Spring-forward gap: the wall time never happens; use the transition instant,
            // the first instant at or after `withAfter` whose offset is `after`.
            var lo = min(withBefore, withAfter), hi = max(withBefore, withAfter)
            while lo < hi {
                let mid = lo + (hi - lo) / 2
                if offset(atUnix: mid) == after { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
    }
}

@inline(__always)
func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
