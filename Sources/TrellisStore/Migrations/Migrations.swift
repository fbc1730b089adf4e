import Crypto
import Foundation
import PostgresNIO

/// One numbered SQL file of `sql/`.
public struct Migration: Sendable, Hashable {
    public var name: String
    public var sql: String
    public var checksum: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The migrations of a directory, in the order of their numbers (`0001_…sql`, `0002_…sql`).
    public static func load(directory: URL) throws -> [Migration] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") && $0.first?.isNumber == true }
            .sorted()
        return try names.map { name in
            Migration(name: name, sql: try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
        }
    }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    /// An applied file whose text changed since: refused, because the database no longer matches it.
    case changedAfterApply(name: String, applied: String, now: String)
    /// The database has a migration this build does not know.
    case unknownApplied(name: String)
    case failed(name: String, message: String)
    case connection(String)

    public var description: String {
        switch self {
        case .changedAfterApply(let name, let applied, let now):
            return "migration \(name) was changed after it was applied (checksum \(applied.prefix(12)) in the database, \(now.prefix(12)) on disk); add a new migration instead"
        case .unknownApplied(let name):
            return "the database has migration \(name), which this build does not have"
        case .failed(let name, let message):
            return "migration \(name) failed: \(message)"
        case .connection(let message):
            return "cannot connect: \(message)"
        }
    }
}

/// Applies pending migrations in order, each in one transaction, recording name and checksum.
/// Runs over libpq because migration files hold several statements (the simple-query protocol).
public struct MigrationRunner: Sendable {
    public var conninfo: String
    public var migrations: [Migration]

    public init(conninfo: String, migrations: [Migration]) {
        self.conninfo = conninfo
        self.migrations = migrations
    }

    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS trellis_schema_migrations (
            name       text PRIMARY KEY,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    /// Serializes concurrent `migrate` runs against one database.
    static let lockKey = 7_310_624_911

    /// Returns the names applied by this run (empty when nothing was pending).
    public func migrate() async throws -> [String] {
        let conninfo = self.conninfo
        let migrations = self.migrations
        return try await runBlocking {
            let connection: LibPQConnection
            do { connection = try LibPQConnection(conninfo: conninfo) } catch { throw MigrationError.connection("\(error)") }
            try connection.execute("SET client_min_messages = warning")
            try connection.execute(Self.bookkeeping)
            try connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
            defer { _ = try? connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))") }
            let pending = try Self.pending(migrations, applied: Self.applied(connection))
            for migration in pending {
                do {
                    try connection.execute("BEGIN")
                    try connection.execute(migration.sql)
                    try connection.execute(
                        "INSERT INTO trellis_schema_migrations (name, checksum) VALUES (\(LibPQConnection.literal(migration.name)), \(LibPQConnection.literal(migration.checksum)))")
                    try connection.execute("COMMIT")
                } catch {
                    _ = try? connection.execute("ROLLBACK")
                    throw MigrationError.failed(name: migration.name, message: "\(error)")
                }
            }
            return pending.map(\.name)
        }
    }

    static func applied(_ connection: LibPQConnection) throws -> [String: String] {
        var applied: [String: String] = [:]
        for row in try connection.execute("SELECT name, checksum FROM trellis_schema_migrations") {
            if let name = row[0], let checksum = row[1] { applied[name] = checksum }
        }
        return applied
    }

    /// The migrations still to apply, after checking that every applied one is unchanged.
    public static func pending(_ migrations: [Migration], applied: [String: String]) throws -> [Migration] {
        let known = Set(migrations.map(\.name))
        if let stranger = applied.keys.sorted().first(where: { !known.contains($0) }) {
            throw MigrationError.unknownApplied(name: stranger)
        }
        for migration in migrations {
            if let checksum = applied[migration.name], checksum != migration.checksum {
                throw MigrationError.changedAfterApply(name: migration.name, applied: checksum, now: migration.checksum)
            }
        }
        return migrations.filter { applied[$0.name] == nil }
    }

    /// For `/readyz`: true when every migration of this build is applied, unchanged.
    public static func isCurrent(_ migrations: [Migration], client: PostgresClient, logger: Logger) async -> Bool {
        do {
            var applied: [String: String] = [:]
            let rows = try await client.query("SELECT name, checksum FROM trellis_schema_migrations", logger: logger)
            for try await (name, checksum) in rows.decode((String, String).self) { applied[name] = checksum }
            return try pending(migrations, applied: applied).isEmpty
        } catch {
            return false
        }
    }
}

/// Runs blocking libpq work off the cooperative thread pool.
public func runBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try work() })
        }
    }
}
