import Foundation

/// The working-time axis of one plan: position `p` is "p working minutes after the plan start".
///
/// The scheduling engine does all its arithmetic on this axis (plain `Int`), then converts positions
/// to instants here. The timeline flattens the calendar's working segments for a span of days,
/// with the axis position at the start of each segment, so both directions of conversion are a
/// binary search. It grows on demand, forwards and backwards, in doubling chunks of days.
///
/// Conversions: a START at `p` is the instant working minute `p` begins (next Monday 09:00);
/// a FINISH at `p` is the instant working minute `p - 1` ends (Friday 14:00, not Monday 09:00).
/// Instants map back the same way: a start rounds up to a whole working minute, a finish rounds down.
public struct WorkingTimeline: Sendable {
    public let calendar: WorkCalendar
    /// Position 0: the first whole working minute at or after this instant.
    public let origin: Date
    /// How far the timeline may grow (about 200 years): guards against absurd lags and dates.
    public static let maximumSpanDays = 73_000

    private var firstDay: Int
    private var endDay: Int
    private var lowPosition: Int   // axis position at the start of `firstDay`
    private var highPosition: Int  // axis position at the end of `endDay - 1`
    private var starts: [Int] = []     // segment starts, Unix seconds
    private var minutes: [Int] = []    // segment lengths
    private var positions: [Int] = []  // axis position at each segment start

    public init(calendar: WorkCalendar, origin: Date) {
        self.calendar = calendar
        self.origin = origin
        let originDay = calendar.localDay(ofUnix: origin.timeIntervalSince1970)
        firstDay = originDay - 1
        endDay = originDay - 1
        lowPosition = 0
        highPosition = 0
        append(days: 3)
        // Re-base so that the origin is position 0 (rounded up to a whole working minute).
        let shift = Int(rawPosition(ofUnix: origin.timeIntervalSince1970).rounded(.up))
        lowPosition -= shift
        highPosition -= shift
        for i in positions.indices { positions[i] -= shift }
    }

    // MARK: Public conversions (grow as needed)

    /// The instant working minute `position` begins.
    public mutating func startInstant(at position: Int) throws(WorkingTimelineError) -> Date {
        try cover(positions: position...position)
        return Date(timeIntervalSince1970: TimeInterval(startUnix(at: position)))
    }

    /// The instant working minute `position - 1` ends.
    public mutating func finishInstant(at position: Int) throws(WorkingTimelineError) -> Date {
        try cover(positions: (position - 1)...(position - 1))
        return Date(timeIntervalSince1970: TimeInterval(finishUnix(at: position)))
    }

    /// The earliest position whose start is at or after `instant`.
    public mutating func startPosition(of instant: Date) throws(WorkingTimelineError) -> Int {
        try cover(instant: instant)
        return Int(rawPosition(ofUnix: instant.timeIntervalSince1970).rounded(.up))
    }

    /// The latest position whose finish is at or before `instant`.
    public mutating func finishPosition(of instant: Date) throws(WorkingTimelineError) -> Int {
        try cover(instant: instant)
        return Int(rawPosition(ofUnix: instant.timeIntervalSince1970).rounded(.down))
    }

    /// Makes sure working minutes `range` are precomputed, so the unchecked lookups below are valid.
    public mutating func cover(positions range: ClosedRange<Int>) throws(WorkingTimelineError) {
        var chunk = 64
        while highPosition <= range.upperBound {
            try checkSpan(adding: chunk, position: range.upperBound)
            append(days: chunk)
            chunk = min(chunk * 2, 4096)
        }
        chunk = 64
        while range.lowerBound < lowPosition {
            try checkSpan(adding: chunk, position: range.lowerBound)
            prepend(days: chunk)
            chunk = min(chunk * 2, 4096)
        }
    }

    mutating func cover(instant: Date) throws(WorkingTimelineError) {
        let t = instant.timeIntervalSince1970
        guard t.isFinite, abs(t) < 1e13 else { throw .outOfRange(instant) }
        let day = calendar.localDay(ofUnix: t)
        if day + 2 > endDay {
            guard day + 2 - firstDay <= Self.maximumSpanDays else { throw .outOfRange(instant) }
            append(days: day + 2 - endDay)
        }
        if day - 1 < firstDay {
            guard endDay - (day - 1) <= Self.maximumSpanDays else { throw .outOfRange(instant) }
            prepend(days: firstDay - (day - 1))
        }
    }

    private func checkSpan(adding days: Int, position: Int) throws(WorkingTimelineError) {
        if endDay - firstDay + days > Self.maximumSpanDays { throw .beyondHorizon(position: position) }
    }

    // MARK: Unchecked lookups (caller has covered the positions)

    /// Index of the segment holding working minute `p`.
    @inline(__always)
    private func segment(holding p: Int) -> Int {
        var lo = 0, hi = positions.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if positions[mid] <= p { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    @inline(__always)
    func startUnix(at p: Int) -> Int {
        let k = segment(holding: p)
        return starts[k] + (p - positions[k]) * 60
    }

    @inline(__always)
    func finishUnix(at p: Int) -> Int {
        let k = segment(holding: p - 1)
        return starts[k] + (p - positions[k]) * 60
    }

    /// Working minutes from the origin to `t`, fractional inside a minute.
    private func rawPosition(ofUnix t: Double) -> Double {
        var lo = 0, hi = starts.count - 1
        guard hi >= 0, Double(starts[0]) <= t else { return Double(lowPosition) }
        while lo < hi {
            let mid = (lo + hi + 1) >> 1
            if Double(starts[mid]) <= t { lo = mid } else { hi = mid - 1 }
        }
        let offset = (t - Double(starts[lo])) / 60
        return Double(positions[lo]) + min(offset, Double(minutes[lo]))
    }

    // MARK: Bulk lookups

    /// A read-only view for converting many positions in `range` (already covered): a bucket table maps
    /// every 64 working minutes to its segment, so a conversion is one table read and a short scan
    /// instead of a binary search whose upper levels miss the cache on large plans.
    func lookup(covering range: ClosedRange<Int>) -> Lookup {
        Lookup(starts: starts, positions: positions, range: range, firstSegment: segment(holding: range.lowerBound))
    }

    struct Lookup {
        private static let shift = 6
        private let starts: [Int]
        private let positions: [Int]
        private let low: Int
        private let buckets: [Int32]

        init(starts: [Int], positions: [Int], range: ClosedRange<Int>, firstSegment: Int) {
            self.starts = starts
            self.positions = positions
            low = range.lowerBound
            let count = ((range.upperBound - range.lowerBound) >> Lookup.shift) + 1
            var buckets = [Int32](repeating: 0, count: count)
            var segment = firstSegment
            for k in 0..<count {
                let p = range.lowerBound + (k << Lookup.shift)
                while segment + 1 < positions.count && positions[segment + 1] <= p { segment += 1 }
                buckets[k] = Int32(truncatingIfNeeded: segment)
            }
            self.buckets = buckets
        }

        @inline(__always)
        private func segment(holding p: Int) -> Int {
            var i = Int(buckets[(p - low) >> Lookup.shift])
            while i + 1 < positions.count && positions[i + 1] <= p { i += 1 }
            return i
        }

        @inline(__always)
        func startUnix(at p: Int) -> Int {
            let k = segment(holding: p)
            return starts[k] + (p - positions[k]) * 60
        }

        @inline(__always)
        func finishUnix(at p: Int) -> Int {
            let k = segment(holding: p - 1)
            return starts[k] + (p - positions[k]) * 60
        }
    }

    // MARK: Growth

    private mutating func append(days count: Int) {
        for day in endDay..<(endDay + count) {
            for s in calendar.segments(onDay: day) {
                starts.append(s.start)
                minutes.append(s.minutes)
                positions.append(highPosition)
                highPosition += s.minutes
            }
        }
        endDay += count
    }

    private mutating func prepend(days count: Int) {
        var newStarts: [Int] = [], newMinutes: [Int] = []
        for day in (firstDay - count)..<firstDay {
            for s in calendar.segments(onDay: day) {
                newStarts.append(s.start)
                newMinutes.append(s.minutes)
            }
        }
        let total = newMinutes.reduce(0, +)
        var position = lowPosition - total
        var newPositions: [Int] = []
        newPositions.reserveCapacity(newMinutes.count)
        for m in newMinutes {
            newPositions.append(position)
            position += m
        }
        starts = newStarts + starts
        minutes = newMinutes + minutes
        positions = newPositions + positions
        lowPosition -= total
        firstDay -= count
    }
}

public enum WorkingTimelineError: Error, Sendable, Hashable {
    /// Reaching this working-minute position would need more than `WorkingTimeline.maximumSpanDays` of calendar.
    case beyondHorizon(position: Int)
    /// The instant is too far from the plan start to place on the axis.
    case outOfRange(Date)
}
