import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

/// `/v1/members` (people who sign in and hold roles), their time off, and `/v1/contacts` at client brands.
struct PeopleRoutes {
    let database: TenantDatabase
    let store: PeopleStore
    let credentials: CredentialStore
    let hasher: PasswordHasher

    func register(on router: Router<AppRequestContext>) {
        router.get("/v1/members", use: listMembers)
        router.post("/v1/members", use: createMember)
        router.get("/v1/members/{memberId}", use: readMember)
        router.patch("/v1/members/{memberId}", use: updateMember)
        router.get("/v1/members/{memberId}/time-off", use: listTimeOff)
        router.post("/v1/members/{memberId}/time-off", use: addTimeOff)
        router.delete("/v1/members/{memberId}/time-off/{timeOffId}", use: deleteTimeOff)
        router.get("/v1/contacts", use: listContacts)
        router.post("/v1/contacts", use: createContact)
        router.get("/v1/contacts/{contactId}", use: readContact)
        router.delete("/v1/contacts/{contactId}", use: deleteContact)
    }

    static let memberFields: Set<String> = ["email", "displayName", "role", "clientId", "weeklyCapacityHours", "password"]

    @Sendable func listMembers(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<MemberBody>> {
        let principal = try context.require(.readPeople)
        let window = try ListWindow(request)
        var role: MemberRole?
        if let raw = request.query("role") {
            guard let parsed = MemberRole(rawValue: raw) else {
                throw Problem.validation([FieldError("role", "must be one of \(MemberRole.allCases.map(\.rawValue).joined(separator: ", "))")])
            }
            role = parsed
        }
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { [role] in try await store.listMembers(role: role, on: $0) }).map(MemberBody.init))
    }

    @Sendable func createMember(_ request: Request, context: AppRequestContext) async throws -> Versioned<MemberBody> {
        let principal = try context.require(.writePeople)
        let (draft, password) = try Self.memberDraft(from: try await request.jsonObject(context: context), base: nil)
        try Self.checkCanGrant(draft.role, by: principal)
        let hash: String? = if let password { try await hasher.hash(password) } else { nil }
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) {
            try await store.createMember(id: UUID(), draft, passwordHash: hash, on: $0)
        }
        return .created(MemberBody(record), version: record.version, at: "/v1/members/\(record.id.lowercasedString)")
    }

    @Sendable func readMember(_ request: Request, context: AppRequestContext) async throws -> Versioned<MemberBody> {
        let principal = try context.require(.readPeople)
        let id = try context.uuidParameter("memberId")
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) { try await store.member(id, on: $0) }
        return Versioned(body: MemberBody(record), version: record.version)
    }

    @Sendable func updateMember(_ request: Request, context: AppRequestContext) async throws -> Versioned<MemberBody> {
        let principal = try context.require(.writePeople)
        let id = try context.uuidParameter("memberId")
        let expected = try request.ifMatchVersion()
        let object = try await request.jsonObject(context: context)
        let store = self.store
        // Bcrypt is slow on purpose: hash before the transaction opens.
        var password: String?
        if case .string(let p)? = object["password"] { password = p }
        let hash: String? = if let password { try await hasher.hash(password) } else { nil }
        let credentials = self.credentials
        let (keepSession, keepToken) = id == principal.memberID.rawValue ? (context.sessionID, context.tokenID) : (nil, nil)
        let (record, ended) = try await database.withTenant(principal.agencyID) { connection in
            let current = try await store.member(id, on: connection)
            let (draft, _) = try Self.memberDraft(from: object, base: current)
            try Self.checkCanGrant(draft.role, by: principal)
            // An owner's sign-in (email, password) and role are the owner's own, or another owner's, to change.
            if current.role == .owner && principal.role != .owner
                && (hash != nil || draft.role != .owner || draft.email.lowercased() != current.email.lowercased()) {
                throw Problem(.forbidden, detail: "only an owner may change an owner's email, password or role")
            }
            let updated = try await store.updateMember(id, draft, expectedVersion: expected, on: connection)
            guard let hash else { return (updated, (sessions: 0, tokens: 0)) }
            try await store.setPassword(member: id, hash: hash, on: connection)
            // A new password ends every other way in: the person's other sessions and all their API tokens
            // (but the session or token that made this change, when they changed their own).
            let ended = try await credentials.endCredentials(member: id, keepSession: keepSession, keepToken: keepToken, on: connection)
            return (try await store.member(id, on: connection), ended)
        }
        var response = Versioned(body: MemberBody(record), version: record.version)
        if hash != nil { response.extraHeaders = [.init("Trellis-Ended-Credentials")!: "sessions=\(ended.sessions), tokens=\(ended.tokens)"] }
        return response
    }

    /// Only an owner makes owners.
    static func checkCanGrant(_ role: MemberRole, by principal: Principal) throws {
        if role == .owner && principal.role != .owner {
            throw Problem(.forbidden, detail: "only an owner may make another owner")
        }
    }

    static func memberDraft(from object: [String: JSONValue], base: MemberRecord?) throws -> (MemberDraft, String?) {
        var reader = FieldReader(object, allowed: memberFields)
        let email = reader.string("email", required: base == nil, maxLength: 254)
        let name = reader.string("displayName", required: base == nil, maxLength: 200)
        let role = reader.oneOf("role", MemberRole.self, required: base == nil)
        let clientID = reader.uuid("clientId")
        let capacity = reader.double("weeklyCapacityHours")
        let password = reader.string("password", maxLength: 200)
        if let password, password.unicodeScalars.count < 10 { reader.errors.add("password", "must be at least 10 characters") }
        try reader.check()
        let draft = MemberDraft(
            email: email ?? base?.email ?? "",
            displayName: name ?? base?.displayName ?? "",
            role: role ?? base?.role ?? .consultant,
            clientID: reader.has("clientId") ? clientID.map(ClientID.init) : base?.clientId.map(ClientID.init),
            weeklyCapacityHours: capacity ?? base?.weeklyCapacityHours ?? 40)
        try draft.validate()
        return (draft, password)
    }

    // MARK: Time off

    @Sendable func listTimeOff(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<TimeOffBody>> {
        let principal = try context.require(.readPeople)
        let window = try ListWindow(request)
        let member = try context.uuidParameter("memberId")
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { connection in
            _ = try await store.member(member, on: connection)
            return try await store.timeOff(member: member, on: connection)
        }).map(TimeOffBody.init))
    }

    @Sendable func addTimeOff(_ request: Request, context: AppRequestContext) async throws -> JSONBody<TimeOffBody> {
        let principal = try context.require(.writePeople)
        let member = try context.uuidParameter("memberId")
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["startsOn", "endsOn", "reason"])
        let starts = reader.date("startsOn", required: true)
        let ends = reader.date("endsOn", required: true)
        let reason = reader.string("reason", maxLength: 500)
        try reader.check()
        guard let starts, let ends else { throw Problem(.malformedRequest) }
        let timeOff = TimeOff(startsOn: starts, endsOn: ends, reason: reason)
        try timeOff.validate()
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) { connection in
            _ = try await store.member(member, on: connection)
            return try await store.addTimeOff(id: UUID(), member: member, timeOff, on: connection)
        }
        return .created(TimeOffBody(record), at: "/v1/members/\(member.lowercasedString)/time-off/\(record.id.lowercasedString)")
    }

    @Sendable func deleteTimeOff(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.require(.writePeople)
        let member = try context.uuidParameter("memberId")
        let id = try context.uuidParameter("timeOffId")
        let store = self.store
        try await database.withTenant(principal.agencyID) { try await store.deleteTimeOff(id, member: member, on: $0) }
        return .noContent
    }

    // MARK: Contacts

    @Sendable func listContacts(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<ContactBody>> {
        let principal = try context.require(.readPeople)
        let window = try ListWindow(request)
        var client: UUID?
        if let raw = request.query("clientId") {
            guard let id = UUID(uuidString: raw) else { throw Problem.validation([FieldError("clientId", "must be a UUID")]) }
            client = id
        }
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { [client] in try await store.listContacts(client: client, on: $0) }).map(ContactBody.init))
    }

    @Sendable func createContact(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ContactBody> {
        let principal = try context.require(.writePeople)
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["clientId", "name", "email", "title", "weeklyCapacityHours"])
        let client = reader.uuid("clientId", required: true)
        let name = reader.string("name", required: true, maxLength: 200)
        let email = reader.string("email", maxLength: 254)
        let title = reader.string("title", maxLength: 200)
        let capacity = reader.double("weeklyCapacityHours")
        try reader.check()
        guard let client, let name else { throw Problem(.malformedRequest) }
        let draft = ContactDraft(clientID: ClientID(client), name: name, email: email, title: title, weeklyCapacityHours: capacity)
        try draft.validate()
        let store = self.store
        let record = try await database.withTenant(principal.agencyID) {
            try await store.createContact(id: UUID(), draft, on: $0)
        }
        return .created(ContactBody(record), at: "/v1/contacts/\(record.id.lowercasedString)")
    }

    @Sendable func readContact(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ContactBody> {
        let principal = try context.require(.readPeople)
        let id = try context.uuidParameter("contactId")
        let store = self.store
        return JSONBody(ContactBody(try await database.withTenant(principal.agencyID) { try await store.contact(id, on: $0) }))
    }

    @Sendable func deleteContact(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.require(.writePeople)
        let id = try context.uuidParameter("contactId")
        let store = self.store
        try await database.withTenant(principal.agencyID) { try await store.deleteContact(id, on: $0) }
        return .noContent
    }
}
