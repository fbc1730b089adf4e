import Foundation
import PostgresNIO
import TrellisDomain

/// A portal link as the agency sees it (never its secret, which is shown once).
public struct ShareLinkRecord: Sendable, Hashable {
    public var id: UUID
    public var clientId: UUID
    public var contactId: UUID
    public var contactName: String
    public var createdAt: Date
    public var expiresAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?
}

/// Share links of the client portal: each signs one client contact in as a client viewer of that one client, with no
/// password. Stored as the SHA-256 of their secret; they expire and can be revoked.
public struct ShareLinkStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// A new link for `contact` of `client`, valid for `lifetime`; the contact's portal member is made on first use of
    /// this (a client viewer of the client). Returns the link and its secret, which is not stored.
    public func create(
        client: UUID, contact: UUID, createdBy: MemberID, lifetime: Duration, on connection: TenantConnection
    ) async throws -> (ShareLinkRecord, secret: String) {
        let agency = connection.agency
        let member = try await portalMember(client: client, contact: contact, on: connection)
        let secret = CredentialStore.newSecret(prefix: "trp_", agency: agency)
        let id = UUID()
        let rows = try await connection.query("""
            INSERT INTO share_links (agency_id, id, client_id, contact_id, member_id, secret_hash, created_by, expires_at)
            VALUES (\(connection.agencyID), \(id), \(client), \(contact), \(member), \(CredentialStore.hash(secret)), \(createdBy.rawValue),
                    now() + make_interval(secs => \(Double(lifetime.components.seconds))::float8))
            RETURNING id
            """, logger: logger)
        for try await _ in rows {}
        guard let record = try await list(client: client, on: connection).first(where: { $0.id == id }) else { throw StoreError.notFound("share link") }
        return (record, secret)
    }

    /// The contact's portal member, made the first time (a client viewer of the client, named and addressed as the contact).
    func portalMember(client: UUID, contact: UUID, on connection: TenantConnection) async throws -> UUID {
        for try await id in try await connection.query(
            "SELECT id FROM members WHERE agency_id = \(connection.agencyID) AND contact_id = \(contact)", logger: logger).decode(UUID.self) {
            return id
        }
        var found: (String, String?)?
        for try await (name, email) in try await connection.query("""
            SELECT name, email FROM client_contacts WHERE agency_id = \(connection.agencyID) AND id = \(contact) AND client_id = \(client)
            """, logger: logger).decode((String, String?).self) { found = (name, email) }
        guard let (name, email) = found else { throw StoreError.missingReference(field: "contactId") }
        var address = email ?? ""
        // The contact's address may already be an agency member's: the portal member then gets an address of its own.
        let taken = address.isEmpty ? true : try await PeopleStore(logger: logger).memberID(email: address, on: connection) != nil
        if taken {
            address = "portal+\(contact.uuidString.lowercased())@portal.invalid"
        }
        let id = UUID()
        try await connection.query("""
            INSERT INTO members (agency_id, id, email, display_name, role, client_id, weekly_capacity_hours, contact_id)
            VALUES (\(connection.agencyID), \(id), \(address), \(name), 'client_viewer', \(client), 0, \(contact))
            """, logger: logger)
        return id
    }

    public func list(client: UUID, on connection: TenantConnection) async throws -> [ShareLinkRecord] {
        let rows = try await connection.query("""
            SELECT s.id, s.client_id, s.contact_id, c.name, s.created_at, s.expires_at, s.last_used_at, s.revoked_at
              FROM share_links s JOIN client_contacts c ON c.agency_id = \(connection.agencyID) AND c.id = s.contact_id
             WHERE s.agency_id = \(connection.agencyID) AND s.client_id = \(client) ORDER BY s.created_at DESC, s.id
            """, logger: logger)
        var links: [ShareLinkRecord] = []
        for try await (id, client, contact, name, created, expires, used, revoked) in rows.decode((UUID, UUID, UUID, String, Date, Date, Date?, Date?).self) {
            links.append(ShareLinkRecord(id: id, clientId: client, contactId: contact, contactName: name, createdAt: created, expiresAt: expires,
                                         lastUsedAt: used, revokedAt: revoked))
        }
        return links
    }

    public func revoke(_ id: UUID, client: UUID, on connection: TenantConnection) async throws {
        let rows = try await connection.query("""
            UPDATE share_links SET revoked_at = \(unescaped: firstTimeNow("revoked_at")) WHERE agency_id = \(connection.agencyID) AND id = \(id) AND client_id = \(client) RETURNING id
            """, logger: logger)
        for try await _ in rows { return }
        throw StoreError.notFound("share link")
    }

    /// The member a link signs in, while the link is neither expired nor revoked (one statement, before any agency is known).
    public func redeem(_ secret: String, on connection: PostgresConnection) async throws -> (AgencyID, member: UUID, client: UUID)? {
        let rows = try await CredentialStore.lookUp(
            secret, prefix: "trp_", function: "trellis_redeem_share_link", columns: "agency_id, member_id, client_id",
            on: connection, logger: logger)
        for try await (agency, member, client) in rows.decode((UUID, UUID, UUID).self) { return (AgencyID(agency), member, client) }
        return nil
    }
}
