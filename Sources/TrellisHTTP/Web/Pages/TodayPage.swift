import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

extension WebRoutes {
    struct TodayView: Sendable {
        struct PlanLine: Sendable {
            var name: String
            var href: String
            var clientName: String
            var clientStatus: String
            var health: String
            var healthLabel: String
            var finish: String
        }
        struct TaskLine: Sendable {
            var name: String
            var planName: String
            var href: String
            var when: String
            var assignee: String
            var critical: Bool
            /// The local day, for the order.
            var day: Int = 0
        }
        struct PersonLine: Sendable {
            var name: String
            var weeks: String
            var worst: String
        }
        struct JobLine: Sendable {
            var kind: String
            var error: String
            var when: String
        }

        var shell: Shell
        var weekLabel: String
        var late: [PlanLine]
        var atRisk: [PlanLine]
        var onTrack: [PlanLine]
        var starting: [TaskLine]
        var due: [TaskLine]
        var overAllocated: [PersonLine]
        var failedJobs: [JobLine]
        var unread: Int
        /// Mustache treats 0 as a value, not as false (and sees only stored properties).
        var hasUnread = false
        var showOperations: Bool
        // The long lists, written in Swift (`Self.html`): through the template engine's reflection they cost more than the
        // rest of the page; the arrays above stay for the counts.
        var lateHTML = "", atRiskHTML = "", onTrackHTML = "", startingHTML = "", dueHTML = ""
    }

    static func html(_ plans: [TodayView.PlanLine]) -> String {
        plans.map { p in
            "<li><a href=\"\(p.href)\">\(HTML.escape(p.name))</a> <span class=\"badge \(p.health)\">\(p.healthLabel)</span>"
                + "<span class=\"meta\">\(HTML.escape(p.clientName)) · \(p.clientStatus) · finishes \(p.finish)</span></li>"
        }.joined()
    }

    static func html(_ tasks: [TodayView.TaskLine]) -> String {
        tasks.map { t in
            "<li><a href=\"\(t.href)\">\(HTML.escape(t.name))</a>\(t.critical ? " <span class=\"badge critical\">Critical</span>" : "")"
                + "<span class=\"meta\">\(t.when) · \(HTML.escape(t.planName)) · \(HTML.escape(t.assignee))</span></li>"
        }.joined()
    }

    /// What needs me now: plans by health, what starts and falls due this week, who is over capacity this week and
    /// next, what failed, the inbox.
    @Sendable func today(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let principal = context.principal, let csrf = context.sessionCSRFToken, let sessionID = context.sessionID else {
            return Self.signInRedirect(request)
        }
        if principal.role == .clientViewer { return HTMLPage.redirect("/portal") }
        let now = self.now()
        // Kept per session and day until the agency's data changes, and for 10 s at most: failed jobs are written by the
        // worker's queue, which announces nothing.
        let routes = self
        let key = "today|\(sessionID)|\(WebFormat.utcDate(now).dayNumber)"
        return try await caches.response(key, agency: principal.agencyID, life: .seconds(10)) {
            try await routes.todayPage(principal, identity: try await routes.identity(of: principal, csrf: csrf), now: now)
        }.response(from: request, context: context)
    }

    func todayPage(_ principal: Principal, identity: Shell.Identity, now: Date) async throws -> KeptResponse {
        let thisWeek = ISOWeek(containing: WebFormat.utcDate(now))
        let (monday, sunday) = (thisWeek.monday, thisWeek.monday.adding(days: 6))
        let logger = database.logger
        var view = try await database.withTenantReading(principal.agencyID) { connection -> TodayView in
            var view = TodayView(
                shell: Shell(title: "Today", section: "Today", identity: identity, principal: principal),
                weekLabel: "\(WebFormat.shortDay(monday)) – \(WebFormat.shortDay(sunday))", late: [], atRisk: [], onTrack: [],
                starting: [], due: [], overAllocated: [], failedJobs: [], unread: 0,
                showOperations: TenantPolicy.allows(principal.role, .manageIntegrations))
            // Health and this week's work come from what the last schedule of each plan stored: no plan is loaded or scheduled.
            let reads = PlanHealthReads(logger: logger)
            for plan in try await reads.plans(now: now, on: connection) {
                guard TenantPolicy.canSee(client: plan.clientID, as: principal) else { continue }
                let health = PlanHealth.judge(plan.facts)
                let zone = TimeZone(identifier: plan.timeZone) ?? .gmt
                let line = TodayView.PlanLine(
                    name: plan.name, href: "/plans/\(plan.id)", clientName: plan.clientName, clientStatus: plan.clientStatus,
                    health: health.rawValue, healthLabel: health.label, finish: WebFormat.day(WebFormat.localDay(plan.facts.finish, in: zone)))
                switch health {
                case .late: view.late.append(line)
                case .atRisk: view.atRisk.append(line)
                case .onTrack, .done: view.onTrack.append(line)
                }
            }
            for task in try await reads.weekTasks(from: monday, through: sunday, on: connection) {
                let href = "/plans/\(task.plan)#task-\(task.task)", assignee = task.assignee ?? "Unassigned"
                if (monday...sunday).contains(task.startDay) {
                    view.starting.append(.init(name: task.name, planName: task.clientName, href: href, when: WebFormat.shortDay(task.startDay),
                                               assignee: assignee, critical: task.critical, day: task.startDay.dayNumber))
                }
                if (monday...sunday).contains(task.finishDay) {
                    view.due.append(.init(name: task.name, planName: task.clientName, href: href, when: WebFormat.shortDay(task.finishDay),
                                          assignee: assignee, critical: task.critical, day: task.finishDay.dayNumber))
                }
            }
            if TenantPolicy.allows(principal.role, .readWorkload) {
                let people = try await AssignmentStore(logger: logger).workloadInputs(
                    from: monday, through: thisWeek.next.monday.adding(days: 6), member: nil, on: connection)
                for row in Workload.report(people: people, from: thisWeek, through: thisWeek.next) {
                    let over = row.weeks.filter(\.overAllocated)
                    guard !over.isEmpty else { continue }
                    guard let worst = over.max(by: { ($0.hardHours - $0.availableHours) < ($1.hardHours - $1.availableHours) }) else { continue }
                    view.overAllocated.append(.init(
                        name: row.name, weeks: over.map { $0.week == thisWeek ? "this week" : "next week" }.joined(separator: " and "),
                        worst: worst.availableHours > 0
                            ? "\(WebFormat.hours(worst.hardHours)) booked of \(WebFormat.hours(worst.availableHours)) available"
                            : "\(WebFormat.hours(worst.hardHours)) booked during time off"))
                }
            }
            if view.showOperations {
                for job in try await AgencyJobStore(logger: logger).list(state: "discarded", before: nil, limit: 5, on: connection) {
                    view.failedJobs.append(.init(kind: job.kind, error: job.errors.last?.error ?? "", when: WebFormat.shortDay(WebFormat.utcDate(job.finalizedAt ?? job.createdAt))))
                }
            }
            view.unread = try await NotificationStore(logger: logger).unreadCount(member: principal.memberID.rawValue, on: connection)
            view.hasUnread = view.unread > 0
            return view
        }
        // A stable order, so the page reads the same on every visit: plans by client, then name (two plans created in
        // one transaction tie on creation time, and their ids are random); tasks by day, name, then client.
        for plans in [\TodayView.late, \.atRisk, \.onTrack] {
            view[keyPath: plans].sort { ($0.clientName, $0.name) < ($1.clientName, $1.name) }
        }
        view.starting.sort { ($0.day, $0.name, $0.planName) < ($1.day, $1.name, $1.planName) }
        view.due.sort { ($0.day, $0.name, $0.planName) < ($1.day, $1.name, $1.planName) }
        (view.lateHTML, view.atRiskHTML, view.onTrackHTML) = (Self.html(view.late), Self.html(view.atRisk), Self.html(view.onTrack))
        (view.startingHTML, view.dueHTML) = (Self.html(view.starting), Self.html(view.due))
        return HTMLPage(html: try templates.render("today", view)).kept
    }
}
