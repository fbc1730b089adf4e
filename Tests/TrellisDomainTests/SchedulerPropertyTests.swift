import Foundation
import Testing
@testable import TrellisDomain
import TrellisFixtures

/// Properties every schedule must have, checked on hundreds of random plans (all link kinds, lags and
/// leads, phases, constraints) over random calendars: split days, holidays, exceptions, DST zones.
@Suite("Scheduler: properties of random plans")
struct SchedulerPropertyTests {
    /// A random plan for a seed: 20–200 tasks on a random calendar starting at a random minute of 2026.
    static func randomPlan(seed: UInt64, deadlines: Bool) -> SchedulePlan {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9 &+ 17)
        let start = utcInstant(2026, 1, 1, 0).addingTimeInterval(Double(Int.random(in: 0..<(365 * 1440), using: &rng)) * 60)
        var generator = RandomPlanGenerator(taskCount: Int.random(in: 20...200, using: &rng),
                                            calendar: RandomPlanGenerator.randomCalendar(using: &rng, around: start), start: start)
        generator.phaseCount = Int.random(in: 0...4, using: &rng)
        generator.averagePredecessors = Double.random(in: 1...3, using: &rng)
        generator.startConstraintRate = 0.05
        generator.deadlineRate = deadlines ? 0.05 : 0
        return generator.plan(seed: seed)
    }

    @Test(arguments: 0..<300)
    func scheduleHonoursLinksCalendarAndCriticalPath(seed: Int) throws {
        let deadlines = seed % 3 == 0
        let plan = Self.randomPlan(seed: UInt64(seed), deadlines: deadlines)
        let calendar = plan.calendar
        let timeline = try Scheduler.schedule(plan)
        #expect(timeline.tasks.map(\.id) == plan.tasks.map(\.id))
        let byID = Dictionary(uniqueKeysWithValues: timeline.tasks.map { ($0.id, $0) })
        let input = Dictionary(uniqueKeysWithValues: plan.tasks.map { ($0.id, $0) })
        let firstWorkingMinute = calendar.nextWorkingStart(onOrAfter: plan.start)

        // Every link holds, measured with the calendar's own arithmetic on instants (early and late dates).
        for l in plan.dependencies {
            guard let p = byID[l.predecessorID], let s = byID[l.successorID] else { Issue.record("missing task"); continue }
            #expect(linkHolds(l, p, s, calendar: calendar), "early \(l)")
            #expect(linkHolds(l, p, s, calendar: calendar, late: true), "late \(l)")
        }

        var finish = plan.start
        for t in timeline.tasks where !t.isSummary {
            guard let source = input[t.id] else { continue }
            // Nothing starts or ends in non-working time; milestones sit on a working boundary.
            for (start, end) in [(t.earlyStart, t.earlyFinish), (t.lateStart, t.lateFinish)] {
                if source.isMilestone {
                    #expect(start == end)
                    #expect(calendar.isWorking(at: start) || calendar.isWorking(at: start.addingTimeInterval(-1)), "\(t.id) milestone")
                } else {
                    #expect(calendar.isWorking(at: start), "\(t.id) starts in non-working time")
                    #expect(calendar.isWorking(at: end.addingTimeInterval(-1)), "\(t.id) ends in non-working time")
                    #expect(calendar.workingMinutes(from: start, to: end) == source.durationMinutes)
                }
            }
            #expect(t.earlyStart >= firstWorkingMinute || source.isMilestone)
            #expect(t.earlyStartMinute >= 0)
            #expect(t.totalSlack == t.lateStartMinute - t.earlyStartMinute)
            #expect(t.freeSlack >= 0 && t.freeSlack <= max(0, t.totalSlack))
            #expect(t.isCritical == (t.totalSlack <= 0))
            if !deadlines { #expect(t.totalSlack >= 0) }
            if let c = source.constraint, c.kind == .startNoEarlierThan {
                #expect(t.earlyStart >= c.date)
            }
            finish = max(finish, t.earlyFinish)
        }
        #expect(timeline.finish == finish)

        // Summaries span their children.
        for phase in timeline.tasks where phase.isSummary {
            let children = timeline.tasks.filter { input[$0.id]?.parentID == phase.id }
            #expect(!children.isEmpty)
            #expect(phase.earlyStart == children.map(\.earlyStart).min())
            #expect(phase.earlyFinish == children.map(\.earlyFinish).max())
        }

        // The critical path: a chain of binding links from an unconstrained start to the plan finish.
        let path = timeline.criticalPath.compactMap { byID[$0] }
        #expect(!path.isEmpty && path.count == timeline.criticalPath.count)
        guard let first = path.first, let last = path.last else { return }
        #expect(last.earlyFinish == timeline.finish)
        #expect(last.earlyFinishMinute == timeline.finishMinute)
        let firstConstraint = input[first.id]?.constraint
        #expect(first.earlyStartMinute == 0 || firstConstraint.map { first.earlyStart == calendar.nextWorkingStart(onOrAfter: $0.date) } == true)
        for task in path {
            #expect(task.isCritical)
            if !deadlines { #expect(task.totalSlack == 0, "\(task.id) on the critical path has slack \(task.totalSlack)") }
        }
        for (p, s) in zip(path, path.dropFirst()) {
            let binding = plan.dependencies.contains {
                $0.predecessorID == p.id && $0.successorID == s.id && linkGap($0, p, s, calendar: calendar) == $0.lagMinutes
            }
            #expect(binding, "\(p.id) → \(s.id) is not a binding link")
        }
    }

    /// Independent reference for a 24/7 calendar, where working minutes are elapsed minutes:
    /// Bellman-Ford style relaxation over all links until nothing changes, forward then backward.
    static func reference(_ plan: SchedulePlan) -> (es: [String: Int], ls: [String: Int], finish: Int) {
        let duration = Dictionary(uniqueKeysWithValues: plan.tasks.map { ($0.id, $0.durationMinutes) })
        var es = duration.mapValues { _ in 0 }
        for t in plan.tasks {
            if let c = t.constraint, c.kind == .startNoEarlierThan {
                es[t.id] = Int((c.date.timeIntervalSince(plan.start) / 60).rounded(.up))
            }
        }
        var changed = true
        while changed {
            changed = false
            for l in plan.dependencies {
                let p = l.predecessorID, s = l.successorID
                let (pes, pd, ses, sd) = (es[p]!, duration[p]!, es[s]!, duration[s]!)
                let required = switch l.kind {
                case .finishToStart: pes + pd + l.lagMinutes
                case .startToStart: pes + l.lagMinutes
                case .finishToFinish: pes + pd + l.lagMinutes - sd
                case .startToFinish: pes + l.lagMinutes - sd
                }
                if required > ses { es[s] = required; changed = true }
            }
        }
        let finish = plan.tasks.map { es[$0.id]! + $0.durationMinutes }.max() ?? 0
        var lf = duration.mapValues { _ in finish }
        changed = true
        while changed {
            changed = false
            for l in plan.dependencies {
                let p = l.predecessorID, s = l.successorID
                let (plf, pd, slf, sd) = (lf[p]!, duration[p]!, lf[s]!, duration[s]!)
                let allowed = switch l.kind {
                case .finishToStart: slf - sd - l.lagMinutes
                case .startToStart: slf - sd - l.lagMinutes + pd
                case .finishToFinish: slf - l.lagMinutes
                case .startToFinish: slf - l.lagMinutes + pd
                }
                if allowed < plf { lf[p] = allowed; changed = true }
            }
        }
        return (es, Dictionary(uniqueKeysWithValues: lf.map { ($0.key, $0.value - duration[$0.key]!) }), finish)
    }

    @Test(arguments: 0..<100)
    func alwaysWorkingMatchesIndependentLongestPath(seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed) &+ 1000)
        let start = utcInstant(2026, 3, 29, 0).addingTimeInterval(Double(Int.random(in: 0..<100_000, using: &rng)) * 60)
        var generator = RandomPlanGenerator(taskCount: Int.random(in: 20...200, using: &rng), calendar: .alwaysWorking, start: start)
        generator.averagePredecessors = Double.random(in: 1...3, using: &rng)
        generator.startConstraintRate = 0.05
        let plan = generator.plan(seed: UInt64(seed))
        let timeline = try Scheduler.schedule(plan)
        let expected = Self.reference(plan)
        #expect(timeline.finish == start.addingTimeInterval(Double(expected.finish) * 60))
        #expect(timeline.finishMinute == expected.finish)
        for t in timeline.tasks {
            #expect(t.earlyStartMinute == expected.es[t.id], "\(t.id) early start")
            #expect(t.lateStartMinute == expected.ls[t.id], "\(t.id) late start")
            #expect(t.earlyStart == start.addingTimeInterval(Double(t.earlyStartMinute) * 60))
        }
    }

    @Test(arguments: 0..<20)
    func deterministicAndIndependentOfTaskOrder(seed: Int) throws {
        let plan = Self.randomPlan(seed: UInt64(seed) &+ 5000, deadlines: true)
        #expect(Self.randomPlan(seed: UInt64(seed) &+ 5000, deadlines: true) == plan)
        let timeline = try Scheduler.schedule(plan)
        #expect(try Scheduler.schedule(plan) == timeline)
        var reordered = plan
        reordered.tasks.reverse()
        reordered.dependencies.reverse()
        let other = try Scheduler.schedule(reordered)
        let dates = { (t: Timeline) in Dictionary(uniqueKeysWithValues: t.tasks.map { ($0.id, [$0.earlyStart, $0.earlyFinish, $0.lateStart, $0.lateFinish]) }) }
        #expect(dates(other) == dates(timeline))
        #expect(other.finish == timeline.finish)
    }
}
