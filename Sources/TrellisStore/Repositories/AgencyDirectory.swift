import Foundation
import PostgresNIO
import TrellisDomain

/// For system work that visits every agency (scans, digests, pruning), one tenant transaction each.
public struct AgencyDirectory: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func all(_ database: TenantDatabase) async throws -> [AgencyID] {
        try await database.withSystem { connection in
            var ids: [AgencyID] = []
            let rows = try await connection.query("SELECT trellis_agency_ids()", logger: logger)
            for try await id in rows.decode(UUID.self) { ids.append(AgencyID(id)) }
            return ids
        }
    }
}
