import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

extension WebRoutes {
    /// Saves the plan as it now stands under a name: later the page compares the plan with it (ghost bars, slip).
    @Sendable func saveBaseline(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, _) = try await session(context) else { return Self.signInRedirect(request) }
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        guard let raw = context.parameters.get("planId"), let plan = UUID(uuidString: raw) else { throw Problem.notFound("plan") }
        let name = form["name"] ?? "Baseline \(WebFormat.day(WebFormat.utcDate(now())))"
        do {
            let saved = try await operations.saveBaseline(PlanID(plan), name: name, as: principal)
            let notice = "Saved baseline “\(saved.name)”: the Gantt now shows it as ghost bars."
            return HTMLPage.redirect("/plans/\(PlanID(plan))", notice: notice)
        } catch StoreError.duplicate {
            let notice = "A baseline named “\(name)” already exists; choose another name."
            return HTMLPage.redirect("/plans/\(PlanID(plan))", notice: notice)
        }
    }

    struct FeedLinkView: Sendable {
        var shell: Shell
        var planName: String
        var planHref: String
        var url: String
        var webcal: String
    }

    /// A calendar subscription link for the plan (webcal): shown once, since only its hash is kept; making a new one ends
    /// the previous link.
    @Sendable func planFeed(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (principal, identity) = try await session(context) else { return Self.signInRedirect(request) }
        try principal.requireWeb(.writePlans)
        let form = try await WebForm.read(request, context: context)
        try form.requireCSRF(context)
        guard let raw = context.parameters.get("planId"), let uuid = UUID(uuidString: raw) else { throw Problem.notFound("plan") }
        let scheduled = try await operations.read(PlanID(uuid), as: principal)
        let exports = ExportStore(logger: database.logger)
        let secret = try await database.withTenant(principal.agencyID) { try await exports.rotateFeed(.plan(uuid), on: $0) }
        let links = ExportRoutes.feedView(secret, publicBaseURL: publicBaseURL)
        let view = FeedLinkView(
            shell: Shell(title: "Calendar subscription", section: "Clients", identity: identity, principal: principal),
            planName: scheduled.plan.name, planHref: "/plans/\(scheduled.plan.id)", url: links.url, webcal: links.webcal)
        return try HTMLPage(html: templates.render("feed-link", view), status: .created).response(from: request, context: context)
    }
}
