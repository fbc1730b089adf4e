import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

// The plan as the contract (docs/openapi.yaml) shows it, and plan edits as requests carry them. The store's
// rows and the domain's aggregate stay behind these types.

struct PlanBody: Encodable, Sendable {
    var id: PlanID
    var clientId: ClientID
    var name: String
    var templateName: String?
    var startsAt: Date
    var version: Int
    var archivedAt: Date?
    var createdAt: Date
    var updatedAt: Date

    init(_ record: PlanRecord) {
        id = PlanID(record.id)
        clientId = ClientID(record.clientId)
        name = record.name
        templateName = record.templateName
        startsAt = record.startsAt
        version = record.version
        archivedAt = record.archivedAt
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }
}

struct TaskBody: Encodable, Sendable {
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

struct DependencyBody: Encodable, Sendable {
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

/// A plan answer: the plan, its tasks and dependencies, and the timeline just computed (the same JSON as
/// `GET …/timeline`), with the version as ETag.
struct PlanReply: ResponseGenerator {
    struct Head: Encodable, Sendable {
        var plan: PlanBody
        var tasks: [TaskBody]
        var dependencies: [DependencyBody]
    }

    var scheduled: ScheduledPlan
    var status: HTTPResponse.Status = .ok
    var location: String?

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let head = Head(plan: PlanBody(scheduled.record), tasks: scheduled.plan.tasks.map(TaskBody.init),
                        dependencies: scheduled.plan.links.map(DependencyBody.init))
        var json = try JSONBody<Head>.encoder.encode(head)
        // `{"dependencies":…,"plan":…,"tasks":[…]}` + `,"timeline":{…}}`: the timeline is rendered by the exporter.
        json.removeLast()
        json.append(contentsOf: Array(",\"timeline\":".utf8))
        json.append(contentsOf: Array(ExportFormat.json.render(scheduled.export(generatedAt: Date())).utf8))
        json.append(UInt8(ascii: "}"))
        var response = Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
        response.headers[.eTag] = "\"\(scheduled.record.version)\""
        if let location { response.headers[.location] = location }
        return response
    }
}

enum PlanRequests {
    static let taskFields: Set<String> = [
        "name", "parentId", "position", "durationMinutes", "durationHours", "durationDays", "roleKey", "assigneeId", "checklist",
        "constraint", "percentComplete", "actualStart", "actualFinish", "clientAction",
    ]

    /// A task's fields as a patch: types and lengths are checked here, the plan's rules in the domain.
    static func taskPatch(_ object: [String: JSONValue]) throws -> TaskPatch {
        var reader = FieldReader(object, allowed: taskFields)
        var patch = TaskPatch()
        patch.name = reader.string("name", maxLength: 300)
        if reader.has("parentId") { patch.parentID = .set(reader.uuid("parentId").map(TaskID.init)) }
        patch.position = reader.int("position")
        let minutes = reader.int("durationMinutes"), hours = reader.double("durationHours"), days = reader.double("durationDays")
        switch (minutes, hours, days) {
        case (let m?, nil, nil): patch.duration = .minutes(m)
        case (nil, let h?, nil): patch.duration = .hours(h)
        case (nil, nil, let d?): patch.duration = .days(d)
        case (nil, nil, nil): break
        default: reader.errors.add("durationMinutes", "give the duration in one unit only")
        }
        if reader.has("roleKey") { patch.roleKey = .set(reader.string("roleKey", maxLength: 63)) }
        if reader.has("assigneeId") { patch.assigneeID = .set(reader.uuid("assigneeId").map(MemberID.init)) }
        patch.checklist = reader.strings("checklist")
        if reader.has("constraint") {
            if reader.isNull("constraint") {
                patch.constraint = .set(nil)
            } else if let constraint = reader.object("constraint", allowed: ["kind", "date"], { item -> TaskConstraint? in
                let kind = item.oneOf("kind", ConstraintKind.self, required: true)
                let date = item.instant("date", required: true)
                guard let kind, let date else { return nil }
                return TaskConstraint(kind: kind, date: date)
            }) {
                patch.constraint = .set(constraint)
            }
        }
        patch.percentComplete = reader.int("percentComplete")
        if reader.has("actualStart") { patch.actualStart = .set(reader.instant("actualStart")) }
        if reader.has("actualFinish") { patch.actualFinish = .set(reader.instant("actualFinish")) }
        patch.clientAction = reader.bool("clientAction")
        try reader.check()
        return patch
    }

    static func newLink(_ object: [String: JSONValue]) throws -> NewLink {
        var reader = FieldReader(object, allowed: ["predecessorId", "successorId", "kind", "lagMinutes", "lagHours", "lagDays"])
        let predecessor = reader.uuid("predecessorId", required: true)
        let successor = reader.uuid("successorId", required: true)
        let kind = reader.oneOf("kind", DependencyKind.self) ?? .finishToStart
        let minutes = reader.int("lagMinutes"), hours = reader.double("lagHours"), days = reader.double("lagDays")
        var lag: PlanDuration?
        switch (minutes, hours, days) {
        case (let m?, nil, nil): lag = .minutes(m)
        case (nil, let h?, nil): lag = .hours(h)
        case (nil, nil, let d?): lag = .days(d)
        case (nil, nil, nil): break
        default: reader.errors.add("lagMinutes", "give the lag in one unit only")
        }
        try reader.check()
        guard let predecessor, let successor else { throw Problem(.malformedRequest) }
        return NewLink(predecessor: TaskID(predecessor), successor: TaskID(successor), kind: kind, lag: lag)
    }
}
