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

    static let sessionCookie = "trellis_session"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let authorization = request.headers[.authorization] {
            guard authorization.lowercased().hasPrefix("bearer ") else {
                throw Problem(.unauthenticated, detail: "use Authorization: Bearer <token>")
            }
            let secret = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            let credentials = self.credentials
            guard let principal = try await database.withSystem({ try await credentials.authenticateToken(secret, on: $0) }) else {
                throw Problem(.unauthenticated, detail: "the token is unknown or revoked")
            }
            context.principal = principal
        } else if let secret = request.cookies[Self.sessionCookie]?.value {
            let credentials = self.credentials
            guard let (principal, csrf) = try await database.withSystem({ try await credentials.authenticateSession(secret, on: $0) }) else {
                throw Problem(.unauthenticated, detail: "the session expired; sign in again")
            }
            if ![.get, .head, .options].contains(request.method) && request.headers[.init("X-CSRF-Token")!] != csrf {
                throw Problem(.forbidden, detail: "a signed-in form must send its X-CSRF-Token")
            }
            context.principal = principal
            context.sessionCSRFToken = csrf
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
            response = try problem.response(from: request, context: context)
        }
        response.headers[.init("X-Request-Id")!] = context.id
        let elapsed = ContinuousClock.now - start
        context.logger.info("request", metadata: [
            "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
            "ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
            "request_id": "\(context.id)",
        ])
        return response
    }
}
