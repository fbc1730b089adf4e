import Foundation
import TrellisDomain

/// A small, fast, seedable random number generator (SplitMix64), so random plans are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random but deterministic plans for property tests and benchmarks: a DAG of tasks with about
/// `averagePredecessors` links each (mostly to recent tasks, like real plans, some far back),
/// all four link kinds, lags and leads, some milestones, optional phases and constraints.
/// Tasks come out shuffled so plan order is not a topological order.
public struct RandomPlanGenerator: Sendable {
    public var taskCount: Int
    public var averagePredecessors: Double = 2
    public var phaseCount: Int = 0
    /// Share of tasks with a "start no earlier than" constraint.
    public var startConstraintRate: Double = 0
    /// Share of tasks with a "finish no later than" deadline (often missed, giving negative slack).
    public var deadlineRate: Double = 0
    public var milestoneRate: Double = 0.05
    public var calendar: WorkCalendar
    public var start: Date

    public init(taskCount: Int, calendar: WorkCalendar = RandomPlanGenerator.defaultCalendar, start: Date = RandomPlanGenerator.defaultStart) {
        self.taskCount = taskCount
        self.calendar = calendar
        self.start = start
    }

    /// Mon–Fri 09:00–14:00 in Europe/Madrid with Spanish national holidays 2026–2027.
    public static let defaultCalendar: WorkCalendar = {
        let holidays = ["2026-01-01", "2026-01-06", "2026-04-03", "2026-05-01", "2026-08-15", "2026-10-12",
                        "2026-11-01", "2026-12-08", "2026-12-25", "2027-01-01", "2027-01-06", "2027-03-26",
                        "2027-05-01", "2027-10-12", "2027-11-01", "2027-12-06", "2027-12-08", "2027-12-25"]
            .compactMap(LocalDate.init)
        let base = (try? WorkCalendar.partTimeMornings(timeZone: "Europe/Madrid")) ?? .alwaysWorking
        return base.adding(holidays: holidays)
    }()

    /// Monday 2026-01-05 09:00 in Madrid (08:00 UTC).
    public static let defaultStart = Date(timeIntervalSince1970: 1_767_600_000)

    public func plan(seed: UInt64) -> SchedulePlan {
        var rng = SplitMix64(seed: seed)
        let day = max(60, calendar.minutesPerDay)
        var tasks: [PlanTask] = []
        var links: [TaskDependency] = []
        tasks.reserveCapacity(taskCount + phaseCount)
        links.reserveCapacity(Int(Double(taskCount) * averagePredecessors) + 8)

        for p in 0..<phaseCount {
            tasks.append(PlanTask(id: "phase\(p)", name: "Phase \(p)", durationMinutes: 0))
        }
        let maxPredecessors = max(0, Int((averagePredecessors * 2).rounded()))
        var chosen: [Int] = []
        for i in 0..<taskCount {
            let milestone = Double.random(in: 0..<1, using: &rng) < milestoneRate
            let duration = milestone ? 0 : Int.random(in: 1...(5 * day), using: &rng)
            var task = PlanTask(id: "t\(i)", name: "Task \(i)", durationMinutes: duration)
            if phaseCount > 0 { task.parentID = "phase\(i * phaseCount / max(1, taskCount))" }
            if Double.random(in: 0..<1, using: &rng) < startConstraintRate {
                let offset = Double.random(in: 0..<(Double(i + 1) * 3600 * 6), using: &rng)
                task.constraint = .startNoEarlierThan(start.addingTimeInterval((offset / 60).rounded() * 60))
            } else if Double.random(in: 0..<1, using: &rng) < deadlineRate {
                let offset = Double.random(in: 0..<(Double(i + 1) * 3600 * 12), using: &rng)
                task.constraint = .finishNoLaterThan(start.addingTimeInterval((offset / 60).rounded() * 60))
            }
            tasks.append(task)

            guard i > 0 else { continue }
            let count = Int.random(in: 0...maxPredecessors, using: &rng)
            chosen.removeAll(keepingCapacity: true)
            for _ in 0..<count {
                // Mostly recent tasks (plans are local), sometimes anything earlier.
                let p = Double.random(in: 0..<1, using: &rng) < 0.8
                    ? Int.random(in: max(0, i - 30)..<i, using: &rng)
                    : Int.random(in: 0..<i, using: &rng)
                if chosen.contains(p) { continue }
                chosen.append(p)
                let kind: DependencyKind = switch Int.random(in: 0..<20, using: &rng) {
                case 0..<11: .finishToStart
                case 11..<15: .startToStart
                case 15..<18: .finishToFinish
                default: .startToFinish
                }
                let lag: Int = switch Int.random(in: 0..<20, using: &rng) {
                case 0..<12: 0
                case 12..<17: Int.random(in: 1...(2 * day), using: &rng)
                default: -Int.random(in: 1...day, using: &rng)
                }
                links.append(TaskDependency(predecessorID: "t\(p)", successorID: "t\(i)", kind: kind, lagMinutes: lag))
            }
        }
        tasks.shuffle(using: &rng)
        links.shuffle(using: &rng)
        return SchedulePlan(start: start, calendar: calendar, tasks: tasks, dependencies: links)
    }

    /// A random working calendar: a time zone with or without daylight saving, one or two intervals a
    /// day (sometimes crossing a DST switch hour), varying working days, holidays and exceptions.
    public static func randomCalendar(using rng: inout SplitMix64, around start: Date) -> WorkCalendar {
        let zones = ["Europe/Madrid", "America/New_York", "UTC", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo"]
        let zone = zones[Int.random(in: 0..<zones.count, using: &rng)]
        let shapes: [[WorkingInterval]] = [
            [.init(startMinute: 540, endMinute: 840)],                                   // 09:00–14:00
            [.init(startMinute: 540, endMinute: 750), .init(startMinute: 810, endMinute: 1020)], // 09:00–12:30, 13:30–17:00
            [.init(startMinute: 480, endMinute: 720), .init(startMinute: 780, endMinute: 1080)],
            [.init(startMinute: 60, endMinute: 240), .init(startMinute: 600, endMinute: 660)],   // spans 02:00–03:00 switches
            [.init(startMinute: 0, endMinute: 1440)],
            [.init(startMinute: 1320, endMinute: 1440)],
        ]
        var weekly: [Weekday: [WorkingInterval]] = [:]
        let days = Int.random(in: 0..<4, using: &rng) == 0 ? Weekday.allCases : Weekday.workweek
        for day in days where Int.random(in: 0..<6, using: &rng) != 0 || day == .wednesday {
            weekly[day] = shapes[Int.random(in: 0..<shapes.count, using: &rng)]
        }
        let firstDay = Int(start.timeIntervalSince1970 / 86_400)
        var holidays = Set<LocalDate>()
        for _ in 0..<Int.random(in: 0...25, using: &rng) {
            holidays.insert(LocalDate(dayNumber: firstDay + Int.random(in: -30...400, using: &rng)))
        }
        var exceptions: [LocalDate: [WorkingInterval]] = [:]
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            let date = LocalDate(dayNumber: firstDay + Int.random(in: -10...300, using: &rng))
            exceptions[date] = Bool.random(using: &rng) ? [] : [.init(startMinute: 600, endMinute: 720)]
        }
        return (try? WorkCalendar(timeZoneID: zone, weekly: weekly, holidays: holidays, exceptions: exceptions)) ?? .alwaysWorking
    }
}
