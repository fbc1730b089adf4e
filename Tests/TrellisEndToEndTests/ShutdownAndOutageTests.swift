import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TrellisStore
import TrellisTestSupport

/// The real binaries against a PostgreSQL cluster of the test's own, which it may stop and restart: the
/// suite's shared cluster serves every other test at the same time.
@Suite("Shutdown deadlines, database outages and trellis dev", .serialized)
struct ShutdownAndOutageTests {
    typealias Lifecycle = ExecutableLifecycleTests

    /// A cluster in a temporary folder, migrated, with the API's and the worker's roles able to sign in.
    struct OwnCluster {
        let directory: URL
        let port: Int
        var admin: ConnectionSettings { get throws { try ConnectionSettings.parse("postgres://postgres@127.0.0.1:\(port)/trellis?sslmode=disable") } }
        var apiURL: String { "postgres://trellis_api:trellis_api@127.0.0.1:\(port)/trellis?sslmode=disable" }
        var workerURL: String { "postgres://trellis_worker:trellis_worker@127.0.0.1:\(port)/trellis?sslmode=disable" }

        static func start() async throws -> OwnCluster {
            let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("trellis-own-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            chmod(directory.path, 0o755)
            let cluster = OwnCluster(directory: directory, port: Lifecycle.freePort())
            try await cluster.script("start", String(cluster.port), "throwaway")
            let server = try ConnectionSettings.parse("postgres://postgres@127.0.0.1:\(cluster.port)/postgres?sslmode=disable")
            try await runBlocking { try LibPQConnection(conninfo: server.conninfo).execute("CREATE DATABASE trellis") }
            _ = try await MigrationRunner(conninfo: try cluster.admin.conninfo, migrations: Migration.load(directory: ProjectFiles.sqlDirectory)).migrate()
            let admin = try cluster.admin
            try await runBlocking {
                let connection = try LibPQConnection(conninfo: admin.conninfo)
                try connection.execute("ALTER ROLE trellis_api WITH LOGIN PASSWORD 'trellis_api'")
                try connection.execute("ALTER ROLE trellis_worker WITH LOGIN PASSWORD 'trellis_worker'")
            }
            return cluster
        }

        var pgDirectory: String { directory.appendingPathComponent("postgres").path }

        /// posix_spawn and a blocking waitpid on a thread of its own: Foundation's `waitUntilExit` hangs when
        /// called from async code here (and the postmaster must not inherit a pipe).
        func script(_ arguments: String...) async throws {
            let argv = ["/bin/bash", repositoryRoot.appendingPathComponent("deploy/local-postgres.sh").path, arguments[0], pgDirectory]
                + arguments.dropFirst()
            let status = try await runBlocking { () -> Int32 in
                var pid: pid_t = 0
                let cArgs = argv.map { strdup($0) } + [nil]
                defer { cArgs.forEach { free($0) } }
                var actions = posix_spawn_file_actions_t()
                posix_spawn_file_actions_init(&actions)
                defer { posix_spawn_file_actions_destroy(&actions) }
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
                guard posix_spawn(&pid, "/bin/bash", &actions, nil, cArgs, environ) == 0 else { return -1 }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                return (status >> 8) & 0xFF
            }
            guard status == 0 else { throw EndToEndError("local-postgres.sh \(arguments) failed (\(status))") }
        }

        func stop() async throws { try await script("stop") }
        func restart() async throws { try await script("start", String(port), "throwaway") }
        func remove() async {
            try? await stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// A raw TCP connection to the API: what a browser that keeps a connection open, or a slow client, does.
    static func connect(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        return fd
    }

    static func send(_ fd: Int32, _ text: String) { _ = text.withCString { write(fd, $0, strlen($0)) } }

    static func waitReady(_ port: Int) async throws -> Bool {
        for _ in 0..<150 {
            if await Lifecycle.status("http://127.0.0.1:\(port)/readyz") == 200 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func theAPIExitsWithinItsGracePeriodWithIdleAndHalfSentConnectionsOpen() async throws {
        try await withTestDatabase { db in
            let port = Lifecycle.freePort()
            let api = try Lifecycle.start("trellis-api", environment: [
                "DATABASE_URL": db.apiSettings.conninfo, "PORT": "\(port)", "SHUTDOWN_GRACE_SECONDS": "3",
            ])
            defer { if api.process.isRunning { kill(api.process.processIdentifier, SIGKILL) } }
            #expect(try await Self.waitReady(port), "\(api.log)")
            // One keep-alive connection that asked once and then sits idle; one that sends half a request.
            let idle = Self.connect(port: port)
            Self.send(idle, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
            var buffer = [UInt8](repeating: 0, count: 512)
            #expect(read(idle, &buffer, buffer.count) > 0, "the idle connection got its answer")
            let slow = Self.connect(port: port)
            Self.send(slow, "POST /v1/clients HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"na")
            defer { close(idle); close(slow) }
            try await Task.sleep(for: .milliseconds(300))
            kill(api.process.processIdentifier, SIGTERM)
            let took = await Lifecycle.waitForExit(api.process, limit: 12)
            #expect(took != nil, "the API did not exit within 12 s of SIGTERM: \(api.log)")
            #expect((took ?? 99) < 3 + 3 + 2, "grace 3 s + cancellation 3 s")
            #expect(api.process.terminationStatus == 0, "\(api.log)")
        }
    }

    @Test func aDatabaseRestartMidRequestIs503AndTheNextRequestSucceeds() async throws {
        let cluster = try await OwnCluster.start()
        let port = Lifecycle.freePort()
        let api = try Lifecycle.start("trellis-api", environment: ["DATABASE_URL": cluster.apiURL, "PORT": "\(port)"])
        defer { if api.process.isRunning { kill(api.process.processIdentifier, SIGKILL) } }
        #expect(try await Self.waitReady(port), "\(api.log)")
        // The database goes away under the API's open connections: what it answers is 503 with Retry-After, never 500.
        try await cluster.stop()
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/auth/login")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"agency":"nobody","email":"a@b.example","password":"whatever12"}"#.utf8)
        request.timeoutInterval = 30
        let (_, during) = try await URLSession.shared.data(for: request)
        let http = try #require(during as? HTTPURLResponse)
        #expect(http.statusCode == 503, "\(api.log.suffix(2000))")
        #expect(http.value(forHTTPHeaderField: "Retry-After") != nil)
        try await cluster.restart()
        var after: Int?
        for _ in 0..<100 {
            let (_, response) = try await URLSession.shared.data(for: request)
            after = (response as? HTTPURLResponse)?.statusCode
            if after == 401 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(after == 401, "after the restart the request is answered again (unknown agency: 401)")
        kill(api.process.processIdentifier, SIGTERM)
        _ = await Lifecycle.waitForExit(api.process, limit: 15)
        #expect(!api.log.contains("\"status\":\"500\""), "no 500 during the outage")
        await cluster.remove()
    }

    @Test func aWorkerWhoseDatabaseIsGoneStillExitsWithinItsGracePeriod() async throws {
        let cluster = try await OwnCluster.start()
        let worker = try Lifecycle.start("trellis-worker", environment: [
            "DATABASE_URL": cluster.workerURL, "WORKER_GRACE_SECONDS": "2", "WORKER_POLL_MS": "200",
        ])
        defer { if worker.process.isRunning { kill(worker.process.processIdentifier, SIGKILL) } }
        for _ in 0..<100 where !worker.log.contains("started") { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .milliseconds(500))
        try await cluster.stop()
        try await Task.sleep(for: .seconds(1))
        kill(worker.process.processIdentifier, SIGTERM)
        let took = await Lifecycle.waitForExit(worker.process, limit: 20)
        #expect(took != nil, "the worker kept running: \(worker.log.suffix(2000))")
        #expect((took ?? 99) < 2 + 5 + 3 + 2, "grace 2 s, +5 s for the client, +3 s cancellation")
        await cluster.remove()
    }

    /// `trellis dev` with one binary missing: it fails, and it leaves neither PostgreSQL nor the children running.
    @Test func trellisDevStopsEverythingItStartedWhenAChildCannotStart() async throws {
        let data = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("trellis-dev-\(UUID().uuidString.prefix(8))")
        let binaries = data.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: binaries, withIntermediateDirectories: true)
        chmod(data.path, 0o755)
        defer { try? FileManager.default.removeItem(at: data) }
        for name in ["trellis-api", "trellis-worker"] {
            try FileManager.default.createSymbolicLink(at: binaries.appendingPathComponent(name), withDestinationURL: try builtExecutable(name))
        }
        let (apiPort, pgPort) = (Lifecycle.freePort(), Lifecycle.freePort())
        let dev = try Lifecycle.start("trellis", environment: [
            "TRELLIS_DEV_DIR": data.path, "TRELLIS_DEV_BINARIES": binaries.path, "PORT": "\(apiPort)", "TRELLIS_DEV_PG_PORT": "\(pgPort)",
        ], arguments: ["dev"])
        defer { if dev.process.isRunning { kill(dev.process.processIdentifier, SIGKILL) } }
        let took = await Lifecycle.waitForExit(dev.process, limit: 120)
        #expect(took != nil, "\(dev.log)")
        #expect(dev.process.terminationStatus != 0)
        #expect(dev.log.contains("trellis-scheduler"), "\(dev.log)")
        try await Task.sleep(for: .seconds(1))
        #expect(!Self.listening(apiPort), "the API it started is gone")
        #expect(!Self.listening(pgPort), "the PostgreSQL it started is stopped")
        #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("postgres/postmaster.pid").path))
    }

    /// The one-command platform keeps a user's data through a power cut: PostgreSQL's durable settings.
    @Test func trellisDevRunsADurableClusterAndStopsCleanly() async throws {
        let data = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("trellis-dev-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        chmod(data.path, 0o755)
        defer { try? FileManager.default.removeItem(at: data) }
        let (apiPort, pgPort) = (Lifecycle.freePort(), Lifecycle.freePort())
        let dev = try Lifecycle.start("trellis", environment: [
            "TRELLIS_DEV_DIR": data.path, "TRELLIS_DEV_BINARIES": try builtExecutable("trellis").deletingLastPathComponent().path,
            "PORT": "\(apiPort)", "TRELLIS_DEV_PG_PORT": "\(pgPort)",
        ], arguments: ["dev"])
        defer { if dev.process.isRunning { kill(dev.process.processIdentifier, SIGKILL) } }
        for _ in 0..<600 where !dev.log.contains("Trellis is running") && dev.process.isRunning { try await Task.sleep(for: .milliseconds(200)) }
        #expect(dev.log.contains("Trellis is running"), "\(dev.log)")
        let settings = try ConnectionSettings.parse("postgres://postgres@127.0.0.1:\(pgPort)/trellis?sslmode=disable")
        let rows = try await runBlocking { try LibPQConnection(conninfo: settings.conninfo).execute("SHOW fsync; ") }
        #expect(rows.first?.first == "on")
        let more = try await runBlocking {
            try LibPQConnection(conninfo: settings.conninfo).execute("SELECT current_setting('synchronous_commit'), current_setting('full_page_writes')")
        }
        #expect(more.first == ["on", "on"])
        #expect(dev.log.contains(data.appendingPathComponent("postgres").path), "it says where the data lives")
        kill(dev.process.processIdentifier, SIGINT)
        let took = await Lifecycle.waitForExit(dev.process, limit: 60)
        #expect(took != nil)
        #expect(dev.process.terminationStatus == 0, "\(dev.log)")
        #expect(!Self.listening(apiPort))
        #expect(!Self.listening(pgPort))
    }

    static func listening(_ port: Int) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
