import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TrellisQueue
import TrellisStore
import TrellisTestSupport

/// The real binaries, as an operator runs them.
@Suite("Executables start, log and stop cleanly")
struct ExecutableLifecycleTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Running {
        let process: Process
        let output: URL
        var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
    }

    static func start(_ name: String, environment extra: [String: String], arguments: [String] = []) throws -> Running {
        let process = Process()
        process.executableURL = repo.appendingPathComponent(".build/debug/\(name)")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TRELLIS_HOME"] = repo.path
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return Running(process: process, output: output)
    }

    /// A port below Linux's ephemeral range (32768–60999), where the suite's own client connections cannot
    /// take it, that nothing listens on right now.
    static func freePort() -> Int {
        for _ in 0..<50 {
            let port = Int.random(in: 20_000...32_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return port }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
        return Int.random(in: 20_000...32_000)
    }

    static func status(_ url: String) async -> Int? {
        guard let url = URL(string: url), let (_, response) = try? await URLSession.shared.data(from: url) else { return nil }
        return (response as? HTTPURLResponse)?.statusCode
    }

    /// Waits for the process to exit; returns the seconds it took, or nil (and kills it) past `limit`.
    static func waitForExit(_ process: Process, limit: Double) async -> Double? {
        let start = Date()
        while process.isRunning {
            if Date().timeIntervalSince(start) > limit {
                kill(process.processIdentifier, SIGKILL)
                return nil
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return Date().timeIntervalSince(start)
    }

    @Test func theAPIServesLogsJSONWithRequestIdsAndStopsOnSIGTERM() async throws {
        try await withTestDatabase { db in
            let port = Self.freePort()
            let api = try Self.start("trellis-api", environment: ["DATABASE_URL": db.appSettings.conninfo, "PORT": "\(port)"])
            defer { if api.process.isRunning { kill(api.process.processIdentifier, SIGKILL) } }
            var ready: Int?
            for _ in 0..<100 where ready != 200 {
                ready = await Self.status("http://127.0.0.1:\(port)/readyz")
                if ready != 200 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(ready == 200, "\(api.log)")
            #expect(await Self.status("http://127.0.0.1:\(port)/v1/clients") == 401)
            kill(api.process.processIdentifier, SIGTERM)
            let took = await Self.waitForExit(api.process, limit: 15)
            #expect(took != nil, "did not stop within 15 s of SIGTERM")
            #expect(api.process.terminationStatus == 0)
            // Every line is a JSON object; request lines carry their id.
            let lines = api.log.split(separator: "\n").filter { $0.hasPrefix("{") }
            #expect(!lines.isEmpty)
            let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == lines.count)
            let requests = objects.filter { $0["msg"] as? String == "request" }
            #expect(requests.contains { $0["route"] as? String == "/v1/clients" && $0["status"] as? String == "401" })
            #expect(!requests.contains { $0["path"] != nil }, "paths (which can carry feed secrets) are not logged")
            #expect(requests.allSatisfy { ($0["request_id"] as? String)?.isEmpty == false })
        }
    }

    @Test func readyzIsNotReadyWhileMigrationsArePending() async throws {
        let admin = try TestDatabases.shared.adminSettings
        let name = "lifecycle_\(UUID().uuidString.prefix(8).lowercased())"
        try await runBlocking { try LibPQConnection(conninfo: admin.conninfo).execute("CREATE DATABASE \(name)") }
        defer { Task { try? await TestDatabases.shared.drop(name) } }
        let port = Self.freePort()
        let app = admin.with(database: name).with(user: TestDatabases.appRole, password: TestDatabases.appPassword)
        let api = try Self.start("trellis-api", environment: ["DATABASE_URL": app.conninfo, "PORT": "\(port)"])
        defer { if api.process.isRunning { kill(api.process.processIdentifier, SIGKILL) } }
        var health: Int?
        for _ in 0..<100 where health != 200 {
            health = await Self.status("http://127.0.0.1:\(port)/healthz")
            if health != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(health == 200)
        #expect(await Self.status("http://127.0.0.1:\(port)/readyz") == 503)
        _ = try await MigrationRunner(conninfo: admin.with(database: name).conninfo, migrations: Migration.load(directory: ProjectFiles.sqlDirectory)).migrate()
        #expect(await Self.status("http://127.0.0.1:\(port)/readyz") == 200)
        kill(api.process.processIdentifier, SIGTERM)
        _ = await Self.waitForExit(api.process, limit: 15)
    }

    @Test(arguments: ["trellis-api", "trellis-worker", "trellis-scheduler", "trellis"])
    func aBadConnectionStringIsRefusedWithLibpqsMessage(executable: String) async throws {
        let process = try Self.start(
            executable, environment: ["DATABASE_URL": "host=db port", "PORT": "\(Self.freePort())"],
            arguments: executable == "trellis" ? ["migrate"] : [])
        let took = await Self.waitForExit(process.process, limit: 20)
        #expect(took != nil)
        #expect(process.process.terminationStatus != 0)
        #expect(process.log.contains("missing \"=\" after \"port\""), "\(process.log)")
    }

    /// Row-level security binds neither a superuser nor a table owner: the services refuse to run as either.
    @Test(arguments: ["trellis-api", "trellis-worker", "trellis-scheduler"])
    func theServicesRefuseToStartAsASuperuser(executable: String) async throws {
        try await withTestDatabase { db in
            let process = try Self.start(executable, environment: ["DATABASE_URL": db.ownerSettings.conninfo, "PORT": "\(Self.freePort())"])
            let took = await Self.waitForExit(process.process, limit: 20)
            #expect(took != nil, "\(executable) kept running as a superuser")
            #expect(process.process.terminationStatus != 0)
            #expect(process.log.contains("is a superuser"), "\(process.log)")
        }
    }

    /// The worker's own counters live in the worker, so it serves them: `/metrics` on `WORKER_METRICS_PORT`, behind
    /// `METRICS_TOKEN` as the API's is; without a token it refuses to start rather than serve them to anyone.
    @Test func theWorkerServesItsOwnMetricsBehindTheToken() async throws {
        try await withTestDatabase { db in
            let refused = try Self.start("trellis-worker", environment: [
                "DATABASE_URL": db.appSettings.conninfo, "WORKER_METRICS_PORT": "\(Self.freePort())", "METRICS_TOKEN": "",
            ])
            #expect(await Self.waitForExit(refused.process, limit: 20) != nil)
            #expect(refused.process.terminationStatus != 0)
            #expect(refused.log.contains("WORKER_METRICS_PORT needs METRICS_TOKEN"), "\(refused.log)")

            let port = Self.freePort()
            let running = try Self.start("trellis-worker", environment: [
                "DATABASE_URL": db.appSettings.conninfo, "WORKER_METRICS_PORT": "\(port)", "METRICS_TOKEN": "scrape-me",
                "WORKER_QUEUES": "default=10",
            ])
            defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
            for _ in 0..<100 where !running.log.contains("started") { try await Task.sleep(for: .milliseconds(100)) }
            _ = try await JobQueue(client: db.owner, logger: db.logger).enqueueBatch((0..<25).map { _ in NewJob(kind: "system.noop") })
            func scrape(_ token: String?) async -> (status: Int?, body: String) {
                guard let url = URL(string: "http://127.0.0.1:\(port)/metrics") else { return (nil, "") }
                var request = URLRequest(url: url)
                if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
                guard let (data, response) = try? await URLSession.shared.data(for: request) else { return (nil, "") }
                return ((response as? HTTPURLResponse)?.statusCode, String(decoding: data, as: UTF8.self))
            }
            func completed(_ body: String) -> Double? {
                body.split(separator: "\n").first { $0.hasPrefix("trellis_jobs_completed_total{") && $0.contains(#"kind="system.noop""#) }
                    .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
            }
            let counted = try await eventually(timeout: .seconds(30), every: .milliseconds(100)) { completed(await scrape("scrape-me").body) == 25 }
            let scraped = await scrape("scrape-me")
            #expect(counted, "\(scraped.body.prefix(3000)) \(running.log.suffix(2000))")
            #expect(scraped.status == 200)
            #expect(scraped.body.contains("trellis_job_duration_seconds"))
            #expect(await scrape(nil).status == 401)
            #expect(await scrape("wrong").status == 401)
            kill(running.process.processIdentifier, SIGTERM)
            #expect(await Self.waitForExit(running.process, limit: 25) != nil, "\(running.log)")
            #expect(running.process.terminationStatus == 0, "\(running.log)")
        }
    }

    @Test(arguments: ["trellis-worker", "trellis-scheduler"])
    func workerAndSchedulerStopOnSIGTERM(executable: String) async throws {
        try await withTestDatabase { db in
            let running = try Self.start(executable, environment: ["DATABASE_URL": db.appSettings.conninfo])
            defer { if running.process.isRunning { kill(running.process.processIdentifier, SIGKILL) } }
            for _ in 0..<100 where !running.log.contains("started") { try await Task.sleep(for: .milliseconds(100)) }
            try await Task.sleep(for: .milliseconds(500))
            kill(running.process.processIdentifier, SIGTERM)
            let took = await Self.waitForExit(running.process, limit: 25)
            #expect(took != nil, "\(executable) did not stop within 25 s: \(running.log)")
            #expect(running.process.terminationStatus == 0, "\(running.log)")
        }
    }
}
