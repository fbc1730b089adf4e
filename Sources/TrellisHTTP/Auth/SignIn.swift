import Foundation
import Hummingbird
import TrellisDomain
import TrellisStore

/// Email and password (bcrypt) → a new session: what `POST /v1/auth/login` and the web app's sign-in form both do.
/// Limited per address and per account before any bcrypt runs; failures back the account off further.
struct SignIn: Sendable {
    let database: TenantDatabase
    let credentials: CredentialStore
    let hasher: PasswordHasher
    let limiters: Limiters

    static let sessionLifetime: Duration = .seconds(12 * 3600)

    func attempt(agency: String, email: String, password: String, from address: String?) async throws -> CredentialStore.NewSession {
        let account = "\(agency.lowercased())/\(email.lowercased())"
        if let wait = limiters.signInByAddress.take(address ?? "unknown") ?? limiters.signInByAccount.take(account)
            ?? limiters.signInBackoff.wait(account) {
            throw Problem.tooManyRequests(retryAfter: wait, detail: "too many sign-in attempts; retry in \(wait) s")
        }
        let credentials = self.credentials
        let candidate = try await database.withSystem { try await credentials.loginCandidate(agencySlug: agency, email: email, on: $0) }
        // Verify even when nobody matched, so timing does not tell which emails exist.
        let hash = candidate?.passwordHash ?? "$2b$10$abcdefghijklmnopqrstuu5Nwp0Adbt4bCPnSMCeKg0fXLg8rSkgq"
        let valid = try await hasher.verify(password, hash: hash)
        guard valid, let candidate else {
            limiters.signInBackoff.failed(account)
            throw Problem(.unauthenticated, detail: "unknown agency, email or password")
        }
        limiters.signInBackoff.succeeded(account)
        return try await database.withTenant(candidate.agency) {
            try await credentials.createSession(member: candidate.member, lifetime: Self.sessionLifetime, on: $0)
        }
    }
}
