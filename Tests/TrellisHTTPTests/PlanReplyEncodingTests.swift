import Foundation
import Testing
@testable import TrellisApplication
import TrellisDomain
@testable import TrellisHTTP
@testable import TrellisStore

/// The plan answer is written by hand for speed; it must stay the JSON the contract's types encode to.
@Suite("The plan answer written by hand")
struct PlanReplyEncodingTests {
    @Test func theHandWrittenAnswerEqualsTheEncodersAnswerField_forField() throws {
        for scheduled in [try Self.plan(archived: true, odd: true), try Self.plan(archived: false, odd: false)] {
            let generatedAt = Date(timeIntervalSince1970: 1_780_000_000)
            let written = try PlanReply.body(scheduled, generatedAt: generatedAt)
            let fast = try #require(try JSONSerialization.jsonObject(with: Data(written.readableBytesView)) as? NSDictionary)

            let reference = Head(plan: PlanBody(scheduled.record), tasks: scheduled.plan.tasks.map(TaskBody.init),
                                 dependencies: scheduled.plan.links.map(DependencyBody.init))
            var head = try #require(try JSONSerialization.jsonObject(with: try JSONBody<Head>.encoder.encode(reference)) as? [String: Any])
            head["timeline"] = try JSONSerialization.jsonObject(
                with: Data(ExportFormat.json.render(scheduled.export(generatedAt: generatedAt)).utf8))
            #expect(fast == head as NSDictionary, "hand-written:\n\(String(buffer: written).prefix(2_000))")
            // Not equal by accident: the tasks are there, with their odd values.
            let tasks = try #require(fast["tasks"] as? [[String: Any]])
            #expect(tasks.count == scheduled.plan.tasks.count)
            #expect((fast["dependencies"] as? [Any])?.count == 2)
        }
    }

    @Test func idsAreWrittenAsTheirLowercaseDescription() {
        let id = UUID()
        var w = ExportWriter()
        w.appendLowercaseUUID(id)
        #expect(w.finish() == TaskID(id).description)
    }

    /// Three tasks under a phase, two links; `odd` fills every optional with text that needs escaping.
    static func plan(archived: Bool, odd: Bool) throws -> ScheduledPlan {
        let calendar = try WorkCalendar.partTimeMornings(timeZone: "Europe/Madrid")
        let phase = TaskID(UUID()), a = TaskID(UUID()), b = TaskID(UUID()), c = TaskID(UUID())
        let member = MemberID(UUID())
        let start = Date(timeIntervalSince1970: 1_772_441_000.25)  // fractional seconds: written whole, as the encoder does
        let name = odd ? "Kick-off \"brand\" \\ review\n\tnext/line — ünïcode 🚀 \u{01}" : "Kick-off"
        let tasks = [
            PlannedTask(id: phase, position: 0, name: odd ? "Phase <1>" : "Phase", durationMinutes: 0),
            PlannedTask(
                id: a, position: 1, parentID: phase, name: name, durationMinutes: 240, roleKey: odd ? "strategist" : nil,
                assigneeID: odd ? member : nil, checklist: odd ? ["one \"quoted\"", "two"] : [],
                constraint: odd ? .startNoEarlierThan(start.addingTimeInterval(86_400)) : nil, percentComplete: odd ? 40 : 0,
                actualStart: odd ? start : nil, actualFinish: odd ? start.addingTimeInterval(7_200.5) : nil,
                published: PublishedDates(sequence: 3), clientAction: odd,
                clientDone: odd ? ClientDone(at: start.addingTimeInterval(99), comment: "Done — see \"v2\"\nthanks") : nil),
            PlannedTask(id: b, position: 2, parentID: phase, name: "Second", durationMinutes: 480),
            PlannedTask(id: c, position: 3, parentID: phase, name: "Milestone", durationMinutes: 0),
        ]
        let links = [PlanLink(predecessor: a, successor: b), PlanLink(predecessor: b, successor: c, kind: .startToStart, lagMinutes: -60)]
        let planID = PlanID(UUID()), clientID = ClientID(UUID())
        let plan = OnboardingPlan(id: planID, clientID: clientID, name: "Plan", startsAt: start, calendar: calendar, tasks: tasks, links: links)
        let record = PlanRecord(
            id: planID.rawValue, clientId: clientID.rawValue, name: odd ? "Plan \"Q3\" / launch" : "Plan",
            templateName: odd ? "Standard onboarding" : nil, startsAt: start, version: 7,
            archivedAt: archived ? start.addingTimeInterval(1_000_000.75) : nil, createdAt: start.addingTimeInterval(-0.5),
            updatedAt: start.addingTimeInterval(12.999))
        return ScheduledPlan(
            plan: plan, record: record, client: PlanClient(id: clientID, name: "Client \"A\"", slug: "client-a", timeZone: "Europe/Madrid"),
            timeline: try plan.schedule(), memberNames: [member: "Ana \"Lima\""], moved: [])
    }
}

// The contract's fields of a plan answer (docs/openapi.yaml, `PlanView`), encoded by `JSONEncoder`: what the
// hand-written answer is held equal to.

private struct Head: Encodable, Sendable {
    var plan: PlanBody
    var tasks: [TaskBody]
    var dependencies: [DependencyBody]
}

private struct TaskBody: Encodable, Sendable {
    var id: TaskID
    var position: Int
    var parentId: TaskID?
    var name: String
    var durationMinutes: Int
    var roleKey: String?
    var assigneeId: MemberID?
    var checklist: [String]
    var constraint: TaskConstraint?
    var percentComplete: Int
    var actualStart: Date?
    var actualFinish: Date?
    /// The iCalendar SEQUENCE of the task's event in the feeds.
    var icalSequence: Int
    var clientAction: Bool
    var clientDoneAt: Date?
    var clientComment: String?

    init(_ task: PlannedTask) {
        id = task.id
        position = task.position
        parentId = task.parentID
        name = task.name
        durationMinutes = task.durationMinutes
        roleKey = task.roleKey
        assigneeId = task.assigneeID
        checklist = task.checklist
        constraint = task.constraint
        percentComplete = task.percentComplete
        actualStart = task.actualStart
        actualFinish = task.actualFinish
        icalSequence = task.published.sequence
        clientAction = task.clientAction
        clientDoneAt = task.clientDone?.at
        clientComment = task.clientDone?.comment
    }

    // Absent optionals are written as null, as the contract lists them.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(position, forKey: .position)
        try c.encode(parentId, forKey: .parentId)
        try c.encode(name, forKey: .name)
        try c.encode(durationMinutes, forKey: .durationMinutes)
        try c.encode(roleKey, forKey: .roleKey)
        try c.encode(assigneeId, forKey: .assigneeId)
        try c.encode(checklist, forKey: .checklist)
        try c.encode(constraint, forKey: .constraint)
        try c.encode(percentComplete, forKey: .percentComplete)
        try c.encode(actualStart, forKey: .actualStart)
        try c.encode(actualFinish, forKey: .actualFinish)
        try c.encode(icalSequence, forKey: .icalSequence)
        try c.encode(clientAction, forKey: .clientAction)
        try c.encode(clientDoneAt, forKey: .clientDoneAt)
        try c.encode(clientComment, forKey: .clientComment)
    }

    enum CodingKeys: String, CodingKey {
        case id, position, parentId, name, durationMinutes, roleKey, assigneeId, checklist, constraint, percentComplete, actualStart, actualFinish, icalSequence
        case clientAction, clientDoneAt, clientComment
    }
}

private struct DependencyBody: Encodable, Sendable {
    var predecessorId: TaskID
    var successorId: TaskID
    var kind: DependencyKind
    var lagMinutes: Int

    init(_ link: PlanLink) {
        predecessorId = link.predecessor
        successorId = link.successor
        kind = link.kind
        lagMinutes = link.lagMinutes
    }
}
