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

/// A plan answer: the plan, its tasks and dependencies, and the timeline just computed (the same JSON as
/// `GET …/timeline`), with the version as ETag.
struct PlanReply: ResponseGenerator {
    var scheduled: ScheduledPlan
    var status: HTTPResponse.Status = .ok
    var location: String?

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response(status: status, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: try Self.body(scheduled, generatedAt: Date())))
        response.headers[.eTag] = "\"\(scheduled.record.version)\""
        if let location { response.headers[.location] = location }
        return response
    }

    /// `{"dependencies":[…],"plan":{…},"tasks":[…],"timeline":{…}}` (the contract's `PlanView`), written by hand into
    /// one buffer, the timeline by its exporter: on a 500-task plan `JSONEncoder` over the tasks took more of a PATCH's
    /// CPU than loading, scheduling and writing together. The plan object is `PlanBody`, as `GET /v1/plans` lists it.
    /// Keys are sorted as the encoder sorts them; `PlanReplyEncodingTests` holds the whole equal to an encoding of the
    /// contract's fields.
    static func body(_ scheduled: ScheduledPlan, generatedAt: Date) throws -> ByteBuffer {
        let plan = scheduled.plan
        var w = ExportWriter(capacity: 8192 + plan.tasks.count * 1400)
        w.append("{\"dependencies\":[")
        for (n, link) in plan.links.enumerated() {
            w.append(n == 0 ? "{\"kind\":\"" : ",{\"kind\":\"")
            w.append(link.kind.rawValue)
            w.append("\",\"lagMinutes\":"); w.append(link.lagMinutes)
            w.append(",\"predecessorId\":\""); w.appendLowercaseUUID(link.predecessor.rawValue)
            w.append("\",\"successorId\":\""); w.appendLowercaseUUID(link.successor.rawValue)
            w.append("\"}")
        }
        w.append("],\"plan\":")
        w.append(String(decoding: try JSONBody<PlanBody>.encoder.encode(PlanBody(scheduled.record)), as: UTF8.self))
        w.append(",\"tasks\":[")
        for (n, task) in plan.tasks.enumerated() {
            // Every field of a task is written, an absent one as null, as the contract lists them.
            w.append(n == 0 ? "{\"actualFinish\":" : ",{\"actualFinish\":"); date(task.actualFinish, &w)
            w.append(",\"actualStart\":"); date(task.actualStart, &w)
            w.append(",\"assigneeId\":"); uuid(task.assigneeID?.rawValue, &w)
            w.append(",\"checklist\":[")
            for (k, item) in task.checklist.enumerated() {
                if k > 0 { w.append(",") }
                w.appendJSONString(item)
            }
            w.append("],\"clientAction\":"); w.append(task.clientAction ? "true" : "false")
            w.append(",\"clientComment\":"); string(task.clientDone?.comment, &w)
            w.append(",\"clientDoneAt\":"); date(task.clientDone?.at, &w)
            w.append(",\"constraint\":")
            if let constraint = task.constraint {
                w.append("{\"date\":\""); w.appendUTCISO8601(constraint.date)
                w.append("\",\"kind\":\""); w.append(constraint.kind.rawValue); w.append("\"}")
            } else {
                w.append("null")
            }
            w.append(",\"durationMinutes\":"); w.append(task.durationMinutes)
            w.append(",\"icalSequence\":"); w.append(task.published.sequence)
            w.append(",\"id\":\""); w.appendLowercaseUUID(task.id.rawValue)
            w.append("\",\"name\":"); w.appendJSONString(task.name)
            w.append(",\"parentId\":"); uuid(task.parentID?.rawValue, &w)
            w.append(",\"percentComplete\":"); w.append(task.percentComplete)
            w.append(",\"position\":"); w.append(task.position)
            w.append(",\"roleKey\":"); string(task.roleKey, &w)
            w.append("}")
        }
        w.append("],\"timeline\":")
        JSONTimelineExporter().write(scheduled.export(generatedAt: generatedAt), to: &w)
        w.append("}")
        return ByteBuffer(string: w.finish())
    }

    private static func date(_ value: Date?, _ w: inout ExportWriter) {
        guard let value else { return w.append("null") }
        w.append("\""); w.appendUTCISO8601(value); w.append("\"")
    }

    private static func uuid(_ value: UUID?, _ w: inout ExportWriter) {
        guard let value else { return w.append("null") }
        w.append("\""); w.appendLowercaseUUID(value); w.append("\"")
    }

    private static func string(_ value: String?, _ w: inout ExportWriter) {
        guard let value else { return w.append("null") }
        w.appendJSONString(value)
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
