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
        if !work.isEmpty && work.allSatisfy({ percent[$0.id] == 100 }) { return .done }
        if work.contains(where: { $0.earlyFinish < now && (percent[$0.id] ?? 0) < 100 }) { return .late }
        if work.contains(where: { $0.totalSlack < 0 }) { return .atRisk }
        if let baselineFinish, timeline.finish > baselineFinish { return .atRisk }
        return .onTrack
    }
}
