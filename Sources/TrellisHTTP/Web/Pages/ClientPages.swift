import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

extension WebRoutes {
    struct ClientsView: Sendable {
        struct Row: Sendable {
            var name: String
            var href: String
            var industry: String
            var status: String
            var timeZone: String
        }
        struct StatusOption: Sendable {
            var value: String
            var label: String
            var selected: Bool
        }
        var shell: Shell
        var rows: [Row]
        var statuses: [StatusOption]
        var query: String
        var nextHref: String?
        var filtered: Bool
    }

    /// Clients, filtered by status and name, a page at a time.
    @Sendable func clients(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        if principal.role == .clientViewer, let client = principal.clientID { return HTMLPage.redirect("/clients/\(client)") }
        var filter = ClientStore.Filter()
        let status = request.uri.queryParameters.get("status").flatMap(ClientStatus.init(rawValue:))
        filter.status = status
        let query = request.uri.queryParameters.get("q")?.trimmingCharacters(in: .whitespaces) ?? ""
        if query.unicodeScalars.contains("\0") { throw Problem.validation([FieldError("q", "must not contain NUL characters")]) }
        filter.search = query.isEmpty ? nil : query
        let cursor = request.uri.queryParameters.get("cursor").flatMap { Cursor(encoded: String($0)) }
        let store = ClientStore(logger: database.logger)
        let page = try await database.withTenantReading(principal.agencyID) { [filter] in try await store.list(filter, after: cursor, limit: 50, on: $0) }
        var next: String?
        if let cursor = page.nextCursor {
            var parts = ["cursor=\(cursor)"]
            if let status { parts.append("status=\(status.rawValue)") }
            if !query.isEmpty { parts.append("q=\(query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")") }
            next = "/clients?" + parts.joined(separator: "&")
        }
        let view = ClientsView(
            shell: Shell(title: "Clients", section: "Clients", identity: identity, principal: principal),
            rows: page.items.map {
                .init(name: $0.name, href: "/clients/\(ClientID($0.id))", industry: $0.industry ?? "—", status: $0.status.rawValue, timeZone: $0.timeZone)
            },
            statuses: [ClientsView.StatusOption(value: "", label: "Any status", selected: status == nil)]
                + ClientStatus.allCases.map { .init(value: $0.rawValue, label: $0.rawValue.capitalized, selected: $0 == status) },
            query: query, nextHref: next, filtered: status != nil || !query.isEmpty)
        return try HTMLPage(html: templates.render("clients", view)).response(from: request, context: context)
    }

    struct ClientView: Sendable {
        struct Channel: Sendable { var network: String; var handle: String; var audience: String }
        struct Goal: Sendable { var name: String; var metric: String; var target: String; var due: String }
        struct Contact: Sendable { var id: String; var name: String; var title: String; var email: String }
        struct PortalLink: Sendable { var id: String; var contact: String; var created: String; var expires: String; var used: String; var status: String; var active: Bool; var revoke: String }
        struct Holder: Sendable { var person: String; var role: String; var allocation: String; var period: String; var soft: Bool }
        struct Plan: Sendable { var name: String; var href: String; var health: String; var healthLabel: String; var finish: String }
        struct Day: Sendable { var name: String; var hours: String }

        var shell: Shell
        var name: String
        var status: String
        var industry: String
        var timeZone: String
        var channels: [Channel]
        var goals: [Goal]
        var contacts: [Contact]
        var holders: [Holder]
        var plans: [Plan]
        var week: [Day]
        var holidays: [String]
        var exceptions: [String]
        var calendarHref: String
        var newPlanHref: String?
        var notice: String?
        var canShare: Bool
        var portalLinks: [PortalLink]
        var portalLinkAction: String
        var editHref: String
    }

    /// Where are we with this brand, who works on it, what did we promise.
    @Sendable func client(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        guard let raw = context.parameters.get("clientId"), let id = UUID(uuidString: raw),
              TenantPolicy.canSee(client: ClientID(id), as: principal) else { throw Problem.notFound("client") }
        let logger = database.logger
        let now = self.now()
        let view = try await database.withTenant(principal.agencyID) { connection -> ClientView in
            let record = try await ClientStore(logger: logger).get(id, on: connection)
            let plans = PlanStore(logger: logger)
            let calendar = try await plans.calendar(for: record, on: connection)
            let contacts = TenantPolicy.allows(principal.role, .readPeople)
                ? try await PeopleStore(logger: logger).listContacts(client: id, on: connection) : []
            var holders: [ClientView.Holder] = []
            if TenantPolicy.allows(principal.role, .readAssignments) {
                let members = Dictionary(try await PeopleStore(logger: logger).listMembers(role: nil, on: connection).map { ($0.id, $0.displayName) },
                                         uniquingKeysWith: { a, _ in a })
                let roles = Dictionary(try await RoleStore(logger: logger).list(includeArchived: true, on: connection).map { ($0.id, $0.name) },
                                       uniquingKeysWith: { a, _ in a })
                for a in try await AssignmentStore(logger: logger).list(member: nil, client: id, on: connection) {
                    let allocation = a.allocation.unit == "percent" ? "\(Int(a.allocation.value)) %" : "\(a.allocation.value.formatted()) h/week"
                    holders.append(.init(person: members[a.memberId] ?? "—", role: roles[a.roleId] ?? "—", allocation: allocation,
                                         period: "\(WebFormat.shortDay(a.startsOn)) – \(WebFormat.day(a.endsOn))", soft: a.commitment == .soft))
                }
            }
            let canShare = TenantPolicy.allows(principal.role, .writeClients)
            let links = canShare ? try await ShareLinkStore(logger: logger).list(client: id, on: connection) : []
            var planLines: [ClientView.Plan] = []
            for plan in try await PlanHealthReads(logger: logger).plans(client: ClientID(id), now: now, on: connection) {
                let health = PlanHealth.judge(plan.facts)
                planLines.append(.init(name: plan.name, href: "/plans/\(plan.id)", health: health.rawValue, healthLabel: health.label,
                                       finish: WebFormat.day(calendar.localDate(of: plan.facts.finish))))
            }
            let week = Weekday.allCases.map { day -> ClientView.Day in
                let intervals = calendar.weekly[day] ?? []
                return .init(name: WebFormat.weekdays[day.index],
                             hours: intervals.isEmpty ? "Not working" : intervals.map(\.description).joined(separator: ", "))
            }
            return ClientView(
                shell: Shell(title: record.name, section: "Clients", identity: identity, principal: principal, timeZoneNote: "Times in \(record.timeZone)"),
                name: record.name, status: record.status.rawValue, industry: record.industry ?? "—", timeZone: record.timeZone,
                channels: record.channels.map { .init(network: $0.network, handle: $0.handle, audience: $0.audienceSize.map { $0.formatted() } ?? "—") },
                goals: record.goals.map { .init(name: $0.name, metric: $0.metric, target: $0.target.map { $0.formatted() } ?? "—",
                                                due: $0.dueOn.map(WebFormat.day) ?? "—") },
                contacts: contacts.map { .init(id: $0.id.uuidString.lowercased(), name: $0.name, title: $0.title ?? "", email: $0.email ?? "") },
                holders: holders, plans: planLines, week: week,
                holidays: calendar.holidays.sorted().map(WebFormat.day),
                exceptions: calendar.exceptions.sorted { $0.key < $1.key }.map { date, intervals in
                    WebFormat.day(date) + ": " + (intervals.isEmpty ? "not working" : intervals.map(\.description).joined(separator: ", "))
                },
                calendarHref: "/clients/\(ClientID(id))/calendar",
                newPlanHref: TenantPolicy.allows(principal.role, .writePlans) ? "/templates?client=\(ClientID(id))" : nil,
                notice: request.uri.queryParameters.get("notice").map { String($0) },
                canShare: canShare,
                portalLinks: links.map { link in
                    let active = link.revokedAt == nil && link.expiresAt > now
                    return .init(id: link.id.uuidString.lowercased(), contact: link.contactName, created: WebFormat.day(WebFormat.utcDate(link.createdAt)),
                                 expires: WebFormat.day(WebFormat.utcDate(link.expiresAt)),
                                 used: link.lastUsedAt.map { WebFormat.day(WebFormat.utcDate($0)) } ?? "never",
                                 status: link.revokedAt != nil ? "revoked" : (active ? "active" : "expired"), active: active,
                                 revoke: "/clients/\(ClientID(id))/portal-links/\(link.id.uuidString.lowercased())/revoke")
                },
                portalLinkAction: "/clients/\(ClientID(id))/portal-links", editHref: "/clients/\(ClientID(id))/edit")
        }
        return try HTMLPage(html: templates.render("client", view)).response(from: request, context: context)
    }
}
