import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization
import PostgresNIO
import Testing
import TrellisStore
import TrellisTestSupport

/// Several hosts in DATABASE_URL with target_session_attrs, as libpq follows them: two real PostgreSQL clusters of
/// their own (started here with deploy/local-postgres.sh); "read-only" is a server whose default_transaction_read_only
/// is on, which is what libpq checks for read-write, as it is on a standby.
@Suite("Several hosts in DATABASE_URL", .serialized)
struct MultiHostTests {
    struct Cluster {
        var directory: URL
        var port: Int

        static func start() async throws -> Cluster {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-multihost-\(UUID().uuidString.prefix(8))")
            let port = Int.random(in: 41_000...59_000)
            try await Self.script(["start", directory.path, String(port), "throwaway"])
            return Cluster(directory: directory, port: port)
        }

        func stop() async {
            try? await Self.script(["stop", directory.path])
            // Whatever the script managed, the postmaster goes (SIGQUIT: immediate shutdown) before its folder does.
            if let text = try? String(contentsOf: directory.appendingPathComponent("postmaster.pid"), encoding: .utf8),
               let pid = text.split(separator: "\n").first.flatMap({ pid_t(String($0)) }) {
                kill(pid, SIGQUIT)
                for _ in 0..<50 where kill(pid, 0) == 0 { try? await Task.sleep(for: .milliseconds(100)) }
            }
            try? FileManager.default.removeItem(at: directory)
            try? FileManager.default.removeItem(atPath: directory.path + ".initdb.log")
        }

        /// The server goes away (its postmaster stops; its sessions end).
        func crash() async throws { try await Self.script(["stop", directory.path]) }

        func readOnly(_ on: Bool) throws {
            let admin = try LibPQConnection(conninfo: "host=127.0.0.1 port=\(port) user=postgres dbname=postgres sslmode=disable")
            try admin.execute("ALTER SYSTEM SET default_transaction_read_only = \(on ? "on" : "off")")
            try admin.execute("SELECT pg_reload_conf()")
        }

        /// Runs deploy/local-postgres.sh with libc's system(): Foundation's Process waits for an end-of-file on a pipe
        /// that the started postmaster inherits and keeps open, so it never sees the script finish.
        static func script(_ arguments: [String]) async throws {
            let command = ([ProjectFiles.root().appendingPathComponent("deploy/local-postgres.sh").path] + arguments)
                .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            let status = system("/bin/bash " + command + " </dev/null >/dev/null 2>&1")
            if status != 0 { throw SessionRouterError(message: "local-postgres.sh \(arguments.joined(separator: " ")) failed") }
        }
    }

    /// Runs `body` with a client on `url` (through the router when the URL asks for it).
    func withClient(_ url: String, _ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        var logger = Logger(label: "multihost-test")
        logger.logLevel = .critical
        let settings = try ConnectionSettings.parse(url, environment: [:])
        #expect(settings.needsHostSelection)
        let client = try settings.makeClient(maximumConnections: 2, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }

    /// The port of the server a fresh query reaches, retried while sessions move (a closed session fails a query).
    static func serverPort(_ client: PostgresClient, until wanted: Int? = nil, within seconds: Double = 30) async throws -> Int? {
        let deadline = Date().addingTimeInterval(seconds)
        var last: Int?
        repeat {
            if let port = await port(of: client, within: 5) {
                last = port
                if wanted == nil || port == wanted { return port }
            }
            try await Task.sleep(for: .milliseconds(200))
        } while Date() < deadline
        return last
    }

    /// One query that is given up after `seconds`, whether or not it heeds cancellation: a PostgresClient waits for a
    /// connection without limit while its attempts fail (postgres-nio #489), and one CI run (2026-12-02) waited here
    /// for good. The test must fail with its message, never hang the suite.
    static func port(of client: PostgresClient, within seconds: Double) async -> Int? {
        final class Answer: Sendable {
            let continuation = Mutex<CheckedContinuation<Int?, Never>?>(nil)
            func give(_ port: Int?) { continuation.withLock { $0.take() }?.resume(returning: port) }
        }
        let answer = Answer()
        return await withCheckedContinuation { continuation in
            answer.continuation.withLock { $0 = continuation }
            let query = Task { answer.give(try? await client.query("SELECT inet_server_port()").collect().first?.decode(Int.self)) }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                query.cancel()
                answer.give(nil)
            }
        }
    }

    /// One server of its own (B) beside a database of the shared test cluster (A): a database whose
    /// default_transaction_read_only is on looks read-only to libpq, as a standby does, without a second cluster.
    @Test func theFirstReadWriteHostIsChosenAReadOnlyOneSkippedAndSessionsFollowASwitchAndAFailover() async throws {
        let admin = try TestDatabases.shared.adminSettings
        let b = try await Cluster.start()
        let name = "multihost_\(UUID().uuidString.prefix(8).lowercased())"
        let adminA = try LibPQConnection(conninfo: admin.conninfo)
        let adminB = try LibPQConnection(conninfo: "host=127.0.0.1 port=\(b.port) user=postgres dbname=postgres sslmode=disable")
        for server in [adminA, adminB] {
            try server.execute("CREATE DATABASE \(name)")
        }
        let adminConninfo = admin.conninfo
        // A fresh connection each time: the closure crosses tasks, a libpq connection may not.
        let readOnlyA: @Sendable (Bool) throws -> Void = { on in
            try LibPQConnection(conninfo: adminConninfo).execute(
                on ? "ALTER DATABASE \(name) SET default_transaction_read_only = on" : "ALTER DATABASE \(name) RESET default_transaction_read_only")
        }
        do {
            try await scenario(a: admin.hosts[0], b: b, database: name, user: admin.user, readOnlyA: readOnlyA)
        } catch {
            await b.stop()
            _ = try? adminA.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
        await b.stop()
        _ = try? adminA.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    func scenario(a: ConnectionSettings.HostPort, b: Cluster, database: String, user: String, readOnlyA: @Sendable (Bool) throws -> Void) async throws {
        let url = "postgresql://\(user)@127.0.0.1:\(a.port),127.0.0.1:\(b.port)/\(database)?sslmode=disable&target_session_attrs=read-write&connect_timeout=2"
        // Both take writes: the first host.
        try await withClient(url) { client in
            let port = try await Self.serverPort(client)
            #expect(port == a.port, "both accept writes: the first host")
        }
        // The first is read-only: skipped, and writes land on the second.
        try readOnlyA(true)
        try await withClient(url) { client in
            let port = try await Self.serverPort(client)
            #expect(port == b.port, "the first host is read-only: skipped")
            _ = try await client.query("CREATE TABLE IF NOT EXISTS written (n int)").collect()
            _ = try await client.query("INSERT INTO written VALUES (1)").collect()
        }
        // With `any`, the read-only first host is fine.
        try await withClient("postgresql://\(user)@127.0.0.1:\(a.port),127.0.0.1:\(b.port)/\(database)?sslmode=disable") { client in
            let port = try await Self.serverPort(client)
            #expect(port == a.port)
        }
        // One client through a switchover and a failover, without a restart.
        try await withClient(url) { client in
            let first = try await Self.serverPort(client)
            #expect(first == b.port)
            let switched = Date()
            try b.readOnly(true)
            try readOnlyA(false)
            let moved = try await Self.serverPort(client, until: a.port)
            #expect(moved == a.port, "sessions moved to the server that takes writes now")
            let afterSwitchover = Date().timeIntervalSince(switched)
            try b.readOnly(false)
            try readOnlyA(true)
            let back = try await Self.serverPort(client, until: b.port)
            #expect(back == b.port)
            // The server goes away; the other one takes writes again.
            let crashed = Date()
            try readOnlyA(false)
            try await b.crash()
            let failedOver = try await Self.serverPort(client, until: a.port)
            #expect(failedOver == a.port, "sessions moved after the server went away")
            let afterCrash = Date().timeIntervalSince(crashed)
            print("multihost switchover_s=\(String(format: "%.1f", afterSwitchover)) server_gone_s=\(String(format: "%.1f", afterCrash))")
        }
    }
}
