import Crypto
import Foundation
import PostgresNIO
import TrellisDomain

/// Agencies, API tokens and sign-in sessions.
public struct CredentialStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// A fresh secret: 32 random bytes, URL-safe base64, with a prefix that says what it is
    /// (so secret scanners can spot a leaked one).
    public static func newSecret(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let body = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return prefix + body
    }

    public static func hash(_ secret: String) -> Data { Data(SHA256.hash(data: Data(secret.utf8))) }

    // MARK: Agencies

    /// Creates the agency, its owner and its role catalog; the caller's transaction must be scoped to `id`.
    public func createAgency(id: AgencyID, name: String, slug: String, on connection: PostgresConnection) async throws -> AgencyRecord {
        try await translatingConstraints(unique: ["agencies_slug_key": "slug"]) {
            let rows = try await connection.query("""
                INSERT INTO agencies (id, name, slug) VALUES (\(id.rawValue), \(name), \(slug)) RETURNING id, name, slug, created_at
                """, logger: logger)
            for try await (id, name, slug, createdAt) in rows.decode((UUID, String, String, Date).self) {
                return AgencyRecord(id: id, name: name, slug: slug, createdAt: createdAt)
            }
            throw StoreError.notFound("agency")
        }
    }

    public func currentAgency(on connection: PostgresConnection) async throws -> AgencyRecord {
        let rows = try await connection.query("SELECT id, name, slug, created_at FROM agencies", logger: logger)
        for try await (id, name, slug, createdAt) in rows.decode((UUID, String, String, Date).self) {
            return AgencyRecord(id: id, name: name, slug: slug, createdAt: createdAt)
        }
        throw StoreError.notFound("agency")
    }

    /// For admin tooling, outside any tenant: the agency with this slug (needs a role that may see all agencies).
    public func agencyID(slug: String, on connection: PostgresConnection) async throws -> AgencyID? {
        let rows = try await connection.query("SELECT id FROM agencies WHERE slug = \(slug)", logger: logger)
        for try await id in rows.decode(UUID.self) { return AgencyID(id) }
        return nil
    }

    // MARK: API tokens

    /// Returns the record and the secret, which is shown this once and never stored.
    public func createToken(
        agency: AgencyID, member: UUID, name: String, expiresAt: Date? = nil, on connection: PostgresConnection
    ) async throws -> (TokenRecord, String) {
        let secret = Self.newSecret(prefix: "trl_")
        let id = UUID()
        let prefix = String(secret.prefix(10))
        return try await translatingConstraints(foreignKeys: ["api_tokens_agency_id_member_id_fkey": "memberId"]) {
            let rows = try await connection.query("""
                INSERT INTO api_tokens (agency_id, id, member_id, name, token_hash, prefix, expires_at)
                VALUES (\(agency.rawValue), \(id), \(member), \(name), \(Self.hash(secret)), \(prefix), \(expiresAt))
                RETURNING \(unescaped: Self.tokenColumns)
                """, logger: logger)
            for try await row in rows { return (try Self.decodeToken(row), secret) }
            throw StoreError.notFound("member")
        }
    }

    public func listTokens(on connection: PostgresConnection) async throws -> [TokenRecord] {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.tokenColumns) FROM api_tokens ORDER BY created_at, id", logger: logger)
        var tokens: [TokenRecord] = []
        for try await row in rows { tokens.append(try Self.decodeToken(row)) }
        return tokens
    }

    public func revokeToken(_ id: UUID, on connection: PostgresConnection) async throws -> TokenRecord {
        let rows = try await connection.query("""
            UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = \(id)
            RETURNING \(unescaped: Self.tokenColumns)
            """, logger: logger)
        for try await row in rows { return try Self.decodeToken(row) }
        throw StoreError.notFound("token")
    }

    /// The role of the member a token belongs to (who may act on it depends on it).
    public func tokenHolderRole(_ id: UUID, on connection: PostgresConnection) async throws -> MemberRole {
        let rows = try await connection.query(
            "SELECT m.role::text FROM api_tokens t JOIN members m ON m.agency_id = t.agency_id AND m.id = t.member_id WHERE t.id = \(id)",
            logger: logger)
        for try await raw in rows.decode(String.self) {
            guard let role = MemberRole(rawValue: raw) else { throw StoreError.invalid(field: "role", message: "unknown role \(raw) in the database") }
            return role
        }
        throw StoreError.notFound("token")
    }

    /// After a password change: every session of the member but `keepSession`, and every token but `keepToken`,
    /// stop working. Returns how many of each ended.
    public func endCredentials(
        member: UUID, keepSession: UUID?, keepToken: UUID?, on connection: PostgresConnection
    ) async throws -> (sessions: Int, tokens: Int) {
        var sessions = 0, tokens = 0
        for try await _ in try await connection.query("""
            DELETE FROM sessions WHERE member_id = \(member) AND id IS DISTINCT FROM \(keepSession) RETURNING id
            """, logger: logger) { sessions += 1 }
        for try await _ in try await connection.query("""
            UPDATE api_tokens SET revoked_at = now() WHERE member_id = \(member) AND revoked_at IS NULL AND id IS DISTINCT FROM \(keepToken)
            RETURNING id
            """, logger: logger) { tokens += 1 }
        return (sessions, tokens)
    }

    /// The principal a bearer token stands for and the token's id, or nil (unknown, revoked or expired);
    /// records the token's last use at most once a minute.
    public func authenticateToken(_ secret: String, on connection: PostgresConnection) async throws -> (Principal, tokenID: UUID)? {
        let rows = try await connection.query(
            "SELECT agency_id, token_id, member_id, role::text, client_id FROM trellis_authenticate_token(\(Self.hash(secret)))", logger: logger)
        for try await (agency, token, member, role, client) in rows.decode((UUID, UUID, UUID, String, UUID?).self) {
            guard let role = MemberRole(rawValue: role) else { return nil }
            return (Principal(agencyID: AgencyID(agency), memberID: MemberID(member), role: role, clientID: client.map(ClientID.init)), token)
        }
        return nil
    }

    static let tokenColumns = "id, member_id, name, prefix, created_at, last_used_at, revoked_at, expires_at"

    static func decodeToken(_ row: PostgresRow) throws -> TokenRecord {
        let (id, member, name, prefix, createdAt, lastUsed, revoked, expires) =
            try row.decode((UUID, UUID, String, String, Date, Date?, Date?, Date?).self)
        return TokenRecord(
            id: id, memberId: member, name: name, prefix: prefix, createdAt: createdAt, lastUsedAt: lastUsed, revokedAt: revoked,
            expiresAt: expires)
    }

    // MARK: Password sign-in and sessions

    public struct LoginCandidate: Sendable {
        public var agency: AgencyID
        public var member: UUID
        public var passwordHash: String
    }

    public func loginCandidate(agencySlug: String, email: String, on connection: PostgresConnection) async throws -> LoginCandidate? {
        let rows = try await connection.query(
            "SELECT agency_id, member_id, password_hash FROM trellis_find_login(\(agencySlug), \(email))", logger: logger)
        for try await (agency, member, hash) in rows.decode((UUID, UUID, String).self) {
            return LoginCandidate(agency: AgencyID(agency), member: member, passwordHash: hash)
        }
        return nil
    }

    public struct NewSession: Sendable {
        public var secret: String
        public var csrfToken: String
        public var expiresAt: Date
    }

    public func createSession(agency: AgencyID, member: UUID, lifetime: Duration, on connection: PostgresConnection) async throws -> NewSession {
        let secret = Self.newSecret(prefix: "trs_")
        let csrf = Self.newSecret(prefix: "")
        let rows = try await connection.query("""
            INSERT INTO sessions (agency_id, id, member_id, secret_hash, csrf_token, expires_at)
            VALUES (\(agency.rawValue), \(UUID()), \(member), \(Self.hash(secret)), \(csrf), now() + \(Double(lifetime.components.seconds)) * interval '1 second')
            RETURNING expires_at
            """, logger: logger)
        for try await expiresAt in rows.decode(Date.self) { return NewSession(secret: secret, csrfToken: csrf, expiresAt: expiresAt) }
        throw StoreError.notFound("member")
    }

    public func authenticateSession(
        _ secret: String, on connection: PostgresConnection
    ) async throws -> (Principal, csrfToken: String, sessionID: UUID)? {
        let rows = try await connection.query(
            "SELECT agency_id, session_id, member_id, role::text, client_id, csrf_token FROM trellis_authenticate_session(\(Self.hash(secret)))",
            logger: logger)
        for try await (agency, session, member, role, client, csrf) in rows.decode((UUID, UUID, UUID, String, UUID?, String).self) {
            guard let role = MemberRole(rawValue: role) else { return nil }
            return (Principal(agencyID: AgencyID(agency), memberID: MemberID(member), role: role, clientID: client.map(ClientID.init)), csrf, session)
        }
        return nil
    }

    public func deleteSession(secret: String, on connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM sessions WHERE secret_hash = \(Self.hash(secret))", logger: logger)
    }
}
