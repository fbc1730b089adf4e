import Foundation

/// Working-time arithmetic on instants, walking the calendar day by day.
/// The scheduling engine uses `WorkingTimeline` instead (precomputed, binary search); these
/// methods are the straightforward definition, used for one-off questions and to check the engine.
extension WorkCalendar {
    /// Whether the minute starting at `instant` is working time (`instant` is inside a working segment).
    public func isWorking(at instant: Date) -> Bool {
        let t = instant.timeIntervalSince1970
        let day = localDay(ofUnix: t)
        for d in (day - 1)...(day + 1) {
            for s in segments(onDay: d) where Double(s.start) <= t && t < Double(s.end) { return true }
        }
        return false
    }

    /// The local working intervals of a date as instants.
    public func workingIntervals(on date: LocalDate) -> [DateInterval] {
        segments(onDay: date.dayNumber).map {
            DateInterval(start: Date(timeIntervalSince1970: TimeInterval($0.start)), duration: TimeInterval($0.minutes * 60))
        }
    }

    /// Working minutes in `[from, to)`; negative when `to` is before `from`. Partial minutes round toward zero.
    public func workingMinutes(from: Date, to: Date) -> Int {
        if to < from { return -workingMinutes(from: to, to: from) }
        let a = from.timeIntervalSince1970, b = to.timeIntervalSince1970
        var seconds = 0.0
        for day in (localDay(ofUnix: a) - 1)...(localDay(ofUnix: b) + 1) {
            for s in segments(onDay: day) {
                let lo = max(a, Double(s.start)), hi = min(b, Double(s.end))
                if hi > lo { seconds += hi - lo }
            }
        }
        return Int((seconds / 60).rounded(.down))
    }

    /// Moves `minutes` of working time from `instant`.
    /// Forward (`minutes > 0`) returns where the last minute ends (Friday 14:00, not Monday 09:00);
    /// backward returns where the earliest minute begins; zero returns `instant` unchanged.
    public func date(byAddingWorkingMinutes minutes: Int, to instant: Date) -> Date {
        if minutes == 0 { return instant }
        let t = instant.timeIntervalSince1970
        var remaining = Double(abs(minutes) * 60)
        var day = localDay(ofUnix: t) + (minutes > 0 ? -1 : 1)
        while true {
            let segments = minutes > 0 ? self.segments(onDay: day) : self.segments(onDay: day).reversed()
            for s in segments {
                if minutes > 0 {
                    let lo = max(t, Double(s.start)), hi = Double(s.end)
                    guard hi > lo else { continue }
                    if hi - lo >= remaining { return Date(timeIntervalSince1970: lo + remaining) }
                    remaining -= hi - lo
                } else {
                    let lo = Double(s.start), hi = min(t, Double(s.end))
                    guard hi > lo else { continue }
                    if hi - lo >= remaining { return Date(timeIntervalSince1970: hi - remaining) }
                    remaining -= hi - lo
                }
            }
            day += minutes > 0 ? 1 : -1
        }
    }

    /// The first instant at or after `instant` that begins working time.
    public func nextWorkingStart(onOrAfter instant: Date) -> Date {
        let t = instant.timeIntervalSince1970
        var day = localDay(ofUnix: t) - 1
        while true {
            for s in segments(onDay: day) where Double(s.end) > t {
                return Date(timeIntervalSince1970: max(t, Double(s.start)))
            }
            day += 1
        }
    }
}
