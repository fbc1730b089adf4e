import Foundation
import Hummingbird
import Logging
import TrellisDomain
import TrellisStore

/// Resolves the principal from `Authorization: Bearer trl_…` or the `trellis_session` cookie.
/// Routes decide themselves whether a principal is needed (`context.require`), so public routes
/// (health, the contract, sign-in) pass through untouched.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let database: TenantDatabase
    let credentials: CredentialStore
    /// Requests per credential (token or session).
    let limiter: RateLimiter

    static let sessionCookie = "trellis_session"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        // /metrics has a bearer token of its own (the scraper's), checked by its route.
        if request.uri.path == "/metrics" { return try await next(request, context) }
        if let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("bearer ") else {
                throw Problem(.unauthenticated, detail: "use Authorization: Bearer <token>")
            }
            let secret = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            let credentials = self.credentials
            guard let (principal, tokenID) = try await database.withSingleStatement({ try await credentials.authenticateToken(secret, on: $0) }) else {
                throw Problem(.unauthenticated, detail: "the token is unknown, revoked or expired")
            }
            if let wait = limiter.take("token/\(tokenID)") {
                throw Problem.tooManyRequests(retryAfter: wait, detail: "this token sent too many requests; retry in \(wait) s")
            }
            context.principal = principal
            context.tokenID = tokenID
        } else if let secret = request.cookies[Self.sessionCookie]?.value {
            let credentials = self.credentials
            let page = WebPaths.isPage(request.uri.path)
            guard let (principal, csrf, sessionID) = try await database.withSingleStatement({ try await credentials.authenticateSession(secret, on: $0) }) else {
                // A web page treats an expired session as signed out (and sends the person to sign in).
                if page { return try await next(request, context) }
                throw Problem(.unauthenticated, detail: "the session expired; sign in again")
            }
            // The JSON API asks scripts for the header; the web app's forms carry the token as a field, checked by each page.
            if !page && ![.get, .head, .options].contains(request.method) && request.headers[.init("X-CSRF-Token")!] != csrf {
                throw Problem(.forbidden, detail: "a signed-in form must send its X-CSRF-Token")
            }
            if let wait = limiter.take("session/\(sessionID)") {
                throw Problem.tooManyRequests(retryAfter: wait, detail: "this session sent too many requests; retry in \(wait) s")
            }
            context.principal = principal
            context.sessionCSRFToken = csrf
            context.sessionID = sessionID
        }
        if let principal = context.principal {
            context.logger[metadataKey: "agency"] = "\(principal.agencyID)"
            context.logger[metadataKey: "member"] = "\(principal.memberID)"
        }
        return try await next(request, context)
    }
}

/// Logs each request once, as JSON with its id, and answers every error as problem+json.
struct RequestLogAndProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let problem = Problem.from(error, logger: context.logger)
            response = WebPaths.isPage(request.uri.path)
                ? try HTMLPage(html: WebErrorPage.html(problem), status: problem.status).response(from: request, context: context)
                : try problem.response(from: request, context: context)
        }
        response.headers[.init("X-Request-Id")!] = context.id
        let elapsed = ContinuousClock.now - start
        context.logger.info("request", metadata: [
            // The route pattern, never the path itself: paths carry secrets (`/feeds/{secret}.ics`).
            "method": "\(request.method.rawValue)", "route": "\(context.endpointPath ?? "(no route)")", "status": "\(response.status.code)",
            "ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
            "request_id": "\(context.id)",
        ])
        return response
    }
}
