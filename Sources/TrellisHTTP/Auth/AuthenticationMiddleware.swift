import Foundation
import Hummingbird
import Logging
import PostgresNIO
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
            let credentials = self.credentials
            // A session's secret sent as a bearer token finds the session kept under its hash: refused like any non-token.
            guard case .token(let principal, let tokenID)? = try await checked(secret, prefix: "trl_", lookUp: { connection in
                try await credentials.authenticateToken(secret, on: connection).map { (.token($0.0, tokenID: $0.tokenID), $0.validUntil) }
            }) else {
                throw Problem(.unauthenticated, detail: "the token is unknown, revoked or expired")
            }
            if let wait = limiter.take("token/\(tokenID)") {
                throw Problem.tooManyRequests(retryAfter: wait, detail: "this token sent too many requests; retry in \(wait) s")
            }
            context.principal = principal
            context.tokenID = tokenID
        } else if let secret = request.cookies[Self.sessionCookie]?.value {
            let page = WebPaths.isPage(request.uri.path)
            let credentials = self.credentials
            guard case .session(let principal, let csrf, let sessionID)? = try await checked(secret, prefix: "trs_", lookUp: { connection in
                try await credentials.authenticateSession(secret, on: connection).map {
                    (.session($0.0, csrfToken: $0.csrfToken, sessionID: $0.sessionID), $0.validUntil)
                }
            }) else {
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

    /// The credential `secret` stands for: kept from an earlier request, or looked up and kept — read under its
    /// agency's stamp (known before the look-up: new secrets carry their agency), for as long as it is valid and at
    /// most `ReadCaches.credentialLife`. Using a kept token does not record a use: its look-up does, at least once
    /// per credential life while it is used.
    private func checked(
        _ secret: String, prefix: String,
        lookUp: @escaping @Sendable (PostgresConnection) async throws -> (CheckedCredential, validUntil: Date?)?
    ) async throws -> CheckedCredential? {
        let key = CredentialStore.hash(secret)
        if let kept = caches.credentials.value(key) { return kept }
        let named = CredentialStore.agency(ofSecret: secret, prefix: prefix)
        let stamp = named.flatMap(caches.credentials.stamp)
        guard let (found, validUntil) = try await database.withSingleStatement(lookUp) else { return nil }
        let agency = found.principal.agencyID
        guard let stamp, named == agency else { return found }
        var life = ReadCaches.credentialLife
        if let validUntil {
            let left = validUntil.timeIntervalSinceNow
            guard left > 1 else { return found }
            life = min(life, .milliseconds(Int64(left * 1000)))
        }
        caches.credentials.keep(found, for: key, agency: agency, stamp: stamp, ttl: life, cost: 256)
        return found
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
