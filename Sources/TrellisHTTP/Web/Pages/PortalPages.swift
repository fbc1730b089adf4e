import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

/// The client portal: what a client stakeholder sees of their own brand, signed in by a share link.
extension WebRoutes {
    struct PortalView: Sendable {
        struct Waiting: Sendable { var name: String; var due: String; var action: String; var late: Bool }
        struct Line: Sendable { var name: String; var when: String }
        struct Plan: Sendable {
            var name: String
            var progress: Int
            var finish: String
            var health: String
            var healthLabel: String
            var milestones: [Line]
            var late: [Line]
            var waiting: [Waiting]
            var done: [Line]
            var gantt: String
        }
        struct Goal: Sendable { var name: String; var metric: String; var target: String; var due: String }

        var shell: Shell
        var clientName: String
        var agencyName: String
        var notice: String?
        var plans: [Plan]
        var goals: [Goal]
    }

    /// What is done, what is next, what is waiting on me.
    @Sendable func portal(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        guard principal.role == .clientViewer, let clientID = principal.clientID else { return HTMLPage.redirect("/today") }
        let now = self.now()
        let logger = database.logger
        let (client, records) = try await database.withTenant(principal.agencyID) { connection in
            (try await ClientStore(logger: logger).get(clientID.rawValue, on: connection),
             try await PlanStore(logger: logger).plans(client: clientID.rawValue, on: connection))
        }
        var plans: [PortalView.Plan] = []
        for record in records {
            let scheduled = try await operations.read(PlanID(record.id), as: principal)
            plans.append(Self.portalPlan(scheduled, now: now))
        }
        let view = PortalView(
            shell: Shell(title: "\(client.name) · Portal", section: "Portal", identity: identity, principal: principal,
                         timeZoneNote: "Times in \(client.timeZone)"),
            clientName: client.name, agencyName: identity.agencyName, notice: request.uri.queryParameters.get("notice").map { String($0) },
            plans: plans,
            goals: client.goals.map { .init(name: $0.name, metric: $0.metric, target: $0.target.map { $0.formatted() } ?? "—",
                                            due: $0.dueOn.map(WebFormat.day) ?? "—") })
        return try HTMLPage(html: templates.render("portal", view)).response(from: request, context: context)
    }

    static func portalPlan(_ scheduled: ScheduledPlan, now: Date) -> PortalView.Plan {
        let plan = scheduled.plan, timeline = scheduled.timeline, calendar = plan.calendar
        let tasks = Dictionary(plan.tasks.map { ($0.id.description, $0) }, uniquingKeysWith: { a, _ in a })
        var total = 0, done = 0
        var milestones: [PortalView.Line] = [], late: [PortalView.Line] = [], waiting: [PortalView.Waiting] = [], finished: [PortalView.Line] = []
        for s in timeline.tasks where !s.isSummary {
            guard let task = tasks[s.id] else { continue }
            total += task.durationMinutes
            done += task.durationMinutes * task.percentComplete / 100
            let finish = WebFormat.day(calendar.localDate(of: s.earlyFinish))
            if s.isMilestone && s.earlyStart >= now && milestones.count < 5 { milestones.append(.init(name: task.name, when: finish)) }
            if s.earlyFinish < now && task.percentComplete < 100 && !task.clientAction { late.append(.init(name: task.name, when: finish)) }
            if task.clientAction {
                if let answer = task.clientDone {
                    finished.append(.init(name: task.name, when: WebFormat.day(calendar.localDate(of: answer.at))))
                } else {
                    waiting.append(.init(name: task.name, due: finish, action: "/portal/plans/\(plan.id)/tasks/\(task.id)/done",
                                         late: s.earlyFinish < now))
                }
            }
        }
        let health = PlanHealth.assess(plan, timeline, baselineFinish: nil, now: now)
        var exporter = SVGGanttExporter(today: now, width: 1200)
        exporter.embedded = true
        return PortalView.Plan(
            name: plan.name, progress: total == 0 ? 0 : done * 100 / total, finish: WebFormat.day(calendar.localDate(of: timeline.finish)),
            health: health.rawValue, healthLabel: health.label, milestones: milestones, late: late, waiting: waiting, done: finished,
            gantt: exporter.render(scheduled.export(generatedAt: now)))
    }

    /// The client marks a task waiting on them done, with a comment (the only thing the portal lets them change).
    @Sendable func portalTaskDone(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        guard let rawPlan = context.parameters.get("planId"), let plan = UUID(uuidString: rawPlan),
              let rawTask = context.parameters.get("taskId"), let task = UUID(uuidString: rawTask) else { throw Problem.notFound("task") }
        let done = try await operations.completeClientTask(
            PlanID(plan), task: TaskID(task), comment: form.values["comment"] ?? "", at: now(), as: principal)
        let name = done.plan.task(TaskID(task))?.name ?? "The task"
        let notice = "Thank you — “\(name)” is marked done. Your agency has been told."
        return HTMLPage.redirect("/portal", notice: notice)
    }

    struct JoinView: Sendable {
        var title = "Open your portal"
        var secret: String
        var error: String?
    }

    /// A share link opens this page; the button signs in (a GET never does, so a mail scanner fetching the link uses nothing).
    @Sendable func joinPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let secret = context.parameters.get("secret") ?? ""
        return try HTMLPage(html: templates.render("join", JoinView(secret: secret))).response(from: request, context: context)
    }

    @Sendable func joinSubmit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request, context: context)
        let secret = form["secret"] ?? ""
        let links = ShareLinkStore(logger: database.logger)
        guard secret.hasPrefix("trp_"), let (agency, member, _) = try await database.withSingleStatement({ try await links.redeem(secret, on: $0) }) else {
            let view = JoinView(secret: "", error: "This link has expired or was withdrawn. Ask your agency contact for a new one.")
            return try HTMLPage(html: templates.render("join", view), status: .notFound).response(from: request, context: context)
        }
        let credentials = CredentialStore(logger: database.logger)
        let session = try await database.withTenant(agency) {
            try await credentials.createSession(member: member, lifetime: SignIn.sessionLifetime, on: $0)
        }
        var response = HTMLPage.redirect("/portal")
        response.setCookie(Cookie(
            name: AuthenticationMiddleware.sessionCookie, value: session.secret, expires: session.expiresAt,
            path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    // MARK: Share links, on the agency's side

    struct PortalLinkView: Sendable {
        var shell: Shell
        var clientName: String
        var clientHref: String
        var contactName: String
        var url: String
        var expires: String
    }

    /// Makes a portal link for a contact of the client and shows it once, to copy into an email.
    @Sendable func createPortalLink(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writeClients)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        guard let rawClient = context.parameters.get("clientId"), let client = UUID(uuidString: rawClient),
              let contact = form["contact"].flatMap(UUID.init(uuidString:)) else { throw Problem.notFound("contact") }
        let logger = database.logger
        let (record, secret, clientName) = try await database.withTenant(principal.agencyID) { connection in
            let name = try await ClientStore(logger: logger).get(client, on: connection).name
            let (record, secret) = try await ShareLinkStore(logger: logger).create(
                client: client, contact: contact, createdBy: principal.memberID, lifetime: Self.portalLinkLifetime,
                on: connection)
            return (record, secret, name)
        }
        let view = PortalLinkView(
            shell: Shell(title: "Portal link", section: "Clients", identity: identity, principal: principal), clientName: clientName,
            clientHref: "/clients/\(ClientID(client))", contactName: record.contactName, url: "\(publicBaseURL)/portal/join/\(secret)",
            expires: WebFormat.day(WebFormat.utcDate(record.expiresAt)))
        return try HTMLPage(html: templates.render("portal-link", view), status: .created).response(from: request, context: context)
    }

    @Sendable func revokePortalLink(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writeClients)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        guard let rawClient = context.parameters.get("clientId"), let client = UUID(uuidString: rawClient),
              let rawLink = context.parameters.get("linkId"), let link = UUID(uuidString: rawLink) else { throw Problem.notFound("share link") }
        let links = ShareLinkStore(logger: database.logger)
        try await database.withTenant(principal.agencyID) { try await links.revoke(link, client: client, on: $0) }
        return HTMLPage.redirect("/clients/\(ClientID(client))#portal-links")
    }

    /// A portal link works for two weeks: long enough for an email to be read, short enough to be worth revoking.
    static let portalLinkLifetime: Duration = .seconds(14 * 24 * 3600)
}
