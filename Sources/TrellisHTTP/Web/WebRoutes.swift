import Foundation
import Hummingbird
import TrellisApplication
import TrellisDomain
import TrellisStore

/// The web app: server-rendered pages on the same router, sign-in and operations as the JSON API. Pages read through
/// the same stores and change plans through the same `PlanOperations`. Every page is HTML with a strict CSP
/// (`HTMLPage`); every form carries the session's CSRF token.
struct WebRoutes: Sendable {
    let database: TenantDatabase
    let templates: WebTemplates
    let staticFiles: StaticFiles
    let operations: PlanOperations
    let signIn: SignIn
    let secureCookies: Bool
    /// The plan and Today pages are kept per session (their forms carry its CSRF token) until the agency changes.
    let caches: ReadCaches
    /// Where people reach the server: the start of the links it writes (portal links).
    var publicBaseURL = "http://127.0.0.1:8080"
    /// The web app's clock (for "today", plan health); tests inject one.
    var now: @Sendable () -> Date = { Date() }

    func register(on router: Router<AppRequestContext>) {
        router.get("/", use: home)
        router.get("/static/{file}", use: staticFile)
        router.get("/signin", use: signInPage)
        router.post("/signin", use: signInSubmit)
        router.post("/signout", use: signOut)
        router.get("/today", use: today)
        router.get("/clients", use: clients)
        router.get("/clients/new", use: newClientForm)
        router.post("/clients/new", use: saveClient)
        router.get("/clients/{clientId}", use: client)
        router.get("/clients/{clientId}/edit", use: editClientForm)
        router.post("/clients/{clientId}/edit", use: saveClient)
        router.get("/clients/{clientId}/calendar", use: calendarForm)
        router.post("/clients/{clientId}/calendar", use: calendarSubmit)
        router.get("/workload", use: workload)
        router.get("/templates", use: templatesPage)
        router.get("/people", use: people)
        router.get("/people/{memberId}", use: person)
        router.post("/people/{memberId}/assignments", use: addAssignment)
        router.post("/people/{memberId}/assignments/{assignmentId}/remove", use: removeAssignment)
        router.post("/people/{memberId}/time-off", use: addTimeOff)
        router.post("/people/{memberId}/time-off/{timeOffId}/remove", use: removeTimeOff)
        router.get("/templates/{templateId}", use: templatePage)
        router.post("/templates/{templateId}/plans", use: createPlanFromTemplate)
        router.get("/operations", use: operations)
        router.get("/inbox", use: inbox)
        router.post("/inbox/read-all", use: markAllRead)
        router.post("/inbox/{notificationId}/read", use: markRead)
        router.post("/operations/jobs/{jobId}/retry", use: retryJob)
        router.post("/operations/jobs/{jobId}/cancel", use: cancelJob)
        router.post("/operations/tokens", use: createToken)
        router.post("/operations/tokens/{tokenId}/revoke", use: revokeToken)
        router.get("/portal", use: portal)
        router.post("/portal/plans/{planId}/tasks/{taskId}/done", use: portalTaskDone)
        router.get("/portal/join/{secret}", use: joinPage)
        router.post("/portal/join", use: joinSubmit)
        router.post("/clients/{clientId}/portal-links", use: createPortalLink)
        router.post("/clients/{clientId}/portal-links/{linkId}/revoke", use: revokePortalLink)
        router.get("/plans/{planId}", use: plan)
        router.get("/plans/{planId}/tasks/{taskId}", use: taskForm)
        router.post("/plans/{planId}/tasks/{taskId}", use: taskSubmit)
        router.post("/plans/{planId}/tasks/{taskId}/links", use: addLink)
        router.post("/plans/{planId}/tasks/{taskId}/links/{predecessorId}/remove", use: removeLink)
        router.post("/plans/{planId}/move", use: moveTask)
        router.post("/plans/{planId}/baselines", use: saveBaseline)
        router.post("/plans/{planId}/feed", use: planFeed)
    }

    @Sendable func home(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let principal = context.principal else { return HTMLPage.redirect("/signin") }
        return HTMLPage.redirect(principal.role == .clientViewer ? "/portal" : "/today")
    }

    @Sendable func staticFile(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let name = context.parameters.get("file"), let file = staticFiles.files[name] else { throw Problem.notFound("file") }
        if request.headers[.ifNoneMatch] == file.etag { return Response(status: .notModified) }
        var response = Response(status: .ok, body: .init(byteBuffer: file.data))
        response.headers[.contentType] = file.contentType
        response.headers[.eTag] = file.etag
        response.headers[.cacheControl] = "no-cache"
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        return response
    }

    /// The signed-in person and their agency's name and CSRF token, or nil (the page redirects to sign-in).
    func session(_ context: AppRequestContext) async throws -> (Principal, Shell.Identity)? {
        guard let principal = context.principal, let csrf = context.sessionCSRFToken else { return nil }
        return (principal, try await identity(of: principal, csrf: csrf))
    }

    /// The agency's and the member's names, with the session's CSRF token.
    func identity(of principal: Principal, csrf: String) async throws -> Shell.Identity {
        let database = self.database
        return try await database.withTenantReading(principal.agencyID) { connection in
            let agency = try await CredentialStore(logger: database.logger).currentAgency(on: connection)
            let member = try await PeopleStore(logger: database.logger).member(principal.memberID.rawValue, on: connection)
            return Shell.Identity(agencyName: agency.name, memberName: member.displayName, csrf: csrf)
        }
    }

    static func signInRedirect(_ request: Request) -> Response {
        HTMLPage.redirect("/signin?next=" + (request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/today"))
    }
}
