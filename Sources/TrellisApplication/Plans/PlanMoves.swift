import Foundation
import TrellisDomain
import TrellisStore

/// What a `plan.rescheduled` webhook carries.
public struct PlanRescheduledPayload: Codable, Sendable, Hashable {
    public struct Moved: Codable, Sendable, Hashable {
        public var taskId: String
        public var name: String
        public var start: Date
        public var finish: Date
        public var previousStart: Date?
        public var previousFinish: Date?
    }
    public var planId: String
    public var planName: String
    public var clientId: String
    public var finish: Date
    public var moved: [Moved]
}

/// What every change that moves scheduled tasks announces, whichever path made it (a calendar change's
/// recompute, an edit of the plan): the assignees of the moved tasks get a `task_moved` notice, and the
/// agency's webhooks a `plan.rescheduled` event; both commit with the change.
enum PlanMoves {
    /// One notice per assignee of a moved task.
    static func notices(_ moves: [TaskMove], planName: String, because cause: String) -> [PlanNotice] {
        var byAssignee: [MemberID: [String]] = [:]
        for move in moves { if let assignee = move.assignee { byAssignee[assignee, default: []].append(move.name) } }
        return byAssignee.sorted { $0.key.description < $1.key.description }.map { member, names in
            let list = names.prefix(10).joined(separator: ", ") + (names.count > 10 ? " and \(names.count - 10) more" : "")
            return PlanNotice(member: member, title: "Tasks moved in \(planName)", body: "\(cause); these tasks of yours moved: \(list).")
        }
    }

    static func payload(_ moves: [TaskMove], plan: OnboardingPlan, finish: Date) -> PlanRescheduledPayload {
        PlanRescheduledPayload(
            planId: plan.id.description, planName: plan.name, clientId: plan.clientID.description, finish: finish,
            moved: moves.map {
                .init(taskId: $0.task.description, name: $0.name, start: $0.start, finish: $0.finish,
                      previousStart: $0.previousStart, previousFinish: $0.previousFinish)
            })
    }
}
