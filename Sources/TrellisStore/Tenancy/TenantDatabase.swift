import Foundation
import PostgresNIO
import Synchronization
import Tracing
import TrellisDomain

/// The application's access to PostgreSQL. Every unit of work is one transaction; tenant work sets the
/// agency first, so row-level security filters every statement in it, whatever the SQL forgets.
public struct TenantDatabase: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// How long a unit of work waits for a connection before it gives up with `StoreError.unavailable`: while
    /// the server is down the pool would otherwise keep a request waiting for as long as the outage lasts.
    public let connectionWait: Duration
    /// A tracer was bootstrapped before this was made; without one no span is started per unit of work.
    let traced: Bool
    /// What this process serves from memory is checked against (the API's); nil: nothing is.
    public let changes: TenantChanges?

    public init(client: PostgresClient, logger: Logger, connectionWait: Duration = .seconds(10), changes: TenantChanges? = nil) {
        self.client = client
        self.logger = logger
        self.connectionWait = connectionWait
        self.traced = !(InstrumentationSystem.tracer is NoOpTracer)
        self.changes = changes
    }

    /// One transaction scoped to `agency`: commits if `work` returns, rolls back if it throws. What this process keeps
    /// in memory for the agency is stale from the commit on (other processes hear of it from the database, `sql/0014`).
    public func withTenant<T: Sendable>(
        _ agency: AgencyID, _ work: @Sendable (TenantConnection) async throws -> T
    ) async throws -> T {
        defer { changes?.changed(agency) }
        return try await withTenantReading(agency, work)
    }

    /// `withTenant` for work that only reads: it leaves what this process keeps in memory alone. A write made here
    /// by mistake is still announced by the database, so the mistake costs the writer's own process only the
    /// moments until it hears of it.
    public func withTenantReading<T: Sendable>(
        _ agency: AgencyID, _ work: @Sendable (TenantConnection) async throws -> T
    ) async throws -> T {
        try await transaction { connection in
            try await connection.query(TenantConnection.scope(to: agency), logger: logger)
            return try await work(TenantConnection(connection: connection, agency: agency))
        }
    }

    /// A transaction with no agency set: sees no tenant rows at all; for system tables (jobs, schedules)
    /// and the security-definer functions that authentication uses.
    public func withSystem<T: Sendable>(_ work: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await transaction(work)
    }

    /// A single statement with no agency set and no transaction around it (it commits on its own): one round trip
    /// where a transaction would take three. For the security-definer functions that authenticate a request.
    public func withSingleStatement<T: Sendable>(_ work: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await leased(inTransaction: false, work)
    }

    private func transaction<T: Sendable>(_ work: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await leased(inTransaction: true, work)
    }

    /// One span per unit of work (a transaction, or a single statement), inside the request's or the job's span.
    private func leased<T: Sendable>(inTransaction: Bool, _ work: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        guard traced else { return try await leasedUntraced(inTransaction: inTransaction, work) }
        return try await withSpan(inTransaction ? "db.transaction" : "db.statement", ofKind: .client) { span in
            span.attributes["db.system.name"] = "postgresql"
            return try await leasedUntraced(inTransaction: inTransaction, work)
        }
    }

    private func leasedUntraced<T: Sendable>(inTransaction: Bool, _ work: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let acquired = Flag()
        let (client, logger, wait) = (self.client, self.logger, self.connectionWait)
        do {
            return try await withoutActuallyEscaping(work) { work in
                try await withThrowingTaskGroup(of: T?.self) { group in
                    group.addTask {
                        if !inTransaction {
                            return try await client.withConnection { connection in
                                acquired.set()
                                return try await work(connection)
                            }
                        }
                        return try await client.withTransaction(logger: logger) { connection in
                            acquired.set()
                            return try await work(connection)
                        }
                    }
                    // The watchdog: if no connection came within `wait`, the server is unreachable; cancelling the
                    // task above withdraws its request from the pool.
                    group.addTask {
                        try await Task.sleep(for: wait)
                        if !acquired.isSet { throw StoreError.unavailable }
                        return nil
                    }
                    while let next = try await group.next() {
                        if let result = next {
                            group.cancelAll()
                            return result
                        }
                    }
                    throw StoreError.unavailable
                }
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.commitError ?? error.beginError ?? error
        }
    }
}

/// Set once, read from another task.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// What the store reports to the API layer; the HTTP module maps each case to a problem type.
public enum StoreError: Error, Equatable, Sendable {
    case notFound(String)
    /// The row changed since the version the caller read.
    case versionConflict(expected: Int, actual: Int)
    /// A unique value already taken (`slug`, `email`, `key`).
    case duplicate(field: String)
    /// A reference to a row that does not exist in this agency.
    case missingReference(field: String)
    case invalid(field: String, message: String)
    /// No connection to the database within the wait: it is down or restarting.
    case unavailable
}

extension PSQLError {
    var sqlState: String? { serverInfo?[.sqlState] }
    var constraint: String? { serverInfo?[.constraintName] }
}

/// Maps constraint violations to store errors naming the field, so a client sees which value clashed.
func translatingConstraints<T>(
    unique: [String: String] = [:], foreignKeys: [String: String] = [:], _ work: () async throws -> T
) async throws -> T {
    do {
        return try await work()
    } catch let error as PSQLError {
        switch error.sqlState {
        case "23505":
            let field = error.constraint.flatMap { unique[$0] } ?? "id"
            throw StoreError.duplicate(field: field)
        case "23503":
            let field = error.constraint.flatMap { foreignKeys[$0] } ?? "reference"
            throw StoreError.missingReference(field: field)
        case "42501":
            // A row for another agency: row-level security refused it.
            throw StoreError.notFound("resource")
        default:
            throw error
        }
    }
}

/// Locks a versioned row for an edit and checks the version the edit was based on (`If-Match`);
/// without an expected version the edit proceeds on whatever is current (last write wins).
/// `table` is one of this module's table names, never input.
func lockForEdit(
    table: String, id: UUID, expected: Int?, notFound what: String, on connection: TenantConnection, logger: Logger
) async throws {
    let rows = try await connection.query(
        "SELECT version::int8 FROM \(unescaped: table) WHERE agency_id = \(connection.agencyID) AND id = \(id) FOR UPDATE",
        logger: logger)
    for try await current in rows.decode(Int.self) {
        if let expected, expected != current { throw StoreError.versionConflict(expected: expected, actual: current) }
        return
    }
    throw StoreError.notFound(what)
}
