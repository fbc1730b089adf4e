import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

extension WebRoutes {
    struct TaskFormView: Sendable {
        struct Option: Sendable { var value: String; var label: String; var selected: Bool }
        struct Change: Sendable { var field: String; var opened: String; var now: String; var yours: String }

        var shell: Shell
        var planName: String
        var planHref: String
        var action: String
        var version: Int
        var name: String
        var durationHours: String
        var percent: String
        var constraintKinds: [Option]
        var constraintDate: String
        var assignees: [Option]
        var clientAction: Bool
        /// What the form showed when it was opened, sent back so a conflict can say what changed meanwhile.
        var was: [Option]
        var errors: [String: String] = [:]
        var conflict: Bool = false
        var conflictChanges: [Change] = []
        var timeZone: String
        /// A refusal that belongs to no one field (a cycle the edit would make).
        var general: String?
    }

    /// The fields a person edits, as text (what the form holds, and what a conflict compares).
    struct TaskFields: Sendable, Equatable {
        var name: String
        var durationHours: String
        var percent: String
        var constraintKind: String
        var constraintDate: String
        var assignee: String
        /// "on" when the task waits on the client.
        var clientAction: String

        static let labels = ["name": "Name", "durationHours": "Duration (working hours)", "percent": "Progress (%)",
                             "constraintKind": "Date constraint", "constraintDate": "Constraint date", "assignee": "Assignee",
                             "clientAction": "Waiting on the client"]
        static let keys = ["name", "durationHours", "percent", "constraintKind", "constraintDate", "assignee", "clientAction"]

        init(_ task: PlannedTask, calendar: WorkCalendar) {
            name = task.name
            let hours = Double(task.durationMinutes) / 60
            durationHours = hours == hours.rounded() ? String(Int(hours)) : String(format: "%.2f", hours)
            percent = String(task.percentComplete)
            constraintKind = task.constraint?.kind.rawValue ?? ""
            constraintDate = task.constraint.map { calendar.localDate(of: $0.date).description } ?? ""
            assignee = task.assigneeID?.description ?? ""
            clientAction = task.clientAction ? "on" : ""
        }

        init(form: WebForm, prefix: String = "") {
            name = form.values[prefix + "name"] ?? ""
            durationHours = form.values[prefix + "durationHours"] ?? ""
            percent = form.values[prefix + "percent"] ?? ""
            constraintKind = form.values[prefix + "constraintKind"] ?? ""
            constraintDate = form.values[prefix + "constraintDate"] ?? ""
            assignee = form.values[prefix + "assignee"] ?? ""
            clientAction = form.values[prefix + "clientAction"] == "on" ? "on" : ""
        }

        /// These fields with every field the person changed (from `opened` to `submitted`) taken from `submitted`: what
        /// re-applying an edit on top of someone else's writes.
        func applying(_ submitted: TaskFields, since opened: TaskFields) -> TaskFields {
            var merged = self
            if submitted.name != opened.name { merged.name = submitted.name }
            if submitted.durationHours != opened.durationHours { merged.durationHours = submitted.durationHours }
            if submitted.percent != opened.percent { merged.percent = submitted.percent }
            if submitted.constraintKind != opened.constraintKind { merged.constraintKind = submitted.constraintKind }
            if submitted.constraintDate != opened.constraintDate { merged.constraintDate = submitted.constraintDate }
            if submitted.assignee != opened.assignee { merged.assignee = submitted.assignee }
            if submitted.clientAction != opened.clientAction { merged.clientAction = submitted.clientAction }
            return merged
        }

        subscript(_ key: String) -> String {
            switch key {
            case "name": name
            case "durationHours": durationHours
            case "percent": percent
            case "constraintKind": constraintKind
            case "constraintDate": constraintDate
            case "clientAction": clientAction
            default: assignee
            }
        }
    }

    static let constraintLabels: [(String, String)] = [
        ("", "None — as soon as possible"), ("startNoEarlierThan", "Start no earlier than"), ("startNoLaterThan", "Start no later than"),
        ("finishNoEarlierThan", "Finish no earlier than"), ("finishNoLaterThan", "Finish no later than"),
        ("mustStartOn", "Must start on"), ("mustFinishOn", "Must finish on"),
    ]

    func taskFormView(
        _ scheduled: ScheduledPlan, task: PlannedTask, fields: TaskFields, opened: TaskFields, members: [MemberRecord], shell: Shell
    ) -> TaskFormView {
        TaskFormView(
            shell: shell, planName: scheduled.plan.name, planHref: "/plans/\(scheduled.plan.id)",
            action: "/plans/\(scheduled.plan.id)/tasks/\(task.id)", version: scheduled.record.version, name: fields.name,
            durationHours: fields.durationHours, percent: fields.percent,
            constraintKinds: Self.constraintLabels.map { .init(value: $0.0, label: $0.1, selected: $0.0 == fields.constraintKind) },
            constraintDate: fields.constraintDate,
            assignees: [TaskFormView.Option(value: "", label: "Unassigned", selected: fields.assignee.isEmpty)]
                + members.filter { $0.role != .clientViewer }.map {
                    .init(value: MemberID($0.id).description, label: $0.displayName, selected: MemberID($0.id).description == fields.assignee)
                },
            clientAction: fields.clientAction == "on",
            was: TaskFields.keys.map { .init(value: "was_" + $0, label: opened[$0], selected: false) },
            timeZone: scheduled.plan.calendar.timeZoneID)
    }

    func loadTask(_ context: AppRequestContext, principal: Principal) async throws -> (ScheduledPlan, PlannedTask, [MemberRecord]) {
        guard let rawPlan = context.parameters.get("planId"), let planUUID = UUID(uuidString: rawPlan),
              let rawTask = context.parameters.get("taskId"), let taskUUID = UUID(uuidString: rawTask) else { throw Problem.notFound("task") }
        let scheduled = try await operations.read(PlanID(planUUID), as: principal)
        guard let task = scheduled.plan.task(TaskID(taskUUID)) else { throw Problem.notFound("task") }
        let people = PeopleStore(logger: database.logger)
        let members = try await database.withTenant(principal.agencyID) { try await people.listMembers(role: nil, on: $0) }
        return (scheduled, task, members)
    }

    /// The edit form of one task (works without JavaScript).
    @Sendable func taskForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writePlans)
        let (scheduled, task, members) = try await loadTask(context, principal: principal)
        let fields = TaskFields(task, calendar: scheduled.plan.calendar)
        let view = taskFormView(scheduled, task: task, fields: fields, opened: fields, members: members,
                                shell: Shell(title: "Edit \(task.name)", section: "Clients", identity: identity, principal: principal))
        return try HTMLPage(html: templates.render("task", view)).response(from: request, context: context)
    }

    /// Applies the form through the same operation as `PATCH /v1/plans/{planId}/tasks/{taskId}`; then the plan page shows
    /// what moved. A plan changed meanwhile is never overwritten: the form comes back with what changed.
    @Sendable func taskSubmit(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let (scheduled, task, members) = try await loadTask(context, principal: principal)
        let calendar = scheduled.plan.calendar
        let submitted = TaskFields(form: form)
        let opened = TaskFields(form: form, prefix: "was_")
        let shell = Shell(title: "Edit \(task.name)", section: "Clients", identity: identity, principal: principal)
        var view = taskFormView(scheduled, task: task, fields: submitted, opened: opened, members: members, shell: shell)

        // The form's text → a domain patch of what differs from what the form showed when opened.
        var patch = TaskPatch()
        if submitted.name != opened.name { patch.name = submitted.name }
        if submitted.durationHours != opened.durationHours {
            if let hours = Double(submitted.durationHours.replacingOccurrences(of: ",", with: ".")) { patch.duration = .hours(hours) }
            else { view.errors["durationHours"] = "Enter the duration in working hours, like 5 or 2.5" }
        }
        if submitted.percent != opened.percent {
            if let percent = Int(submitted.percent) { patch.percentComplete = percent } else { view.errors["percentComplete"] = "Enter a whole number from 0 to 100" }
        }
        if submitted.constraintKind != opened.constraintKind || submitted.constraintDate != opened.constraintDate {
            if submitted.constraintKind.isEmpty {
                patch.constraint = .set(nil)
            } else if let kind = ConstraintKind(rawValue: submitted.constraintKind), let day = LocalDate(submitted.constraintDate) {
                let instant = kind.isStartConstraint ? calendar.firstWorkingMinute(on: day) : calendar.endOfWorkingDay(day)
                if let instant { patch.constraint = .set(TaskConstraint(kind: kind, date: instant)) }
                else { view.errors["constraint"] = "The calendar has no working time on or after that date" }
            } else {
                view.errors["constraint"] = "Choose a constraint and a date"
            }
        }
        if submitted.assignee != opened.assignee {
            if submitted.assignee.isEmpty { patch.assigneeID = .set(nil) }
            else if let uuid = UUID(uuidString: submitted.assignee) { patch.assigneeID = .set(MemberID(uuid)) }
            else { view.errors["assigneeId"] = "Choose a person" }
        }
        if submitted.clientAction != opened.clientAction { patch.clientAction = submitted.clientAction == "on" }
        guard view.errors.isEmpty else {
            return try HTMLPage(html: templates.render("task", view), status: .unprocessableContent).response(from: request, context: context)
        }
        let expected = Int(form.values["version"] ?? "")
        // "Apply my change to the current version" re-posts with the version the conflict showed.
        do {
            let before = scheduled.timeline
            let after = try await operations.edit(scheduled.plan.id, expectedVersion: expected, .updateTask(task.id, patch), as: principal)
            let old = Dictionary(before.tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let moved = after.timeline.tasks.filter { s in
                s.id != task.id.description && (old[s.id].map { $0.earlyStart != s.earlyStart || $0.earlyFinish != s.earlyFinish } ?? false)
            }
            var notice = "Saved “\(after.plan.task(task.id)?.name ?? task.name)”."
            if !moved.isEmpty { notice += " \(moved.count) other task\(moved.count == 1 ? "" : "s") moved." }
            if after.timeline.finish != before.finish {
                let later = after.timeline.finish > before.finish
                let shift = later ? calendar.workingMinutes(from: before.finish, to: after.timeline.finish)
                    : calendar.workingMinutes(from: after.timeline.finish, to: before.finish)
                notice += " The plan now finishes \(WebFormat.duration(minutes: shift, minutesPerDay: calendar.minutesPerDay)) \(later ? "later" : "earlier")."
            }
            let movedIDs = ([task.id.description] + moved.prefix(100).map(\.id)).joined(separator: ",")
            return HTMLPage.redirect("/plans/\(scheduled.plan.id)?notice=\(notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")&moved=\(movedIDs)#task-\(task.id)")
        } catch StoreError.versionConflict {
            // Someone else saved first: show their change beside yours; saving again applies yours on top of theirs.
            let current = TaskFields(task, calendar: calendar)
            // The form comes back with their values, and yours only where you changed something.
            view = taskFormView(scheduled, task: task, fields: current.applying(submitted, since: opened), opened: current, members: members, shell: shell)
            view.conflict = true
            view.conflictChanges = TaskFields.keys.compactMap { key in
                guard opened[key] != current[key] || submitted[key] != opened[key] else { return nil }
                return .init(field: TaskFields.labels[key] ?? key, opened: Self.describe(key, opened[key], members),
                             now: Self.describe(key, current[key], members), yours: Self.describe(key, submitted[key], members))
            }
            return try HTMLPage(html: templates.render("task", view), status: .conflict).response(from: request, context: context)
        } catch PlanChangeError.invalid(let errors) {
            for error in errors { view.errors[error.field] = error.message }
            return try HTMLPage(html: templates.render("task", view), status: .unprocessableContent).response(from: request, context: context)
        } catch let failure as PlanNotSchedulable {
            view.general = failure.fieldErrors.map(\.message).joined(separator: "; ")
            return try HTMLPage(html: templates.render("task", view), status: .unprocessableContent).response(from: request, context: context)
        }
    }

    static func describe(_ key: String, _ value: String, _ members: [MemberRecord]) -> String {
        if value.isEmpty { return "—" }
        if key == "assignee" { return members.first { MemberID($0.id).description == value }?.displayName ?? value }
        if key == "constraintKind" { return constraintLabels.first { $0.0 == value }?.1 ?? value }
        if key == "clientAction" { return value == "on" ? "yes" : "—" }
        return value
    }
}

extension Principal {
    /// A page the role may not use: 403, as the API answers.
    func requireWeb(_ action: Action) throws {
        if !TenantPolicy.allows(role, action) { throw Problem(.forbidden, detail: "your role may not do this") }
    }
}

extension ConstraintKind {
    var isStartConstraint: Bool {
        switch self {
        case .startNoEarlierThan, .startNoLaterThan, .mustStartOn: true
        case .finishNoEarlierThan, .finishNoLaterThan, .mustFinishOn: false
        }
    }
}
