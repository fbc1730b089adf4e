import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

/// A client's working calendar as a form: weekly hours per day, holidays and exceptional days, typed as text the way a
/// person reads them ("09:00–13:00, 14:00–17:00"); saved through the same operation as `PUT /v1/clients/{id}/calendar`,
/// which reschedules the client's plans on the worker.
extension WebRoutes {
    struct CalendarFormView: Sendable {
        struct Day: Sendable { var key: String; var label: String; var hours: String; var error: String? }
        var shell: Shell
        var clientName: String
        var clientHref: String
        var action: String
        var timeZone: String
        var days: [Day]
        var holidays: String
        var exceptions: String
        /// The calendar as it was when the form was opened: a save over someone else's change is refused.
        var opened: String
        var errors: [String: String] = [:]
        var conflict = false
    }

    /// The form's text for a calendar.
    struct CalendarText: Sendable {
        var timeZone: String
        var days: [Weekday: String]
        var holidays: String
        var exceptions: String

        init(_ calendar: WorkCalendar) {
            timeZone = calendar.timeZoneID
            days = Dictionary(uniqueKeysWithValues: Weekday.allCases.map { day in
                (day, (calendar.weekly[day] ?? []).map(\.description).joined(separator: ", "))
            })
            holidays = calendar.holidays.sorted().map(\.description).joined(separator: "\n")
            exceptions = calendar.exceptions.sorted { $0.key < $1.key }.map { date, intervals in
                "\(date) " + (intervals.isEmpty ? "off" : intervals.map(\.description).joined(separator: ", "))
            }.joined(separator: "\n")
        }

        init(form: WebForm) {
            timeZone = (form.values["timeZone"] ?? "").trimmingCharacters(in: .whitespaces)
            days = Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, form.values["day_" + $0.rawValue] ?? "") })
            holidays = form.values["holidays"] ?? ""
            exceptions = form.values["exceptions"] ?? ""
        }

        /// One line per part, so two calendars compare by what a person would see.
        var fingerprint: String {
            ([timeZone] + Weekday.allCases.map { days[$0] ?? "" } + [holidays, exceptions]).joined(separator: "|")
        }

        /// "09:00–13:00, 14:00-17:00" → intervals; "" or "off" → none. Both dashes are accepted.
        static func intervals(_ text: String) -> [WorkingInterval]? {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.lowercased() == "off" { return [] }
            var result: [WorkingInterval] = []
            for part in trimmed.split(separator: ",") {
                let ends = part.split(whereSeparator: { $0 == "–" || $0 == "-" || $0 == "—" })
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                guard ends.count == 2, let interval = WorkingInterval(from: Self.padded(ends[0]), to: Self.padded(ends[1])) else { return nil }
                result.append(interval)
            }
            return result
        }

        /// "9:00" → "09:00".
        static func padded(_ clock: String) -> String { clock.count == 4 && clock.dropFirst().first == ":" ? "0" + clock : clock }

        /// The calendar this text describes, or the message for each field that is wrong.
        func calendar() -> (calendar: WorkCalendar?, errors: [String: String]) {
            var errors: [String: String] = [:]
            var weekly: [Weekday: [WorkingInterval]] = [:]
            for day in Weekday.allCases {
                if let intervals = Self.intervals(days[day] ?? "") { weekly[day] = intervals }
                else { errors["day_" + day.rawValue] = "Write the hours like 09:00–13:00, 14:00–17:00, or leave it empty for a day off" }
            }
            var holidays = Set<LocalDate>()
            for line in self.holidays.split(whereSeparator: \.isNewline) {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                guard let date = LocalDate(String(text.prefix(10))) else {
                    errors["holidays"] = "“\(text)” is not a date: write one date per line, like 2026-12-25"
                    break
                }
                holidays.insert(date)
            }
            var exceptions: [LocalDate: [WorkingInterval]] = [:]
            for line in self.exceptions.split(whereSeparator: \.isNewline) {
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                guard let date = LocalDate(String(text.prefix(10))), let intervals = Self.intervals(String(text.dropFirst(10))) else {
                    errors["exceptions"] = "“\(text)” is not a day with hours: write a date and its hours, like 2026-12-24 09:00–12:00, or a date and off"
                    break
                }
                exceptions[date] = intervals
            }
            if !errors.isEmpty { return (nil, errors) }
            // The domain's own checks: the time zone, overlapping hours, a week with no working time.
            for issue in WorkCalendar.validate(timeZoneID: timeZone, weekly: weekly, exceptions: exceptions) {
                let field: String
                if issue.field == "timeZoneID" { field = "timeZone" }
                else if issue.field == "weekly" { field = "week" }
                else if issue.field.hasPrefix("weekly.") {
                    let day = issue.field.dropFirst("weekly.".count).prefix { $0 != "[" }
                    field = "day_" + day
                } else { field = "exceptions" }
                errors[field] = errors[field] ?? Self.sentence(issue.message)
            }
            if !errors.isEmpty { return (nil, errors) }
            do { return (try WorkCalendar(timeZoneID: timeZone, weekly: weekly, holidays: holidays, exceptions: exceptions), [:]) }
            catch { return (nil, ["week": "This is not a calendar Trellis can schedule on"]) }
        }

        static func sentence(_ message: String) -> String { message.prefix(1).uppercased() + message.dropFirst() }
    }

    func calendarFormView(_ text: CalendarText, opened: String, client: ClientRecord, shell: Shell) -> CalendarFormView {
        CalendarFormView(
            shell: shell, clientName: client.name, clientHref: "/clients/\(ClientID(client.id))",
            action: "/clients/\(ClientID(client.id))/calendar", timeZone: text.timeZone,
            days: Weekday.allCases.map { .init(key: "day_" + $0.rawValue, label: $0.rawValue.capitalized, hours: text.days[$0] ?? "") },
            holidays: text.holidays, exceptions: text.exceptions, opened: opened)
    }

    func loadCalendar(_ context: AppRequestContext, principal: Principal) async throws -> (ClientRecord, WorkCalendar) {
        guard let raw = context.parameters.get("clientId"), let id = UUID(uuidString: raw),
              TenantPolicy.canSee(client: ClientID(id), as: principal) else { throw Problem.notFound("client") }
        let logger = database.logger
        return try await database.withTenant(principal.agencyID) { connection in
            let record = try await ClientStore(logger: logger).get(id, on: connection)
            return (record, try await PlanStore(logger: logger).calendar(for: record, on: connection))
        }
    }

    @Sendable func calendarForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writeClients)
        let (record, calendar) = try await loadCalendar(context, principal: principal)
        let text = CalendarText(calendar)
        let view = calendarFormView(text, opened: text.fingerprint, client: record,
                                    shell: Shell(title: "Working calendar · \(record.name)", section: "Clients", identity: identity, principal: principal))
        return try HTMLPage(html: templates.render("calendar-form", view)).response(from: request, context: context)
    }

    @Sendable func calendarSubmit(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writeClients)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let (record, current) = try await loadCalendar(context, principal: principal)
        let shell = Shell(title: "Working calendar · \(record.name)", section: "Clients", identity: identity, principal: principal)
        let submitted = CalendarText(form: form)
        let now = CalendarText(current)
        var view = calendarFormView(submitted, opened: form.values["opened"] ?? "", client: record, shell: shell)
        if view.opened != now.fingerprint {
            // Someone saved the calendar after this form was opened: show theirs, keep nothing silently.
            view = calendarFormView(now, opened: now.fingerprint, client: record, shell: shell)
            view.conflict = true
            return try HTMLPage(html: templates.render("calendar-form", view), status: .conflict).response(from: request, context: context)
        }
        let (parsed, errors) = submitted.calendar()
        guard let calendar = parsed else {
            view.errors = errors
            for index in view.days.indices { view.days[index].error = errors[view.days[index].key] }
            return try HTMLPage(html: templates.render("calendar-form", view), status: .unprocessableContent).response(from: request, context: context)
        }
        try await operations.replaceCalendar(client: ClientID(record.id), calendar, as: principal)
        let notice = "Calendar saved. The plans of \(record.name) are being rescheduled on it."
        return HTMLPage.redirect("/clients/\(ClientID(record.id))", notice: notice, then: "#calendar-h")
    }
}
