import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

extension WebRoutes {
    /// A bar dropped on the Gantt (plan.js): the task starts no earlier than the first working minute of the day it was
    /// dropped on — the same change as choosing that constraint in the edit form, through the same operation.
    @Sendable func moveTask(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        guard let rawPlan = context.parameters.get("planId"), let planUUID = UUID(uuidString: rawPlan),
              let rawTask = form["task"], let taskUUID = UUID(uuidString: rawTask) else { throw Problem.notFound("task") }
        guard let day = form["startsOn"].flatMap({ LocalDate($0) }) else {
            throw Problem.validation([FieldError("startsOn", "must be a date as YYYY-MM-DD")])
        }
        let plan = PlanID(planUUID), task = TaskID(taskUUID)
        let before = try await operations.read(plan, as: principal)
        guard let start = before.plan.calendar.firstWorkingMinute(on: day) else {
            throw Problem.validation([FieldError("startsOn", "the calendar has no working time on or after this date")])
        }
        var patch = TaskPatch()
        patch.constraint = .set(TaskConstraint(kind: .startNoEarlierThan, date: start))
        let after = try await operations.edit(plan, expectedVersion: Int(form.values["version"] ?? ""), .updateTask(task, patch), as: principal)
        let old = Dictionary(before.timeline.tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let moved = after.timeline.tasks.filter { s in old[s.id].map { $0.earlyStart != s.earlyStart || $0.earlyFinish != s.earlyFinish } ?? false }
        let name = after.plan.task(task)?.name ?? "The task"
        var notice = "“\(name)” now starts no earlier than \(WebFormat.day(day))."
        if moved.count > 1 { notice += " \(moved.count - 1) other task\(moved.count == 2 ? "" : "s") moved." }
        let ids = moved.prefix(100).map(\.id).joined(separator: ",")
        return HTMLPage.redirect("/plans/\(plan)", notice: notice, then: "&moved=\(ids)#task-\(task)")
    }
}
