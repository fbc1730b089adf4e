import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

/// Sign-in, the current principal, and API tokens.
struct AccountRoutes {
    let database: TenantDatabase
    let credentials: CredentialStore
    let people: PeopleStore
    let hasher: PasswordHasher
    let limiters: Limiters
    let secureCookies: Bool

    func register(on router: Router<AppRequestContext>) {
        router.post("/v1/auth/login", use: login)
        router.post("/v1/auth/logout", use: logout)
        router.get("/v1/me", use: me)
        router.get("/v1/tokens", use: listTokens)
        router.post("/v1/tokens", use: createToken)
        router.post("/v1/tokens/{tokenId}/revoke", use: revokeToken)
    }

    struct Me: Codable, Sendable {
        var agency: AgencyBody
        var member: MemberBody
        var csrfToken: String?
    }

    /// Email and password (bcrypt) → an HttpOnly session cookie, plus the CSRF token that forms echo.
    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["agency", "email", "password"])
        let agency = reader.string("agency", required: true, maxLength: 63)
        let email = reader.string("email", required: true, maxLength: 254)
        let password = reader.string("password", required: true, maxLength: 200)
        try reader.check()
        guard let agency, let email, let password else { throw Problem(.malformedRequest) }
        let session = try await SignIn(database: database, credentials: credentials, hasher: hasher, limiters: limiters)
            .attempt(agency: agency, email: email, password: password, from: context.remoteAddress)
        var response = try JSONBody(["csrfToken": session.csrfToken, "expiresAt": ISO8601DateFormatter().string(from: session.expiresAt)])
            .response(from: request, context: context)
        response.setCookie(Cookie(
            name: AuthenticationMiddleware.sessionCookie, value: session.secret, expires: session.expiresAt,
            path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.authenticated()
        if let secret = request.cookies[AuthenticationMiddleware.sessionCookie]?.value {
            let credentials = self.credentials
            try await database.withTenant(principal.agencyID) { try await credentials.deleteSession(secret: secret, on: $0) }
        }
        var response = Response(status: .noContent)
        response.setCookie(Cookie(name: AuthenticationMiddleware.sessionCookie, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true))
        return response
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> JSONBody<Me> {
        let principal = try context.authenticated()
        let credentials = self.credentials, people = self.people
        let (agency, member) = try await database.withTenant(principal.agencyID) { connection in
            (try await credentials.currentAgency(on: connection), try await people.member(principal.memberID.rawValue, on: connection))
        }
        return JSONBody(Me(agency: AgencyBody(agency), member: MemberBody(member), csrfToken: context.sessionCSRFToken))
    }

    struct CreatedToken: Codable, Sendable {
        var token: TokenBody
        /// Shown this once; only its hash is stored.
        var secret: String
    }

    @Sendable func listTokens(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<TokenBody>> {
        let principal = try context.require(.manageTokens)
        let window = try ListWindow(request)
        let credentials = self.credentials
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { try await credentials.listTokens(on: $0) }).map(TokenBody.init))
    }

    @Sendable func createToken(_ request: Request, context: AppRequestContext) async throws -> JSONBody<CreatedToken> {
        let principal = try context.require(.manageTokens)
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["name", "memberId", "expiresAt"])
        let name = reader.string("name", required: true, maxLength: 100)
        let member = reader.uuid("memberId")
        let expiresAt = reader.instant("expiresAt")
        if let name, name.trimmingCharacters(in: .whitespaces).isEmpty { reader.errors.add("name", "must not be empty") }
        if let expiresAt, expiresAt <= Date() { reader.errors.add("expiresAt", "must be in the future") }
        if let expiresAt, expiresAt > Date().addingTimeInterval(3 * 366 * 86_400) { reader.errors.add("expiresAt", "must be within three years") }
        try reader.check()
        guard let name else { throw Problem(.malformedRequest) }
        // A token acts as its holder: minting one for someone else is taking their powers, so only owners may.
        let holder = member ?? principal.memberID.rawValue
        if holder != principal.memberID.rawValue && principal.role != .owner {
            throw Problem(.forbidden, detail: "only an owner may create a token for someone else; create one for yourself")
        }
        let credentials = self.credentials
        let (record, secret) = try await database.withTenant(principal.agencyID) {
            try await credentials.createToken(member: holder, name: name, expiresAt: expiresAt, on: $0)
        }
        return JSONBody(CreatedToken(token: TokenBody(record), secret: secret), status: .created)
    }

    @Sendable func revokeToken(_ request: Request, context: AppRequestContext) async throws -> JSONBody<TokenBody> {
        let principal = try context.require(.manageTokens)
        let id = try context.uuidParameter("tokenId")
        let credentials = self.credentials
        return JSONBody(try await database.withTenant(principal.agencyID) { connection in
            if try await credentials.tokenHolderRole(id, on: connection) == .owner && principal.role != .owner {
                throw Problem(.forbidden, detail: "only an owner may act on an owner's credentials")
            }
            return TokenBody(try await credentials.revokeToken(id, on: connection))
        })
    }
}
