import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

/// `/v1/assignments` (who holds which role for which client, how much) and `/v1/workload`.
struct AssignmentRoutes {
    let database: TenantDatabase
    let store: AssignmentStore

    func register(on router: Router<AppRequestContext>) {
        router.get("/v1/assignments", use: list)
        router.post("/v1/assignments", use: create)
        router.get("/v1/assignments/{assignmentId}", use: read)
        router.patch("/v1/assignments/{assignmentId}", use: update)
        router.delete("/v1/assignments/{assignmentId}", use: delete)
        router.get("/v1/workload", use: workload)
    }

    static let fields: Set<String> = ["memberId", "clientId", "roleId", "allocation", "startsOn", "endsOn", "commitment"]

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<AssignmentBody>> {
        let principal = try context.require(.readAssignments)
        let window = try ListWindow(request)
        var errors = FieldErrors()
        func id(_ name: String) -> UUID? {
            guard let raw = request.query(name) else { return nil }
            guard let id = UUID(uuidString: raw) else { errors.add(name, "must be a UUID"); return nil }
            return id
        }
        let member = id("memberId"), client = id("clientId")
        try errors.check()
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { try await store.list(member: member, client: client, on: $0) }).map(AssignmentBody.init))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Versioned<AssignmentBody> {
        let principal = try context.require(.writeAssignments)
        let (refs, draft) = try Self.read(try await request.jsonObject(context: context), base: nil)
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) {
            try await store.create(id: UUID(), refs: refs, draft, on: $0)
        }
        return .created(AssignmentBody(record), version: record.version, at: "/v1/assignments/\(record.id.lowercasedString)")
    }

    @Sendable func read(_ request: Request, context: AppRequestContext) async throws -> Versioned<AssignmentBody> {
        let principal = try context.require(.readAssignments)
        let id = try context.uuidParameter("assignmentId")
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) { try await store.get(id, on: $0) }
        return Versioned(body: AssignmentBody(record), version: record.version)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Versioned<AssignmentBody> {
        let principal = try context.require(.writeAssignments)
        let id = try context.uuidParameter("assignmentId")
        let expected = try request.ifMatchVersion()
        let object = try await request.jsonObject(context: context)
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) { connection in
            let current = try await store.get(id, on: connection)
            let (refs, draft) = try Self.read(object, base: current)
            return try await store.update(id, refs: refs, draft, expectedVersion: expected, on: connection)
        }
        return Versioned(body: AssignmentBody(record), version: record.version)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.require(.writeAssignments)
        let id = try context.uuidParameter("assignmentId")
        let store = self.store
        try await database.withTenant(principal.agencyID) { try await store.delete(id, on: $0) }
        return .noContent
    }

    /// `GET /v1/workload?from=2026-W10&to=2026-W20[&memberId=…]`: per person per ISO week.
    @Sendable func workload(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<WorkloadRow>> {
        let principal = try context.require(.readWorkload)
        let window = try ListWindow(request)
        var errors = FieldErrors()
        let from = request.query("from").flatMap { ISOWeek(iso: $0) }
        let to = request.query("to").flatMap { ISOWeek(iso: $0) }
        if from == nil { errors.add("from", "is required, as an ISO week like 2026-W10") }
        if to == nil { errors.add("to", "is required, as an ISO week like 2026-W20") }
        var member: UUID?
        if let raw = request.query("memberId") {
            member = UUID(uuidString: raw)
            if member == nil { errors.add("memberId", "must be a UUID") }
        }
        if let from, let to {
            if to < from { errors.add("to", "must not be before from") }
            if to.monday.dayNumber - from.monday.dayNumber > 7 * 104 { errors.add("to", "at most 105 weeks at once") }
        }
        try errors.check()
        guard let from, let to else { throw Problem(.malformedRequest) }
        let store = self.store
        let people = try await database.withTenant(principal.agencyID) { [member] in
            try await store.workloadInputs(from: from.monday, through: to.monday.adding(days: 6), member: member, on: $0)
        }
        return JSONBody(window.page(Workload.report(people: people, from: from, through: to)))
    }

    static func read(_ object: [String: JSONValue], base: AssignmentRecord?) throws -> (AssignmentStore.Refs, AssignmentDraft) {
        var reader = FieldReader(object, allowed: fields)
        let member = reader.uuid("memberId", required: base == nil)
        let client = reader.uuid("clientId", required: base == nil)
        let role = reader.uuid("roleId", required: base == nil)
        let allocation = reader.object("allocation", allowed: ["percent", "hoursPerWeek"], required: base == nil) { item -> Allocation? in
            // Exactly one of the two, given as a number: an explicit null is neither.
            for key in ["percent", "hoursPerWeek"] where item.isNull(key) { item.errors.add(item.path(key), "must be a number, not null") }
            let percent = item.double("percent")
            let hours = item.double("hoursPerWeek")
            switch (percent, hours) {
            case (let p?, nil): return .percent(p)
            case (nil, let h?): return .hoursPerWeek(h)
            default:
                item.errors.add(item.prefix, "give exactly one of percent or hoursPerWeek")
                return nil
            }
        }
        let starts = reader.date("startsOn", required: base == nil)
        let ends = reader.date("endsOn", required: base == nil)
        let commitment = reader.oneOf("commitment", Commitment.self)
        try reader.check()
        guard let memberID = member ?? base?.memberId, let clientID = client ?? base?.clientId, let roleID = role ?? base?.roleId,
              let resolvedAllocation = allocation ?? base?.allocation.allocation,
              let startsOn = starts ?? base?.startsOn, let endsOn = ends ?? base?.endsOn
        else { throw Problem(.malformedRequest) }
        let draft = AssignmentDraft(
            allocation: resolvedAllocation, startsOn: startsOn, endsOn: endsOn, commitment: commitment ?? base?.commitment ?? .hard)
        try draft.validate()
        return (AssignmentStore.Refs(member: memberID, client: clientID, role: roleID), draft)
    }
}
