import Foundation
import Logging
import PostgresNIO

/// Runs `body` with a running `PostgresClient` on a fresh database that has `sql/0002_job_queue.sql` applied,
/// then drops the database. The server comes from `TRELLIS_TEST_ADMIN_URL`
/// (e.g. `postgres://postgres@127.0.0.1:55433/postgres`), a role allowed to CREATE DATABASE.
/// Every call gets its own database, so tests and suites run in parallel.
func withFreshQueueDatabase<T>(_ body: (PostgresClient) async throws -> T) async throws -> T {
    let admin = try QueueTestDatabase.adminConfiguration()
    let name = "trellis_queue_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased())"
    _ = try await QueueTestDatabase.withClient(admin) { client in
        try await client.query("CREATE DATABASE \(unescaped: name)")
    }
    var configuration = admin
    configuration.database = name
    let migration = try String(contentsOf: QueueTestDatabase.migrationFile, encoding: .utf8)
    let result: Result<T, any Error>
    do {
        let value = try await QueueTestDatabase.withClient(configuration) { client in
            try await client.withTransaction(logger: QueueTestDatabase.logger) { connection in
                for statement in QueueTestDatabase.splitStatements(migration) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: QueueTestDatabase.logger)
                }
            }
            return try await body(client)
        }
        result = .success(value)
    } catch {
        result = .failure(error)
    }
    _ = try? await QueueTestDatabase.withClient(admin) { client in
        try await client.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
    }
    return try result.get()
}

enum QueueTestDatabase {
    struct MissingConfiguration: Error, CustomStringConvertible {
        var description: String
    }

    static let logger: Logger = {
        var logger = Logger(label: "trellis.queue.tests")
        logger.logLevel = .warning
        return logger
    }()

    /// `sql/0002_job_queue.sql`, found from this file (symlinks resolved).
    static var migrationFile: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent()  // TrellisQueueTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // repository
            .appendingPathComponent("sql/0002_job_queue.sql")
    }

    static func adminConfiguration() throws -> PostgresClient.Configuration {
        guard let url = ProcessInfo.processInfo.environment["TRELLIS_TEST_ADMIN_URL"], !url.isEmpty else {
            throw MissingConfiguration(
                description: "set TRELLIS_TEST_ADMIN_URL, e.g. postgres://postgres@127.0.0.1:55433/postgres"
            )
        }
        guard let components = URLComponents(string: url), let host = components.host else {
            throw MissingConfiguration(description: "TRELLIS_TEST_ADMIN_URL is not a postgres:// URL: \(url)")
        }
        let database = components.path.split(separator: "/").first.map(String.init) ?? "postgres"
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: database, tls: .disable
        )
        configuration.options.maximumConnections = 30
        return configuration
    }

    /// Splits a migration file into statements at top-level semicolons (outside quotes, dollar quotes and
    /// comments): the extended query protocol takes one statement at a time.
    static func splitStatements(_ sql: String) -> [String] {
        let chars = Array(sql.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { statements.append(text) }
            current = String.UnicodeScalarView()
        }
        while i < chars.count {
            let c = chars[i]
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            if c == "-" && next == "-" {  // line comment
                while i < chars.count && chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "/" && next == "*" {  // block comment
                i += 2
                while i + 1 < chars.count && !(chars[i] == "*" && chars[i + 1] == "/") { i += 1 }
                i += 2
                continue
            }
            if c == "'" || c == "\"" {  // quoted literal or identifier ('' and "" escape themselves)
                current.append(c)
                i += 1
                while i < chars.count {
                    current.append(chars[i])
                    if chars[i] == c { i += 1; break }
                    i += 1
                }
                continue
            }
            if c == "$" {  // dollar quote: $tag$ ... $tag$
                var j = i + 1
                while j < chars.count && (chars[j].properties.isAlphabetic || chars[j] == "_" || ("0"..."9").contains(chars[j])) { j += 1 }
                if j < chars.count && chars[j] == "$" {
                    let tag = Array(chars[i...j])
                    current.append(contentsOf: tag)
                    i = j + 1
                    while i < chars.count {
                        if chars[i] == "$" && i + tag.count <= chars.count && Array(chars[i..<(i + tag.count)]) == tag {
                            current.append(contentsOf: tag)
                            i += tag.count
                            break
                        }
                        current.append(chars[i])
                        i += 1
                    }
                    continue
                }
            }
            if c == ";" {
                flush()
                i += 1
                continue
            }
            current.append(c)
            i += 1
        }
        flush()
        return statements
    }

    /// A running client for the duration of `body`.
    static func withClient<T>(
        _ configuration: PostgresClient.Configuration, _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
