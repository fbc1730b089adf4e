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
        var actualStart: String
        var actualFinish: String
        /// What the form showed when it was opened, sent back so a conflict can say what changed meanwhile.
        var was: [Option]
        var errors: [String: String] = [:]
        var conflict: Bool = false
        var conflictChanges: [Change] = []
        var timeZone: String
        /// A refusal that belongs to no one field (a cycle the edit would make).
        var general: String?
        /// The task's dependencies: what it waits on (removable here) and what waits on it.
        var predecessors: [LinkRow] = []
        var successors: [LinkRow] = []
        var linkAction: String = ""
        var linkCandidates: [Option] = []
        var linkKinds: [Option] = []
        var linkLag: String = "0"
        var linkError: String?
        var notice: String?
    }

    struct LinkRow: Sendable {
        var name: String
        var href: String
        var kind: String
        var lag: String
        var hasLag: Bool
        var removeAction: String
    }

    static let dependencyLabels: [(DependencyKind, String)] = [
        (.finishToStart, "Finish → start"), (.startToStart, "Start → start"),
        (.finishToFinish, "Finish → finish"), (.startToFinish, "Start → finish"),
    ]

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
        /// The days work really started and finished (local dates), empty while unknown.
        var actualStart: String
        var actualFinish: String

        static let labels = ["name": "Name", "durationHours": "Duration (working hours)", "percent": "Progress (%)",
                             "constraintKind": "Date constraint", "constraintDate": "Constraint date", "assignee": "Assignee",
                             "clientAction": "Waiting on the client", "actualStart": "Actual start", "actualFinish": "Actual finish"]
        static let keys = ["name", "durationHours", "percent", "constraintKind", "constraintDate", "assignee", "clientAction",
                           "actualStart", "actualFinish"]

        init(_ task: PlannedTask, calendar: WorkCalendar) {
            name = task.name
            let hours = Double(task.durationMinutes) / 60
            durationHours = hours == hours.rounded() ? String(Int(hours)) : String(format: "%.2f", hours)
            percent = String(task.percentComplete)
            constraintKind = task.constraint?.kind.rawValue ?? ""
            constraintDate = task.constraint.map { calendar.localDate(of: $0.date).description } ?? ""
            assignee = task.assigneeID?.description ?? ""
            clientAction = task.clientAction ? "on" : ""
            actualStart = task.actualStart.map { calendar.localDate(of: $0).description } ?? ""
            actualFinish = task.actualFinish.map { calendar.localDate(of: $0).description } ?? ""
        }

        init(form: WebForm, prefix: String = "") {
            name = form.values[prefix + "name"] ?? ""
            durationHours = form.values[prefix + "durationHours"] ?? ""
            percent = form.values[prefix + "percent"] ?? ""
            constraintKind = form.values[prefix + "constraintKind"] ?? ""
            constraintDate = form.values[prefix + "constraintDate"] ?? ""
            assignee = form.values[prefix + "assignee"] ?? ""
            clientAction = form.values[prefix + "clientAction"] == "on" ? "on" : ""
            actualStart = form.values[prefix + "actualStart"] ?? ""
            actualFinish = form.values[prefix + "actualFinish"] ?? ""
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
            if submitted.actualStart != opened.actualStart { merged.actualStart = submitted.actualStart }
            if submitted.actualFinish != opened.actualFinish { merged.actualFinish = submitted.actualFinish }
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
            case "actualStart": actualStart
            case "actualFinish": actualFinish
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
            clientAction: fields.clientAction == "on", actualStart: fields.actualStart, actualFinish: fields.actualFinish,
            was: TaskFields.keys.map { .init(value: "was_" + $0, label: opened[$0], selected: false) },
            timeZone: scheduled.plan.calendar.timeZoneID,
            predecessors: linkRows(scheduled, task: task, predecessors: true),
            successors: linkRows(scheduled, task: task, predecessors: false),
            linkAction: "/plans/\(scheduled.plan.id)/tasks/\(task.id)/links",
            linkCandidates: scheduled.plan.tasks.filter { other in
                other.id != task.id && !scheduled.plan.links.contains { $0.predecessor == other.id && $0.successor == task.id }
            }.map { .init(value: $0.id.description, label: $0.name, selected: false) },
            linkKinds: Self.dependencyLabels.map { .init(value: $0.0.rawValue, label: $0.1, selected: $0.0 == .finishToStart) })
    }

    func linkRows(_ scheduled: ScheduledPlan, task: PlannedTask, predecessors: Bool) -> [LinkRow] {
        let plan = scheduled.plan
        return plan.links.filter { predecessors ? $0.successor == task.id : $0.predecessor == task.id }.compactMap { link in
            let otherID = predecessors ? link.predecessor : link.successor
            guard let other = plan.task(otherID) else { return nil }
            let lag = link.lagMinutes == 0 ? "—"
                : (link.lagMinutes < 0 ? "lead " : "") + WebFormat.duration(minutes: abs(link.lagMinutes), minutesPerDay: plan.calendar.minutesPerDay)
            return LinkRow(
                name: other.name, href: "/plans/\(plan.id)/tasks/\(other.id)",
                kind: Self.dependencyLabels.first { $0.0 == link.kind }?.1 ?? link.kind.rawValue, lag: lag, hasLag: link.lagMinutes != 0,
                removeAction: "/plans/\(plan.id)/tasks/\(link.successor)/links/\(link.predecessor)/remove")
        }
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
        var view = taskFormView(scheduled, task: task, fields: fields, opened: fields, members: members,
                                shell: Shell(title: "Edit \(task.name)", section: "Clients", identity: identity, principal: principal))
        view.notice = request.uri.queryParameters.get("notice").map { String($0) }
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
        // Actual dates: work began at the day's first working minute and ended at its last.
        if submitted.actualStart != opened.actualStart {
            if submitted.actualStart.isEmpty { patch.actualStart = .set(nil) }
            else if let day = LocalDate(submitted.actualStart), let instant = calendar.firstWorkingMinute(on: day) { patch.actualStart = .set(instant) }
            else { view.errors["actualStart"] = "Enter a date, or leave it empty while the task has not started" }
        }
        if submitted.actualFinish != opened.actualFinish {
            if submitted.actualFinish.isEmpty { patch.actualFinish = .set(nil) }
            else if let day = LocalDate(submitted.actualFinish), let instant = calendar.endOfWorkingDay(day) { patch.actualFinish = .set(instant) }
            else { view.errors["actualFinish"] = "Enter a date, or leave it empty while the task is not finished" }
        }
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
            return HTMLPage.redirect("/plans/\(scheduled.plan.id)", notice: notice, then: "&moved=\(movedIDs)#task-\(task.id)")
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

    /// Adds a predecessor through the same operation as `POST /v1/plans/{planId}/dependencies`; a cycle or a bad lag
    /// comes back on the form beside the dependency fields.
    @Sendable func addLink(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let (scheduled, task, members) = try await loadTask(context, principal: principal)
        let fields = TaskFields(task, calendar: scheduled.plan.calendar)
        var view = taskFormView(scheduled, task: task, fields: fields, opened: fields, members: members,
                                shell: Shell(title: "Edit \(task.name)", section: "Clients", identity: identity, principal: principal))
        let lagText = (form.values["lagDays"] ?? "").trimmingCharacters(in: .whitespaces)
        view.linkLag = lagText
        guard let raw = form.values["predecessor"], let uuid = UUID(uuidString: raw) else {
            view.linkError = "Choose the task this one waits on"
            return try HTMLPage(html: templates.render("task", view), status: .unprocessableContent).response(from: request, context: context)
        }
        guard let lag = lagText.isEmpty ? 0 : Double(lagText.replacingOccurrences(of: ",", with: ".")), lag.isFinite else {
            view.linkError = "Enter the lag in working days, like 2 or -1 for a lead"
            return try HTMLPage(html: templates.render("task", view), status: .unprocessableContent).response(from: request, context: context)
        }
        let kind = DependencyKind(rawValue: form.values["kind"] ?? "") ?? .finishToStart
        let link = NewLink(predecessor: TaskID(uuid), successor: task.id, kind: kind, lag: .days(lag))
        do {
            let after = try await operations.edit(scheduled.plan.id, expectedVersion: nil, .addLink(link), as: principal)
            let name = after.plan.task(TaskID(uuid))?.name ?? "the task"
            let notice = "“\(task.name)” now waits on “\(name)”."
            return HTMLPage.redirect("/plans/\(scheduled.plan.id)/tasks/\(task.id)", notice: notice, then: "#dependencies")
        } catch PlanChangeError.invalid(let errors) {
            view.linkError = errors.map { $0.field == "lagDays" ? "Lag \($0.message)" : $0.message }.joined(separator: "; ")
        } catch PlanChangeError.duplicateLink {
            view.linkError = "These two tasks are already linked"
        } catch PlanChangeError.unknownReference {
            view.linkError = "That task is no longer in the plan"
        } catch let failure as PlanNotSchedulable {
            view.linkError = failure.fieldErrors.map(\.message).joined(separator: "; ")
        }
        return try HTMLPage(html: templates.render("task", view), status: .unprocessableContent).response(from: request, context: context)
    }

    @Sendable func removeLink(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        let (scheduled, task, _) = try await loadTask(context, principal: principal)
        guard let raw = context.parameters.get("predecessorId"), let uuid = UUID(uuidString: raw) else { throw Problem.notFound("dependency") }
        do {
            _ = try await operations.edit(scheduled.plan.id, expectedVersion: nil, .removeLink(predecessor: TaskID(uuid), successor: task.id), as: principal)
        } catch PlanChangeError.unknownLink {
            // Already gone (a second click, or someone else removed it): the page shows what is there now.
        }
        let notice = "Dependency removed."
        return HTMLPage.redirect("/plans/\(scheduled.plan.id)/tasks/\(task.id)", notice: notice, then: "#dependencies")
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
