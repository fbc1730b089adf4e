import Foundation
import PostgresNIO
import TrellisDomain

/// Creating an agency (with its owner, role catalog and first token) and issuing tokens by email:
/// what the admin CLI, the demo seed and the tests share.
public enum AgencyProvisioning {
    public struct NoSuch: Error, CustomStringConvertible {
        public var description: String
    }

    /// One transaction: the agency, its catalog, its owner and an owner token; returns the token's secret.
    public static func createAgency(
        database: TenantDatabase, name: String, slug: String, owner: MemberDraft, passwordHash: String?
    ) async throws -> (AgencyID, ownerID: UUID, secret: String) {
        let agency = AgencyID(UUID())
        let logger = database.logger
        let (ownerID, secret) = try await database.withTenant(agency) { connection in
            _ = try await CredentialStore(logger: logger).createAgency(id: agency, name: name, slug: slug, on: connection)
            try await RoleStore(logger: logger).seedCatalog(on: connection)
            let member = try await PeopleStore(logger: logger).createMember(id: UUID(), owner, passwordHash: passwordHash, on: connection)
            let secret = try await CredentialStore(logger: logger).createToken(member: member.id, name: "owner", on: connection).1
            return (member.id, secret)
        }
        return (agency, ownerID, secret)
    }

    public static func createToken(database: TenantDatabase, agencySlug: String, email: String, name: String) async throws -> String {
        let logger = database.logger
        guard let agency = try await database.withSystem({ try await CredentialStore(logger: logger).agencyID(slug: agencySlug, on: $0) }) else {
            throw NoSuch(description: "no agency \(agencySlug)")
        }
        return try await database.withTenant(agency) { connection in
            guard let member = try await PeopleStore(logger: logger).memberID(email: email, on: connection) else {
                throw NoSuch(description: "no member \(email) in \(agencySlug)")
            }
            return try await CredentialStore(logger: logger).createToken(member: member, name: name, on: connection).1
        }
    }
}
