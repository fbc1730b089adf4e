import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

/// People and roles: the agency's members with their capacity, the clients' contacts and the role catalog; a person's
/// page with their hybrid roles across clients (assignments), time off, and one week of their work (from the heatmap).
extension WebRoutes {
    struct PeopleView: Sendable {
        struct Member: Sendable { var name: String; var href: String; var role: String; var email: String; var capacity: String; var holds: Int }
        struct Contact: Sendable { var client: String; var name: String; var title: String; var email: String }
        struct Role: Sendable { var name: String; var key: String; var description: String; var archived: Bool }
        var shell: Shell
        var members: [Member]
        var contacts: [Contact]
        var roles: [Role]
    }

    struct PersonView: Sendable {
        struct Option: Sendable { var value: String; var label: String; var selected: Bool }
        struct Holding: Sendable {
            var client: String; var clientHref: String; var role: String; var allocation: String; var period: String
            var soft: Bool; var remove: String; var current: Bool; var starts: LocalDate; var ends: LocalDate
        }
        struct Absence: Sendable { var period: String; var reason: String; var remove: String; var starts: LocalDate; var ends: LocalDate }
        struct Work: Sendable { var name: String; var href: String; var client: String; var dates: String; var critical: Bool; var percent: Int }
        var shell: Shell
        var name: String
        var role: String
        var email: String
        var capacity: String
        var holdings: [Holding]
        var absences: [Absence]
        var canAssign: Bool
        var canEditPeople: Bool
        var assignAction: String
        var timeOffAction: String
        var clients: [Option]
        var roles: [Option]
        var form: [String: String]
        var errors: [String: String] = [:]
        var notice: String?
        /// One ISO week opened from a heatmap cell: what the person holds and works on in it.
        var week: String?
        var weekHoldings: [Holding] = []
        var weekWork: [Work] = []
        var weekAbsent: Bool = false
    }

    @Sendable func people(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.readPeople)
        let logger = database.logger
        let view = try await database.withTenant(principal.agencyID) { connection -> PeopleView in
            let people = PeopleStore(logger: logger)
            let members = try await people.listMembers(role: nil, on: connection).filter { $0.role != .clientViewer }
            let assignments = try await AssignmentStore(logger: logger).list(member: nil, client: nil, on: connection)
            let clients = Dictionary(try await ClientStore(logger: logger).list(ClientStore.Filter(), after: nil, limit: 500, on: connection).items
                .map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            let contacts = try await people.listContacts(client: nil, on: connection)
            let roles = try await RoleStore(logger: logger).list(includeArchived: true, on: connection)
            return PeopleView(
                shell: Shell(title: "People", section: "People", identity: identity, principal: principal),
                members: members.map { member in
                    .init(name: member.displayName, href: "/people/\(MemberID(member.id))", role: member.role.label, email: member.email,
                          capacity: WebFormat.hours(member.weeklyCapacityHours) + " / week",
                          holds: Set(assignments.filter { $0.memberId == member.id }.map(\.clientId)).count)
                },
                contacts: contacts.map { .init(client: clients[$0.clientId] ?? "—", name: $0.name, title: $0.title ?? "", email: $0.email ?? "") }
                    .sorted { ($0.client, $0.name) < ($1.client, $1.name) },
                roles: roles.map { .init(name: $0.name, key: $0.key, description: $0.description, archived: $0.archivedAt != nil) })
        }
        return try HTMLPage(html: templates.render("people", view)).response(from: request, context: context)
    }

    func personView(_ principal: Principal, identity: Shell.Identity, member memberID: UUID, week: ISOWeek?, form: [String: String]) async throws -> PersonView {
        let logger = database.logger
        let today = WebFormat.utcDate(now())
        // Flags the template can test (mustache has no comparisons).
        var form = form
        if form["unit"] == "hoursPerWeek" { form["hoursPerWeek"] = "yes" }
        if form["commitment"] == "soft" { form["soft"] = "yes" }
        var view = try await database.withTenant(principal.agencyID) { [form] connection -> PersonView in
            let people = PeopleStore(logger: logger)
            let member = try await people.member(memberID, on: connection)
            if member.role == .clientViewer { throw StoreError.notFound("member") }
            let clientRecords = try await ClientStore(logger: logger).list(ClientStore.Filter(), after: nil, limit: 500, on: connection).items
            let clients = Dictionary(clientRecords.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            let roleRecords = try await RoleStore(logger: logger).list(includeArchived: true, on: connection)
            let roles = Dictionary(roleRecords.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            let assignments = try await AssignmentStore(logger: logger).list(member: memberID, client: nil, on: connection)
            let absences = try await people.timeOff(member: memberID, on: connection)
            let canAssign = TenantPolicy.allows(principal.role, .writeAssignments)
            let canEditPeople = TenantPolicy.allows(principal.role, .writePeople)
            return PersonView(
                shell: Shell(title: member.displayName, section: "People", identity: identity, principal: principal),
                name: member.displayName, role: member.role.label, email: member.email,
                capacity: WebFormat.hours(member.weeklyCapacityHours) + " a week",
                holdings: assignments.sorted { ($0.startsOn, $0.id.uuidString) < ($1.startsOn, $1.id.uuidString) }.map { a in
                    .init(client: clients[a.clientId] ?? "—", clientHref: "/clients/\(ClientID(a.clientId))", role: roles[a.roleId] ?? "—",
                          allocation: a.allocation.unit == "percent" ? "\(a.allocation.value.formatted()) %" : "\(a.allocation.value.formatted()) h/week",
                          period: "\(WebFormat.shortDay(a.startsOn)) – \(WebFormat.day(a.endsOn))", soft: a.commitment == .soft,
                          remove: "/people/\(MemberID(memberID))/assignments/\(a.id.uuidString.lowercased())/remove",
                          current: a.startsOn <= today && today <= a.endsOn, starts: a.startsOn, ends: a.endsOn)
                },
                absences: absences.map { t in
                    .init(period: t.startsOn == t.endsOn ? WebFormat.day(t.startsOn) : "\(WebFormat.shortDay(t.startsOn)) – \(WebFormat.day(t.endsOn))",
                          reason: t.reason ?? "", remove: "/people/\(MemberID(memberID))/time-off/\(t.id.uuidString.lowercased())/remove",
                          starts: t.startsOn, ends: t.endsOn)
                },
                canAssign: canAssign, canEditPeople: canEditPeople,
                assignAction: "/people/\(MemberID(memberID))/assignments", timeOffAction: "/people/\(MemberID(memberID))/time-off",
                clients: clientRecords.filter { $0.status != .offboarded }.map {
                    .init(value: ClientID($0.id).description, label: $0.name, selected: ClientID($0.id).description == form["client"])
                },
                roles: roleRecords.filter { $0.archivedAt == nil }.map {
                    .init(value: $0.id.uuidString.lowercased(), label: $0.name, selected: $0.id.uuidString.lowercased() == form["role"])
                },
                form: form)
        }
        if let week {
            let sunday = week.monday.adding(days: 6)
            view.week = "Week \(week.iso): \(WebFormat.shortDay(week.monday)) – \(WebFormat.day(sunday))"
            view.weekHoldings = view.holdings.filter { $0.starts <= sunday && $0.ends >= week.monday }
            view.weekAbsent = view.absences.contains { $0.starts <= sunday && $0.ends >= week.monday }
            let tasks = try await operations.personTimeline(MemberID(memberID), from: week.monday, to: sunday, as: principal)
            view.weekWork = tasks.map { task in
                let start = WebFormat.localDay(task.start, in: task.timeZone), finish = WebFormat.localDay(task.finish, in: task.timeZone)
                return .init(name: task.name, href: "/plans/\(task.plan)#task-\(task.task)", client: task.clientName,
                             dates: start == finish ? WebFormat.day(start) : "\(WebFormat.shortDay(start)) – \(WebFormat.day(finish))",
                             critical: task.critical, percent: task.percentComplete)
            }
        }
        return view
    }

    func memberParameter(_ context: AppRequestContext) throws -> UUID {
        guard let raw = context.parameters.get("memberId"), let id = UUID(uuidString: raw) else { throw Problem.notFound("member") }
        return id
    }

    @Sendable func person(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.readPeople)
        let week = request.uri.queryParameters.get("week").flatMap { ISOWeek(iso: $0) }
        var view = try await personView(principal, identity: identity, member: try memberParameter(context), week: week,
                                        form: ["unit": "percent", "commitment": "hard"])
        view.notice = request.uri.queryParameters.get("notice").map { String($0) }
        return try HTMLPage(html: templates.render("person", view)).response(from: request, context: context)
    }
}

extension WebRoutes {
    func personFormError(_ request: Request, context: AppRequestContext, principal: Principal, identity: Shell.Identity,
                         member: UUID, form: [String: String], errors: [String: String]) async throws -> Response {
        var view = try await personView(principal, identity: identity, member: member, week: nil, form: form)
        view.errors = errors
        return try HTMLPage(html: templates.render("person", view), status: .unprocessableContent).response(from: request, context: context)
    }

    /// The domain's message in a form's words: "must not be before startsOn" → "Must not be before the first day".
    static func spokenMessage(_ message: String) -> String {
        let text = message.replacingOccurrences(of: "startsOn", with: "the first day")
        return text.prefix(1).uppercased() + text.dropFirst()
    }

    static func redirect(toPerson member: UUID, notice: String, anchor: String) -> Response {
        HTMLPage.redirect("/people/\(MemberID(member))", notice: notice, then: "#\(anchor)")
    }

    /// A hybrid role for a client: the same draft and validation as `POST /v1/assignments`.
    @Sendable func addAssignment(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writeAssignments)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let member = try memberParameter(context)
        var errors: [String: String] = [:]
        let client = form.values["client"].flatMap(UUID.init(uuidString:))
        if client == nil { errors["client"] = "Choose the client" }
        let role = form.values["role"].flatMap(UUID.init(uuidString:))
        if role == nil { errors["role"] = "Choose the role they hold" }
        let amount = Double((form.values["amount"] ?? "").replacingOccurrences(of: ",", with: "."))
        if amount == nil { errors["allocation"] = "Enter how much of their time, like 50" }
        let starts = LocalDate(form.values["startsOn"] ?? ""), ends = LocalDate(form.values["endsOn"] ?? "")
        if starts == nil { errors["startsOn"] = "Enter the first day" }
        if ends == nil { errors["endsOn"] = "Enter the last day" }
        let commitment = Commitment(rawValue: form.values["commitment"] ?? "") ?? .hard
        guard errors.isEmpty, let client, let role, let amount, let starts, let ends else {
            return try await personFormError(request, context: context, principal: principal, identity: identity, member: member, form: form.values, errors: errors)
        }
        let draft = AssignmentDraft(allocation: form.values["unit"] == "hoursPerWeek" ? .hoursPerWeek(amount) : .percent(amount),
                                    startsOn: starts, endsOn: ends, commitment: commitment)
        do {
            try draft.validate()
            let store = AssignmentStore(logger: database.logger)
            _ = try await database.withTenant(principal.agencyID) {
                try await store.create(id: UUID(), refs: .init(member: member, client: client, role: role), draft, on: $0)
            }
        } catch let error as ValidationError {
            for field in error.errors {
                let key = field.field.hasPrefix("allocation") ? "allocation" : field.field
                errors[key] = Self.spokenMessage(field.message)
            }
        } catch StoreError.missingReference(let field) {
            errors[field == "roleId" ? "role" : "client"] = "That \(field == "roleId" ? "role" : "client") is no longer there"
        }
        if !errors.isEmpty {
            return try await personFormError(request, context: context, principal: principal, identity: identity, member: member, form: form.values, errors: errors)
        }
        return Self.redirect(toPerson: member, notice: "Assignment added.", anchor: "roles-h")
    }

    @Sendable func removeAssignment(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writeAssignments)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let member = try memberParameter(context)
        guard let raw = context.parameters.get("assignmentId"), let id = UUID(uuidString: raw) else { throw Problem.notFound("assignment") }
        let store = AssignmentStore(logger: database.logger)
        try await database.withTenant(principal.agencyID) { connection in
            guard try await store.get(id, on: connection).memberId == member else { throw StoreError.notFound("assignment") }
            try await store.delete(id, on: connection)
        }
        return Self.redirect(toPerson: member, notice: "Assignment removed.", anchor: "roles-h")
    }

    /// Time off: the same validation as `POST /v1/members/{id}/time-off`; the heatmap counts it at once.
    @Sendable func addTimeOff(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writePeople)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let member = try memberParameter(context)
        var errors: [String: String] = [:]
        let starts = LocalDate(form.values["offFrom"] ?? ""), ends = LocalDate(form.values["offTo"] ?? "")
        if starts == nil { errors["offFrom"] = "Enter the first day off" }
        if ends == nil { errors["offTo"] = "Enter the last day off" }
        let reason = (form.values["reason"] ?? "").trimmingCharacters(in: .whitespaces)
        if let starts, let ends {
            let timeOff = TimeOff(startsOn: starts, endsOn: ends, reason: reason.isEmpty ? nil : reason)
            do {
                try timeOff.validate()
                let store = PeopleStore(logger: database.logger)
                _ = try await database.withTenant(principal.agencyID) { connection in
                    _ = try await store.member(member, on: connection)
                    return try await store.addTimeOff(id: UUID(), member: member, timeOff, on: connection)
                }
            } catch let error as ValidationError {
                for field in error.errors {
                    let key = ["startsOn": "offFrom", "endsOn": "offTo"][field.field] ?? field.field
                    errors[key] = Self.spokenMessage(field.message)
                }
            }
        }
        if !errors.isEmpty {
            return try await personFormError(request, context: context, principal: principal, identity: identity, member: member, form: form.values, errors: errors)
        }
        return Self.redirect(toPerson: member, notice: "Time off added.", anchor: "off-h")
    }

    @Sendable func removeTimeOff(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writePeople)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let member = try memberParameter(context)
        guard let raw = context.parameters.get("timeOffId"), let id = UUID(uuidString: raw) else { throw Problem.notFound("time off") }
        let store = PeopleStore(logger: database.logger)
        try await database.withTenant(principal.agencyID) { try await store.deleteTimeOff(id, member: member, on: $0) }
        return Self.redirect(toPerson: member, notice: "Time off removed.", anchor: "off-h")
    }
}
