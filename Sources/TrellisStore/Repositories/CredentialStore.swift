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
        return prefix + base64URL(Data(bytes))
    }

    /// A credential that carries its agency: the prefix, the agency's id (22 characters), then the random part. The
    /// agency is not secret; it says which agency (on Citus: which shard) holds the credential's hash, so the look-up is
    /// `agency_id = $1 AND hash = $2` and never a search of every agency.
    public static func newSecret(prefix: String, agency: AgencyID) -> String {
        let id = agency.rawValue.uuid
        let agencyBytes = Data([id.0, id.1, id.2, id.3, id.4, id.5, id.6, id.7, id.8, id.9, id.10, id.11, id.12, id.13, id.14, id.15])
        return prefix + base64URL(agencyBytes) + newSecret(prefix: "")
    }

    /// The agency a credential made by `newSecret(prefix:agency:)` names, or nil for one made before credentials carried
    /// their agency (those are looked up by hash alone).
    public static func agency(ofSecret secret: String, prefix: String) -> AgencyID? {
        guard secret.hasPrefix(prefix) else { return nil }
        let body = secret.utf8.dropFirst(prefix.utf8.count)
        guard body.count == agencyLength + randomLength, let head = String(body.prefix(agencyLength)) else { return nil }
        var base64 = head.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += "=="
        guard let bytes = Data(base64Encoded: base64), bytes.count == 16 else { return nil }
        let b = Array(bytes)
        return AgencyID(UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])))
    }

    /// `SELECT columns FROM function(agency, hash)` for a credential that carries its agency (one shard on Citus), or
    /// `function(hash)` for one issued before credentials did. `function` and `columns` are this module's names, never
    /// input; the secret travels only as its hash, bound.
    /// With `validUntil` (`token` or `session`) a last column says until when the credential is valid (NULL: no end,
    /// or a credential from before, whose agency is not known until it is found).
    static func lookUp(
        _ secret: String, prefix: String, function: String, columns: String, validUntil kind: String? = nil, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> PostgresRowSequence {
        var bindings = PostgresBindings()
        var arguments = "$1", selected = columns
        if let agency = agency(ofSecret: secret, prefix: prefix) {
            bindings.append(agency.rawValue)
            arguments = "$1, $2"
            if let kind { selected += ", trellis_credential_valid_until('\(kind)', $1, $2)" }
        } else if kind != nil {
            selected += ", NULL::timestamptz"
        }
        try bindings.append(hash(secret))
        return try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(selected) FROM \(function)(\(arguments))", binds: bindings), logger: logger)
    }

    /// Base64 of 16 and of 32 bytes, without padding.
    static let agencyLength = 22, randomLength = 43

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// What a list of tokens shows to tell them apart: the prefix, then the first characters of the random part. The
    /// agency's id between them is the same in every token of the agency, so it is shown as an ellipsis (`trl_…7YHtyJ`):
    /// what is shown is what the secret really holds, in order.
    static func displayPrefix(of secret: String, prefix: String) -> String {
        let body = secret.dropFirst(prefix.count)
        guard body.count == agencyLength + randomLength else { return prefix + body.prefix(6) }
        return prefix + "…" + body.dropFirst(agencyLength).prefix(6)
    }

    public static func hash(_ secret: String) -> Data { Data(SHA256.hash(data: Data(secret.utf8))) }

    // MARK: Agencies

    /// Creates the agency, its owner and its role catalog; the caller's transaction must be scoped to `id`.
    public func createAgency(id: AgencyID, name: String, slug: String, on connection: TenantConnection) async throws -> AgencyRecord {
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

    public func currentAgency(on connection: TenantConnection) async throws -> AgencyRecord {
        let rows = try await connection.query("SELECT id, name, slug, created_at FROM agencies WHERE id = \(connection.agencyID)", logger: logger)
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
        member: UUID, name: String, expiresAt: Date? = nil, on connection: TenantConnection
    ) async throws -> (TokenRecord, String) {
        let agency = connection.agency
        let secret = Self.newSecret(prefix: "trl_", agency: agency)
        let id = UUID()
        let prefix = Self.displayPrefix(of: secret, prefix: "trl_")
        return try await translatingConstraints(foreignKeys: ["api_tokens_agency_id_member_id_fkey": "memberId"]) {
            let rows = try await connection.query("""
                INSERT INTO api_tokens (agency_id, id, member_id, name, token_hash, prefix, expires_at)
                VALUES (\(connection.agencyID), \(id), \(member), \(name), \(Self.hash(secret)), \(prefix), \(expiresAt))
                RETURNING \(unescaped: Self.tokenColumns)
                """, logger: logger)
            for try await row in rows { return (try Self.decodeToken(row), secret) }
            throw StoreError.notFound("member")
        }
    }

    public func listTokens(on connection: TenantConnection) async throws -> [TokenRecord] {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.tokenColumns) FROM api_tokens WHERE agency_id = \(connection.agencyID) ORDER BY created_at, id", logger: logger)
        var tokens: [TokenRecord] = []
        for try await row in rows { tokens.append(try Self.decodeToken(row)) }
        return tokens
    }

    public func revokeToken(_ id: UUID, on connection: TenantConnection) async throws -> TokenRecord {
        let rows = try await connection.query("""
            UPDATE api_tokens SET revoked_at = \(unescaped: firstTimeNow("revoked_at")) WHERE agency_id = \(connection.agencyID) AND id = \(id)
            RETURNING \(unescaped: Self.tokenColumns)
            """, logger: logger)
        for try await row in rows { return try Self.decodeToken(row) }
        throw StoreError.notFound("token")
    }

    /// The role of the member a token belongs to (who may act on it depends on it).
    public func tokenHolderRole(_ id: UUID, on connection: TenantConnection) async throws -> MemberRole {
        let rows = try await connection.query(
            "SELECT m.role::text FROM api_tokens t JOIN members m ON m.agency_id = \(connection.agencyID) AND m.id = t.member_id WHERE t.agency_id = \(connection.agencyID) AND t.id = \(id)",
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
        member: UUID, keepSession: UUID?, keepToken: UUID?, on connection: TenantConnection
    ) async throws -> (sessions: Int, tokens: Int) {
        var sessions = 0, tokens = 0
        for try await _ in try await connection.query("""
            DELETE FROM sessions WHERE agency_id = \(connection.agencyID)
              AND member_id = \(member) AND id IS DISTINCT FROM \(keepSession) RETURNING id
            """, logger: logger) { sessions += 1 }
        for try await _ in try await connection.query("""
            UPDATE api_tokens SET revoked_at = now() WHERE agency_id = \(connection.agencyID)
              AND member_id = \(member) AND revoked_at IS NULL AND id IS DISTINCT FROM \(keepToken)
            RETURNING id
            """, logger: logger) { tokens += 1 }
        return (sessions, tokens)
    }

    /// The principal a bearer token stands for and the token's id, or nil (unknown, revoked or expired);
    /// records the token's last use at most once a minute.
    public func authenticateToken(_ secret: String, on connection: PostgresConnection) async throws -> (Principal, tokenID: UUID, validUntil: Date?)? {
        let rows = try await Self.lookUp(
            secret, prefix: "trl_", function: "trellis_authenticate_token", columns: "agency_id, token_id, member_id, role::text, client_id",
            validUntil: "token", on: connection, logger: logger)
        for try await (agency, token, member, role, client, until) in rows.decode((UUID, UUID, UUID, String, UUID?, Date?).self) {
            guard let role = MemberRole(rawValue: role) else { return nil }
            return (Principal(agencyID: AgencyID(agency), memberID: MemberID(member), role: role, clientID: client.map(ClientID.init)), token, until)
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

    public func createSession(member: UUID, lifetime: Duration, on connection: TenantConnection) async throws -> NewSession {
        let agency = connection.agency
        let secret = Self.newSecret(prefix: "trs_", agency: agency)
        let csrf = Self.newSecret(prefix: "")
        let rows = try await connection.query("""
            INSERT INTO sessions (agency_id, id, member_id, secret_hash, csrf_token, expires_at)
            VALUES (\(connection.agencyID), \(UUID()), \(member), \(Self.hash(secret)), \(csrf), now() + \(Double(lifetime.components.seconds)) * interval '1 second')
            RETURNING expires_at
            """, logger: logger)
        for try await expiresAt in rows.decode(Date.self) { return NewSession(secret: secret, csrfToken: csrf, expiresAt: expiresAt) }
        throw StoreError.notFound("member")
    }

    public func authenticateSession(
        _ secret: String, on connection: PostgresConnection
    ) async throws -> (Principal, csrfToken: String, sessionID: UUID, validUntil: Date?)? {
        let rows = try await Self.lookUp(
            secret, prefix: "trs_", function: "trellis_authenticate_session",
            columns: "agency_id, session_id, member_id, role::text, client_id, csrf_token", validUntil: "session", on: connection, logger: logger)
        for try await (agency, session, member, role, client, csrf, until) in rows.decode((UUID, UUID, UUID, String, UUID?, String, Date?).self) {
            guard let role = MemberRole(rawValue: role) else { return nil }
            return (Principal(agencyID: AgencyID(agency), memberID: MemberID(member), role: role, clientID: client.map(ClientID.init)), csrf, session,
                    until)
        }
        return nil
    }

    public func deleteSession(secret: String, on connection: TenantConnection) async throws {
        try await connection.query("""
            DELETE FROM sessions WHERE agency_id = \(connection.agencyID) AND secret_hash = \(Self.hash(secret))
            """, logger: logger)
    }
}
