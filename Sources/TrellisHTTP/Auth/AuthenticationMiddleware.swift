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
    let caches: ReadCaches

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
            let (principal, tokenID): (Principal, UUID)
            let key = CredentialStore.hash(secret)
            if case .token(let kept, let id) = caches.credentials.value(key) {
                (principal, tokenID) = (kept, id)
            } else {
                let credentials = self.credentials
                let named = CredentialStore.agency(ofSecret: secret, prefix: "trl_"), stamp = named.flatMap(caches.credentials.stamp)
                guard let (found, id, validUntil) = try await database.withSingleStatement({ try await credentials.authenticateToken(secret, on: $0) }) else {
                    throw Problem(.unauthenticated, detail: "the token is unknown, revoked or expired")
                }
                (principal, tokenID) = (found, id)
                keep(.token(found, tokenID: id), key: key, agency: found.agencyID, stamp: named == found.agencyID ? stamp : nil, validUntil: validUntil)
            }
            if let wait = limiter.take("token/\(tokenID)") {
                throw Problem.tooManyRequests(retryAfter: wait, detail: "this token sent too many requests; retry in \(wait) s")
            }
            context.principal = principal
            context.tokenID = tokenID
        } else if let secret = request.cookies[Self.sessionCookie]?.value {
            let page = WebPaths.isPage(request.uri.path)
            let (principal, csrf, sessionID): (Principal, String, UUID)
            let key = CredentialStore.hash(secret)
            if case .session(let kept, let token, let id) = caches.credentials.value(key) {
                (principal, csrf, sessionID) = (kept, token, id)
            } else {
                let credentials = self.credentials
                let named = CredentialStore.agency(ofSecret: secret, prefix: "trs_"), stamp = named.flatMap(caches.credentials.stamp)
                guard let (found, token, id, validUntil) = try await database.withSingleStatement({
                    try await credentials.authenticateSession(secret, on: $0)
                }) else {
                    // A web page treats an expired session as signed out (and sends the person to sign in).
                    if page { return try await next(request, context) }
                    throw Problem(.unauthenticated, detail: "the session expired; sign in again")
                }
                (principal, csrf, sessionID) = (found, token, id)
                keep(.session(found, csrfToken: token, sessionID: id), key: key, agency: found.agencyID, stamp: named == found.agencyID ? stamp : nil,
                     validUntil: validUntil)
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

    /// Keeps a credential just checked, read under `stamp` (nil: its agency is not known before the look-up, or not
    /// listened for), for as long as it is valid and at most `ReadCaches.credentialLife`. Using a kept token does not
    /// record a use: its look-up does, at least once per credential life while it is used.
    private func keep(_ credential: CheckedCredential, key: Data, agency: AgencyID, stamp: TenantChanges.Stamp?, validUntil: Date?) {
        guard let stamp else { return }
        var life = ReadCaches.credentialLife
        if let validUntil {
            let left = validUntil.timeIntervalSinceNow
            guard left > 1 else { return }
            life = min(life, .milliseconds(Int64(left * 1000)))
        }
        caches.credentials.keep(credential, for: key, agency: agency, stamp: stamp, ttl: life, cost: 256)
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
        let id = context.id
        response.headers[.init("X-Request-Id")!] = id
        let elapsed = ContinuousClock.now - start
        context.logger.info("request", metadata: [
            // The route pattern, never the path itself: paths carry secrets (`/feeds/{secret}.ics`).
            "method": .string(request.method.rawValue), "route": .string(context.endpointPath ?? "(no route)"),
            "status": .stringConvertible(response.status.code),
            "ms": .string(Self.milliseconds(elapsed)),
            "request_id": .string(id),
        ])
        return response
    }

    /// "12.345": milliseconds with three decimals, in integer arithmetic (a Double's description costs more).
    static func milliseconds(_ elapsed: Duration) -> String {
        let micros = max(0, elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
        let fraction = micros % 1000
        return "\(micros / 1000)." + (fraction < 10 ? "00" : fraction < 100 ? "0" : "") + String(fraction)
    }
}
