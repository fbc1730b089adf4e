import Foundation

extension WorkCalendar {
    /// The first working minute on or after local midnight of `date` in the calendar's zone:
    /// where a plan "starting on Monday 2 March" really starts.
    public func firstWorkingMinute(on date: LocalDate) -> Date? {
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = timeZone
        let components = DateComponents(year: date.year, month: date.month, day: date.day, hour: 0, minute: 0)
        guard minutesPerWeek > 0 || !exceptions.isEmpty, let midnight = gregorian.date(from: components) else { return nil }
        return nextWorkingStart(onOrAfter: midnight)
    }

    /// The local date, in the calendar's zone, on which `instant` falls.
    public func localDate(of instant: Date) -> LocalDate {
        let local = instant.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: instant))
        return LocalDate(dayNumber: Int((local / 86_400).rounded(.down)))
    }

    /// The end of the working time of `date` (or of the last working day before it, within a year): where a task
    /// that must "finish by Friday 6 March" has to be done.
    public func endOfWorkingDay(_ date: LocalDate) -> Date? {
        for back in 0..<366 {
            if let last = workingIntervals(on: date.adding(days: -back)).last { return last.end }
        }
        return nil
    }
}
