import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

extension WebRoutes {
    struct WorkloadView: Sendable {
        struct Cell: Sendable {
            var band: String
            var label: String
            var detail: String
            var soft: Bool
            var timeOff: Bool
            /// That person's assignments and tasks of that week.
            var href: String
        }
        struct Row: Sendable {
            var name: String
            var href: String
            var capacity: String
            var cells: [Cell]
        }
        struct Week: Sendable { var label: String; var iso: String }

        var shell: Shell
        var weeks: [Week]
        var rows: [Row]
        var earlier: String
        var later: String
    }

    /// Who is over or under capacity in the coming weeks: people × ISO weeks, each cell banded as capacity tools band
    /// it (under ≤ 92 %, full 93–106 %, over ≥ 107 %), tentative work counted apart, time off marked.
    @Sendable func workload(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.readWorkload)
        let start = request.uri.queryParameters.get("from").flatMap { ISOWeek(iso: $0) } ?? ISOWeek(containing: WebFormat.utcDate(now()))
        var last = start
        for _ in 0..<7 { last = last.next }
        let end = last
        let store = AssignmentStore(logger: database.logger)
        let people = try await database.withTenantReading(principal.agencyID) {
            try await store.workloadInputs(from: start.monday, through: end.monday.adding(days: 6), member: nil, on: $0)
        }
        let report = Workload.report(people: people, from: start, through: end)
        var weeks: [ISOWeek] = []
        var week = start
        while week <= end { weeks.append(week); week = week.next }
        let rows = report.map { row -> WorkloadView.Row in
            .init(name: row.name, href: "/people/\(row.memberId)", capacity: WebFormat.hours(row.weeklyCapacityHours), cells: row.weeks.map { w in
                let percent = w.availableHours > 0 ? w.hardHours / w.availableHours * 100 : (w.hardHours > 0 ? 999 : 0)
                let band = w.overAllocated || percent >= 107 ? "over" : percent >= 93 ? "full" : "under"
                let label = w.availableHours > 0 ? "\(Int(percent.rounded())) %" : (w.hardHours > 0 ? "off, booked" : "off")
                return .init(
                    band: band, label: label,
                    detail: "\(WebFormat.hours(w.hardHours)) booked\(w.softHours > 0 ? " + \(WebFormat.hours(w.softHours)) tentative" : "") of \(WebFormat.hours(w.availableHours)) available",
                    soft: w.softHours > 0, timeOff: w.availableHours < row.weeklyCapacityHours,
                    href: "/people/\(row.memberId)?week=\(w.week.iso)")
            })
        }
        var previous = start
        for _ in 0..<8 { previous = ISOWeek(containing: previous.monday.adding(days: -7)) }
        let view = WorkloadView(
            shell: Shell(title: "Workload", section: "Workload", identity: identity, principal: principal),
            weeks: weeks.map { .init(label: WebFormat.shortDay($0.monday), iso: $0.iso) }, rows: rows,
            earlier: "/workload?from=\(previous.iso)", later: "/workload?from=\(end.next.iso)")
        return try HTMLPage(html: templates.render("workload", view)).response(from: request, context: context)
    }
}
