import Foundation

/// How a plan is doing, as the Today page and the plan's header say it.
public enum PlanHealth: String, Sendable, Hashable, CaseIterable {
    /// Work that should be finished by now is not.
    case late
    /// A deadline is missed on paper (negative slack), or the plan now finishes after its baseline.
    case atRisk = "at-risk"
    case onTrack = "on-track"
    /// Every task is done.
    case done

    public var label: String {
        switch self {
        case .late: "Late"
        case .atRisk: "At risk"
        case .onTrack: "On track"
        case .done: "Done"
        }
    }

    /// Judges `plan` scheduled as `timeline` at `now` (the caller's clock), against a baseline's finish if one was saved.
    public static func assess(_ plan: OnboardingPlan, _ timeline: Timeline, baselineFinish: Date?, now: Date) -> PlanHealth {
        let percent = Dictionary(plan.tasks.map { ($0.id.description, $0.percentComplete) }, uniquingKeysWith: { a, _ in a })
        let work = timeline.tasks.filter { !$0.isSummary }
        return judge(Facts(
            hasWork: !work.isEmpty, allDone: work.allSatisfy { percent[$0.id] == 100 },
            unfinishedWorkDue: work.contains { $0.earlyFinish < now && (percent[$0.id] ?? 0) < 100 },
            negativeSlack: work.contains { $0.totalSlack < 0 }, finish: timeline.finish, baselineFinish: baselineFinish))
    }

    /// What health is judged from: a schedule's facts, whether computed now or read back as the last schedule stored them.
    public struct Facts: Sendable, Hashable {
        public var hasWork: Bool
        public var allDone: Bool
        /// Some unfinished task should have finished before now.
        public var unfinishedWorkDue: Bool
        public var negativeSlack: Bool
        public var finish: Date
        public var baselineFinish: Date?

        public init(hasWork: Bool, allDone: Bool, unfinishedWorkDue: Bool, negativeSlack: Bool, finish: Date, baselineFinish: Date?) {
            self.hasWork = hasWork
            self.allDone = allDone
            self.unfinishedWorkDue = unfinishedWorkDue
            self.negativeSlack = negativeSlack
            self.finish = finish
            self.baselineFinish = baselineFinish
        }
    }

    /// The one rule: done, then late, then at risk (negative slack or later than the baseline), else on track.
    public static func judge(_ facts: Facts) -> PlanHealth {
        if facts.hasWork && facts.allDone { return .done }
        if facts.unfinishedWorkDue { return .late }
        if facts.negativeSlack { return .atRisk }
        if let baselineFinish = facts.baselineFinish, facts.finish > baselineFinish { return .atRisk }
        return .onTrack
    }
}

/// What a plan's published schedule says about its health: stored with the plan at every write, so read models judge
/// plans without scheduling them (`PlanHealth.judge(summary.facts(now:baselineFinish:))`).
public struct PlanScheduleSummary: Sendable, Hashable {
    public var finish: Date
    /// The earliest finish among tasks (not phases) short of 100 %: the plan is late once it is past.
    public var firstUnfinishedFinish: Date?
    public var negativeSlack: Bool
    public var hasWork: Bool
    public var allDone: Bool

    public init(finish: Date, firstUnfinishedFinish: Date?, negativeSlack: Bool, hasWork: Bool, allDone: Bool) {
        self.finish = finish
        self.firstUnfinishedFinish = firstUnfinishedFinish
        self.negativeSlack = negativeSlack
        self.hasWork = hasWork
        self.allDone = allDone
    }

    public func facts(now: Date, baselineFinish: Date?) -> PlanHealth.Facts {
        PlanHealth.Facts(hasWork: hasWork, allDone: allDone, unfinishedWorkDue: firstUnfinishedFinish.map { $0 < now } ?? false,
                         negativeSlack: negativeSlack, finish: finish, baselineFinish: baselineFinish)
    }
}

extension OnboardingPlan {
    /// The summary of the schedule `publish` last recorded on the tasks.
    public var publishedSummary: PlanScheduleSummary {
        let phases = Set(tasks.compactMap(\.parentID))
        let work = tasks.filter { !phases.contains($0.id) }
        return PlanScheduleSummary(
            finish: tasks.compactMap(\.published.finish).max() ?? startsAt,
            firstUnfinishedFinish: work.filter { $0.percentComplete < 100 }.compactMap(\.published.finish).min(),
            negativeSlack: work.contains { ($0.published.slackMinutes ?? 0) < 0 },
            hasWork: !work.isEmpty, allDone: work.allSatisfy { $0.percentComplete == 100 })
    }
}
