import Foundation
import Logging
import PostgresNIO
import TrellisStore

/// A pool of real PostgreSQL databases for tests: the migrations run once into a template database,
/// and every suite gets its own copy (`CREATE DATABASE … TEMPLATE …`), so suites run in parallel and
/// never see each other's rows. The server comes from `TRELLIS_TEST_ADMIN_URL` (a superuser), which
/// `deploy/test.sh` points at a throwaway cluster.
public actor TestDatabases {
    public static let shared = TestDatabases()

    public static let appRole = "trellis_app"
    public static let appPassword = "trellis_app"
    /// The API's own role: the tenant tables, and of the queue only its agency's jobs.
    public static let apiRole = "trellis_api"
    public static let apiPassword = "trellis_api"

    private var template: Task<String, any Error>?
    private var counter = 0

    public nonisolated var adminSettings: ConnectionSettings {
        get throws {
            let url = ProcessInfo.processInfo.environment["TRELLIS_TEST_ADMIN_URL"]
            guard let url, !url.isEmpty else {
                throw SetupError("TRELLIS_TEST_ADMIN_URL is not set: run the tests with deploy/test.sh, which starts a throwaway PostgreSQL")
            }
            return try ConnectionSettings.parse(url)
        }
    }

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// The migrated template, built once per test process.
    func templateName() async throws -> String {
        if let template { return try await template.value }
        let admin = try adminSettings
        let task = Task { () throws -> String in
            let name = "trellis_template_\(ProcessInfo.processInfo.processIdentifier)"
            let migrations = try Migration.load(directory: ProjectFiles.sqlDirectory)
            try await runBlocking {
                let connection = try LibPQConnection(conninfo: admin.conninfo)
                try connection.execute("SET client_min_messages = warning")
                try Self.dropLeftovers(on: connection)
                try connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                try connection.execute("CREATE DATABASE \(name)")
            }
            _ = try await MigrationRunner(conninfo: admin.with(database: name).conninfo, migrations: migrations).migrate()
            try await runBlocking {
                let connection = try LibPQConnection(conninfo: admin.conninfo)
                try connection.execute("ALTER ROLE \(Self.appRole) WITH LOGIN PASSWORD \(LibPQConnection.literal(Self.appPassword))")
                try connection.execute("ALTER ROLE \(Self.apiRole) WITH LOGIN PASSWORD \(LibPQConnection.literal(Self.apiPassword))")
            }
            return name
        }
        template = task
        return try await task.value
    }

    /// The template and the databases of test processes that are gone (killed, or stopped before their suites dropped
    /// them): on a cluster kept between runs they would pile up, a thousand after a few days here.
    static func dropLeftovers(on connection: LibPQConnection) throws {
        let rows = try connection.execute("""
            SELECT datname FROM pg_database WHERE datname ~ '^(trellis_template_[0-9]+|t[0-9]+_[0-9]+_[a-z0-9_]*)$'
            """)
        for name in rows.compactMap({ $0.first ?? nil }) {
            let digits = name.drop { !$0.isNumber }.prefix { $0.isNumber }
            guard let pid = Int32(digits), pid != ProcessInfo.processInfo.processIdentifier, kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = try? connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// A fresh database copied from the template.
    public func freshDatabase(label: String) async throws -> String {
        let template = try await templateName()
        counter += 1
        let safeLabel = String(label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(30))
        let name = "t\(ProcessInfo.processInfo.processIdentifier)_\(counter)_\(safeLabel)"
        let admin = try adminSettings
        try await runBlocking {
            let connection = try LibPQConnection(conninfo: admin.conninfo)
            try connection.execute("CREATE DATABASE \(name) TEMPLATE \(template)")
        }
        return name
    }

    public func drop(_ name: String) async throws {
        let admin = try adminSettings
        try await runBlocking {
            let connection = try LibPQConnection(conninfo: admin.conninfo)
            try connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }
}

/// One suite's database: `owner` connects as the superuser that owns the tables (past row-level
/// security, for setup and for checking what really is stored); `app` connects as the worker's role
/// (`trellis_app`: tenant tables and the whole queue); `api` as the API's (`trellis_api`).
public struct TestDatabase: Sendable {
    public let name: String
    public let ownerSettings: ConnectionSettings
    public let appSettings: ConnectionSettings
    public let apiSettings: ConnectionSettings
    public let owner: PostgresClient
    public let app: PostgresClient
    public let api: PostgresClient
    public let logger: Logger

    /// A whole suite loads both cores: connections may take longer to come than the services' 10 s.
    public var tenantDatabase: TenantDatabase { TenantDatabase(client: app, logger: logger, connectionWait: .seconds(60)) }
    /// What the API runs on.
    public var apiDatabase: TenantDatabase { TenantDatabase(client: api, logger: logger, connectionWait: .seconds(60)) }
}

/// Runs `body` against a fresh database with both clients running, then drops the database.
public func withTestDatabase<T: Sendable>(
    label: String = #function, _ body: @Sendable (TestDatabase) async throws -> T
) async throws -> T {
    let pool = TestDatabases.shared
    let name = try await pool.freshDatabase(label: label)
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let ownerSettings = try pool.adminSettings.with(database: name)
    let appSettings = ownerSettings.with(user: TestDatabases.appRole, password: TestDatabases.appPassword)
    let owner = PostgresClient(configuration: ownerSettings.clientConfiguration(maximumConnections: 12), backgroundLogger: logger)
    let app = PostgresClient(configuration: appSettings.clientConfiguration(maximumConnections: 10), backgroundLogger: logger)
    let apiSettings = ownerSettings.with(user: TestDatabases.apiRole, password: TestDatabases.apiPassword)
    let api = PostgresClient(configuration: apiSettings.clientConfiguration(maximumConnections: 10), backgroundLogger: logger)
    let database = TestDatabase(
        name: name, ownerSettings: ownerSettings, appSettings: appSettings, apiSettings: apiSettings, owner: owner, app: app, api: api,
        logger: logger)
    let result: Result<T, any Error> = await withTaskGroup(of: Void.self) { group in
        group.addTask { await owner.run() }
        group.addTask { await app.run() }
        group.addTask { await api.run() }
        let result = await Result<T, any Error>(asyncCatching: { try await body(database) })
        group.cancelAll()
        return result
    }
    try? await pool.drop(name)
    return try result.get()
}

extension Result where Failure == any Error {
    init(asyncCatching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
