import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

extension WebRoutes {
    struct PlanView: Sendable {
        struct Row: Sendable {
            var id: String
            var name: String
            var depth: Int
            var isPhase: Bool
            var isMilestone: Bool
            var critical: Bool
            var negativeSlack: Bool
            var duration: String
            var start: String
            var finish: String
            var slack: String
            var assignee: String
            var progress: Int
            var editHref: String
            var moved: Bool
        }
        struct Zoom: Sendable { var label: String; var href: String; var current: Bool }
        struct Export: Sendable { var label: String; var href: String }

        var shell: Shell
        var id: String
        var name: String
        var clientName: String
        var clientHref: String
        var version: Int
        var finish: String
        var health: String
        var healthLabel: String
        var criticalCount: Int
        var taskCount: Int
        var baselineNote: String?
        var notice: String?
        var zooms: [Zoom]
        var gantt: String
        /// The task table's rows, written in Swift: a few hundred rows through the template engine's reflection cost more
        /// than the rest of the page (Benchmarks/web).
        var rowsHTML: String
        var exports: [Export]
        var canEdit: Bool
    }

    /// The task table's rows, every text escaped. A task's name is the link to its form, as in OpenProject's list:
    /// an "Edit" button per row repeated the name for screen readers and doubled the 500-task page's table.
    static func taskRows(_ rows: [PlanView.Row], canEdit: Bool) -> String {
        var html = ""
        html.reserveCapacity(rows.count * 400)
        for row in rows {
            let name = HTML.escape(row.name)
            html += "<tr id=\"task-\(row.id)\" class=\"depth-\(row.depth)\(row.isPhase ? " phase" : "")\(row.critical ? " critical" : "")\(row.moved ? " moved" : "")\">"
            html += canEdit && !row.isPhase
                ? "<th scope=\"row\"><a class=\"name\" href=\"\(row.editHref)\">\(name)</a>"
                : "<th scope=\"row\"><span class=\"name\">\(name)</span>"
            if row.isMilestone { html += " <span class=\"badge\">Milestone</span>" }
            if row.critical && !row.isPhase { html += " <span class=\"badge critical\">Critical</span>" }
            if row.moved { html += " <span class=\"badge moved\">Moved</span>" }
            html += "</th><td class=\"num duration\">\(HTML.escape(row.duration))</td><td class=\"start\">\(HTML.escape(row.start))</td>"
            html += "<td class=\"finish\">\(HTML.escape(row.finish))</td><td class=\"num\(row.negativeSlack ? " bad" : "")\">\(HTML.escape(row.slack))</td>"
            html += "<td>\(HTML.escape(row.assignee))</td><td class=\"num\">\(row.isPhase ? "" : "\(row.progress) %")</td></tr>\n"
        }
        return html
    }

    static let zoomDayWidths: [(String, String, Double)] = [("day", "Day", 28), ("week", "Week", 9), ("month", "Month", 2.5)]

    /// When will it finish, what drives that date, what moved since the baseline: the Gantt beside the task table.
    @Sendable func plan(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let principal = context.principal, let csrf = context.sessionCSRFToken else { return Self.signInRedirect(request) }
        guard let raw = context.parameters.get("planId"), let uuid = UUID(uuidString: raw) else { throw Problem.notFound("plan") }
        let id = PlanID(uuid)
        let now = self.now()
        let zoom = Self.zoomDayWidths.first { $0.0 == request.uri.queryParameters.get("zoom") } ?? Self.zoomDayWidths[1]
        let moved = Set((request.uri.queryParameters.get("moved") ?? "").split(separator: ",").map(String.init))
        let notice = request.uri.queryParameters.get("notice").map { String($0) }
        let routes = self
        let render = { @Sendable () async throws -> KeptResponse in
            let identity = try await routes.identity(of: principal, csrf: csrf)
            // The page compares with the latest baseline (the one saved last).
            let (scheduled, latest) = try await routes.operations.readWithLatestBaseline(id, as: principal)
            let view = Self.planView(
                scheduled, baseline: latest, now: now,
                shell: Shell(title: scheduled.plan.name, section: "Clients", identity: identity, principal: principal,
                             timeZoneNote: "Times in \(scheduled.plan.calendar.timeZoneID)"),
                zoom: zoom, moved: moved, notice: notice, canEdit: TenantPolicy.allows(principal.role, .writePlans))
            return HTMLPage(html: try routes.templates.render("plan", view)).kept
        }
        // The page after an edit (what moved, the notice) is shown once; the plain page is kept for the session and
        // the day (its today line), until the agency's data changes.
        guard moved.isEmpty, notice == nil, let sessionID = context.sessionID else { return try await render().response(from: request, context: context) }
        let key = "plan|\(id)|\(sessionID)|\(zoom.0)|\(WebFormat.utcDate(now).dayNumber)"
        return try await caches.response(key, agency: principal.agencyID, render).response(from: request, context: context)
    }

    static func planView(
        _ scheduled: ScheduledPlan, baseline: BaselineRecord?, now: Date, shell: Shell, zoom: (String, String, Double), moved: Set<String>,
        notice: String?, canEdit: Bool
    ) -> PlanView {
        let plan = scheduled.plan, timeline = scheduled.timeline
        let calendar = plan.calendar
        let perDay = calendar.minutesPerDay
        let byID = Dictionary(plan.tasks.map { ($0.id.description, $0) }, uniquingKeysWith: { a, _ in a })
        var depth: [String: Int] = [:]
        func level(_ id: String) -> Int {
            if let known = depth[id] { return known }
            var d = 0, cursor = byID[id]?.parentID?.description, seen = Set<String>()
            while let p = cursor, !seen.contains(p), d < 20 { seen.insert(p); d += 1; cursor = byID[p]?.parentID?.description }
            depth[id] = d
            return d
        }
        let rows = timeline.tasks.compactMap { s -> PlanView.Row? in
            guard let task = byID[s.id] else { return nil }
            return PlanView.Row(
                id: s.id, name: task.name, depth: min(level(s.id), 4), isPhase: s.isSummary, isMilestone: s.isMilestone, critical: s.isCritical,
                negativeSlack: s.totalSlack < 0, duration: s.isSummary ? "" : WebFormat.duration(minutes: task.durationMinutes, minutesPerDay: perDay),
                start: WebFormat.dayAndTime(s.earlyStart, in: calendar.timeZone),
                finish: WebFormat.dayAndTime(s.earlyFinish, in: calendar.timeZone),
                slack: s.isSummary ? "" : WebFormat.slack(minutes: s.totalSlack, minutesPerDay: perDay),
                assignee: task.assigneeID.flatMap { scheduled.memberNames[$0] } ?? (s.isSummary ? "" : "—"),
                progress: task.percentComplete, editHref: "/plans/\(plan.id)/tasks/\(s.id)", moved: moved.contains(s.id))
        }
        let health = PlanHealth.assess(plan, timeline, baselineFinish: baseline?.finish, now: now)
        var baselineNote: String?
        if let baseline {
            let later = timeline.finish > baseline.finish
            let slip = later ? calendar.workingMinutes(from: baseline.finish, to: timeline.finish)
                : calendar.workingMinutes(from: timeline.finish, to: baseline.finish)
            baselineNote = slip == 0 ? "Finishes as in baseline “\(baseline.name)”"
                : "Finishes \(WebFormat.duration(minutes: slip, minutesPerDay: perDay)) \(later ? "later" : "earlier") than baseline “\(baseline.name)”"
        }
        var exporter = SVGGanttExporter(today: now, width: 1600)
        exporter.embedded = true
        exporter.dayWidth = zoom.2
        let gantt = exporter.render(scheduled.export(baseline: baseline, generatedAt: now))
        let base = "/plans/\(plan.id)"
        return PlanView(
            shell: shell, id: plan.id.description, name: plan.name, clientName: scheduled.client.name, clientHref: "/clients/\(scheduled.client.id)",
            version: scheduled.record.version, finish: WebFormat.day(calendar.localDate(of: timeline.finish)), health: health.rawValue,
            healthLabel: health.label, criticalCount: timeline.tasks.filter { $0.isCritical && !$0.isSummary }.count,
            taskCount: timeline.tasks.filter { !$0.isSummary }.count, baselineNote: baselineNote, notice: notice,
            zooms: zoomDayWidths.map { .init(label: $0.1, href: "\(base)?zoom=\($0.0)", current: $0.0 == zoom.0) },
            gantt: gantt, rowsHTML: taskRows(rows, canEdit: canEdit),
            exports: ExportFormat.allCases.map { .init(label: $0.rawValue.uppercased(), href: "/v1/plans/\(plan.id)/export?format=\($0.rawValue)") },
            canEdit: canEdit)
    }
}
