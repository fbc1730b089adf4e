import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

extension WebRoutes {
    struct SignInView: Sendable {
        var title = "Sign in"
        var agency: String
        var email: String
        var next: String
        var error: String?
        var errors: [String: String] = [:]
    }

    /// Only paths of this app: never an absolute URL (an open redirect).
    static func safeNext(_ raw: String?) -> String {
        guard let raw, raw.hasPrefix("/"), !raw.hasPrefix("//"), !raw.contains("\\") else { return "/today" }
        return raw
    }

    @Sendable func signInPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        if context.principal != nil { return HTMLPage.redirect("/today") }
        let view = SignInView(agency: request.uri.queryParameters.get("agency") ?? "", email: "", next: Self.safeNext(request.uri.queryParameters.get("next")))
        return try HTMLPage(html: templates.render("signin", view)).response(from: request, context: context)
    }

    @Sendable func signInSubmit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await WebForm.read(request, context: context)
        var view = SignInView(agency: form["agency"] ?? "", email: form["email"] ?? "", next: Self.safeNext(form["next"]))
        if form["agency"] == nil { view.errors["agency"] = "Enter your agency's workspace name" }
        if form["email"] == nil { view.errors["email"] = "Enter your email address" }
        if form.values["password"]?.isEmpty ?? true { view.errors["password"] = "Enter your password" }
        if view.errors.isEmpty, let agency = form["agency"], let email = form["email"], let password = form.values["password"] {
            do {
                let session = try await signIn.attempt(agency: agency, email: email, password: password, from: context.remoteAddress)
                var response = HTMLPage.redirect(view.next)
                response.setCookie(Cookie(
                    name: AuthenticationMiddleware.sessionCookie, value: session.secret, expires: session.expiresAt,
                    path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax))
                return response
            } catch let problem as Problem where problem.statusCode == 401 || problem.statusCode == 429 {
                view.error = problem.statusCode == 401 ? "That workspace, email and password do not match an account." : (problem.detail ?? "Too many attempts; try again in a minute.")
            }
        }
        return try HTMLPage(html: templates.render("signin", view), status: view.error == nil ? .unprocessableContent : .unauthorized)
            .response(from: request, context: context)
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        if let principal = context.principal {
            let form = try await WebForm.read(request, context: context)
            try form.requireCSRF(context)
            if let secret = request.cookies[AuthenticationMiddleware.sessionCookie]?.value {
                let credentials = CredentialStore(logger: database.logger)
                try await database.withTenant(principal.agencyID) { try await credentials.deleteSession(secret: secret, on: $0) }
            }
        }
        var response = HTMLPage.redirect("/signin")
        response.setCookie(Cookie(name: AuthenticationMiddleware.sessionCookie, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true))
        return response
    }
}
