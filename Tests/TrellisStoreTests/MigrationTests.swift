import Foundation
import Logging
import PostgresNIO
import Testing
import TrellisStore
import TrellisTestSupport

@Suite("Migrations")
struct MigrationTests {
    /// An empty database (not the migrated template) to migrate from scratch.
    func withEmptyDatabase(_ body: (ConnectionSettings) async throws -> Void) async throws {
        let admin = try TestDatabases.shared.adminSettings
        let name = "mig_\(UUID().uuidString.prefix(8).lowercased())"
        try await runBlocking { try LibPQConnection(conninfo: admin.conninfo).execute("CREATE DATABASE \(name)") }
        do {
            try await body(admin.with(database: name))
        } catch {
            try? await TestDatabases.shared.drop(name)
            throw error
        }
        try await TestDatabases.shared.drop(name)
    }

    @Test func appliesInOrderOnceThenIsANoOp() async throws {
        try await withEmptyDatabase { settings in
            let migrations = try Migration.load(directory: ProjectFiles.sqlDirectory)
            #expect(migrations.map(\.name) == migrations.map(\.name).sorted())
            #expect(migrations.count >= 2)
            let runner = MigrationRunner(conninfo: settings.conninfo, migrations: migrations)
            let first = try await runner.migrate()
            #expect(first == migrations.map(\.name))
            let second = try await runner.migrate()
            #expect(second.isEmpty)
            let rows = try await runBlocking { try LibPQConnection(conninfo: settings.conninfo).execute("SELECT name, checksum FROM trellis_schema_migrations ORDER BY name") }
            #expect(rows.map { $0[0] } == migrations.map(\.name))
            #expect(rows.map { $0[1] } == migrations.map(\.checksum))
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await withEmptyDatabase { settings in
            let migrations = [
                Migration(name: "0001_ok.sql", sql: "CREATE TABLE a (id int);"),
                Migration(name: "0002_broken.sql", sql: "CREATE TABLE b (id int); SELECT no_such_function();"),
            ]
            await #expect(throws: MigrationError.self) {
                _ = try await MigrationRunner(conninfo: settings.conninfo, migrations: migrations).migrate()
            }
            let tables = try await runBlocking {
                try LibPQConnection(conninfo: settings.conninfo).execute("SELECT table_name FROM information_schema.tables WHERE table_name IN ('a', 'b') ORDER BY 1")
            }
            #expect(tables.map { $0[0] } == ["a"])
            let applied = try await runBlocking { try LibPQConnection(conninfo: settings.conninfo).execute("SELECT name FROM trellis_schema_migrations") }
            #expect(applied.map { $0[0] } == ["0001_ok.sql"])
        }
    }

    @Test func refusesWhenAnAppliedFileChanged() async throws {
        try await withEmptyDatabase { settings in
            let original = [Migration(name: "0001_a.sql", sql: "CREATE TABLE a (id int);")]
            _ = try await MigrationRunner(conninfo: settings.conninfo, migrations: original).migrate()
            let edited = [Migration(name: "0001_a.sql", sql: "CREATE TABLE a (id bigint);"), Migration(name: "0002_b.sql", sql: "CREATE TABLE b (id int);")]
            await #expect(throws: MigrationError.self) {
                _ = try await MigrationRunner(conninfo: settings.conninfo, migrations: edited).migrate()
            }
            let b = try await runBlocking { try LibPQConnection(conninfo: settings.conninfo).execute("SELECT to_regclass('b') IS NULL") }
            #expect(b.first?.first == "t")
        }
    }

    @Test func readinessFollowsPendingMigrations() async throws {
        try await withEmptyDatabase { settings in
            let migrations = try Migration.load(directory: ProjectFiles.sqlDirectory)
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            let client = PostgresClient(configuration: settings.clientConfiguration(maximumConnections: 2), backgroundLogger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                #expect(await MigrationRunner.isCurrent(migrations, client: client, logger: logger) == false)
                _ = try await MigrationRunner(conninfo: settings.conninfo, migrations: Array(migrations.prefix(1))).migrate()
                #expect(await MigrationRunner.isCurrent(migrations, client: client, logger: logger) == false)
                _ = try await MigrationRunner(conninfo: settings.conninfo, migrations: migrations).migrate()
                #expect(await MigrationRunner.isCurrent(migrations, client: client, logger: logger) == true)
                group.cancelAll()
            }
        }
    }
}
