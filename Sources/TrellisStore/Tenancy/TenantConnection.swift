import Foundation
import PostgresNIO
import TrellisDomain

/// A connection inside a transaction scoped to one agency. Every store query on a tenant table names that agency
/// (`agency_id = $n`), so that on Citus it runs on the agency's shard alone; row-level security stays the backstop.
public struct TenantConnection: Sendable {
    /// The underlying connection, for what is not a tenant table (the queue enqueues in the same transaction).
    public let connection: PostgresConnection
    public let agency: AgencyID
    /// The agency's id as the statements bind it: `agency_id = \(connection.agencyID)`.
    public var agencyID: UUID { agency.rawValue }

    public init(connection: PostgresConnection, agency: AgencyID) {
        self.connection = connection
        self.agency = agency
    }

    @discardableResult
    public func query(
        _ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> PostgresRowSequence {
        try await connection.query(query, logger: logger, file: file, line: line)
    }

    /// A server-side prepared statement (parsed once per connection), for a statement run on every request.
    public func execute<Statement: PostgresPreparedStatement>(
        _ statement: Statement, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, Statement.Row> {
        try await connection.execute(statement, logger: logger, file: file, line: line)
    }

    /// The statement that scopes the transaction: `SET LOCAL`, which Citus carries to the worker nodes when
    /// `citus.propagate_set_commands = 'local'` (a session-level `set_config` does not reach them); it ends with
    /// the transaction on plain PostgreSQL and on Citus alike. A UUID's text is hex digits and dashes only, so it
    /// is written into the statement (SET takes no parameters).
    static func scope(to agency: AgencyID) -> PostgresQuery {
        PostgresQuery(unsafeSQL: "SET LOCAL trellis.agency_id = '\(agency.rawValue.uuidString)'")
    }
}
