import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import TrellisBootstrap
import TrellisStore
import Synchronization
import UnixSignals

/// `trellis dev`: the whole platform on this machine. An embedded PostgreSQL under `.trellis/` of the
/// checkout, migrated and seeded, with API, worker and scheduler as child processes; Ctrl-C stops all.
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the platform locally (what the README's first command runs).")

    @Option(help: "API port (env: PORT)") var port: Int?
    @Option(help: "embedded PostgreSQL port (env: TRELLIS_DEV_PG_PORT)") var postgresPort: Int?

    func run() async throws {
        LogSetup.bootstrap(level: .warning, format: "text")
        let root = ProjectFiles.root()
        let apiPort = try setting(port, env: "PORT", default: 8080)
        let pgPort = try setting(postgresPort, env: "TRELLIS_DEV_PG_PORT", default: 54329)
        // The data folder (kept across runs) and where the three services' binaries are: both overridable, for tests.
        let dataDirectory = ProcessInfo.processInfo.environment["TRELLIS_DEV_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? root.appendingPathComponent(".trellis").path
        let clusterDirectory = URL(fileURLWithPath: dataDirectory).appendingPathComponent("postgres").path
        let script = root.appendingPathComponent("deploy/local-postgres.sh").path
        let binaries = ProcessInfo.processInfo.environment["TRELLIS_DEV_BINARIES"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

        say("▸ starting PostgreSQL in \(clusterDirectory) on port \(pgPort) (durable: fsync and synchronous commit on)")
        try await runTool("/bin/bash", [script, "start", clusterDirectory, String(pgPort), "durable"])
        // From here on, whatever happens, everything started is stopped again: children first, then PostgreSQL.
        var children: [(String, Process)] = []
        do {
            try await startAndSupervise(
                clusterDirectory: clusterDirectory, dataDirectory: dataDirectory, pgPort: pgPort, apiPort: apiPort, binaries: binaries,
                children: &children)
        } catch {
            say("▸ \(error); stopping everything that was started")
            await stop(children)
            try? await runTool("/bin/bash", [script, "stop", clusterDirectory])
            throw error
        }
        await stop(children)
        try await runTool("/bin/bash", [script, "stop", clusterDirectory])
        say("▸ stopped; the data stays in \(clusterDirectory) for the next run")
    }

    func startAndSupervise(
        clusterDirectory: String, dataDirectory: String, pgPort: Int, apiPort: Int, binaries: URL, children: inout [(String, Process)]
    ) async throws {
        let server = try ConnectionSettings.parse("postgres://postgres@127.0.0.1:\(pgPort)/postgres?sslmode=disable")
        let owner = server.with(database: "trellis")
        try await runBlocking {
            let connection = try LibPQConnection(conninfo: server.conninfo)
            if try connection.execute("SELECT 1 FROM pg_database WHERE datname = 'trellis'").isEmpty {
                try connection.execute("CREATE DATABASE trellis")
            }
        }
        say("▸ migrating")
        let applied = try await MigrationRunner(conninfo: owner.conninfo, migrations: Migration.load(directory: ProjectFiles.sqlDirectory)).migrate()
        say("  \(applied.isEmpty ? "nothing pending" : "applied " + applied.joined(separator: ", "))")
        try await runBlocking {
            // Local only: the services sign in with known passwords over loopback, each as its own role
            // (the API as trellis_api, the worker and the scheduler as trellis_worker; neither bypasses RLS).
            let connection = try LibPQConnection(conninfo: owner.conninfo)
            try connection.execute("ALTER ROLE trellis_api WITH LOGIN PASSWORD 'trellis_api'")
            try connection.execute("ALTER ROLE trellis_worker WITH LOGIN PASSWORD 'trellis_worker'")
        }

        say("▸ seeding the demo agency")
        let token = try await withClient(owner) { database in
            _ = try await DemoData.seed(database: database, today: .today)
            return try await AgencyProvisioning.createToken(
                database: database, agencySlug: DemoData.agencySlug, email: DemoData.ownerEmail, name: "trellis dev")
        }

        var environment = ProcessInfo.processInfo.environment
        environment["PORT"] = String(apiPort)
        environment["TRELLIS_HOME"] = ProjectFiles.root().path
        environment["LOG_FORMAT"] = environment["LOG_FORMAT"] ?? "json"
        // Plain http on loopback: cookies without Secure, and webhooks may go to a receiver on this machine.
        environment["TRELLIS_LOCAL_DEV"] = "true"
        environment["PUBLIC_BASE_URL"] = environment["PUBLIC_BASE_URL"] ?? "http://127.0.0.1:\(apiPort)"
        for name in ["trellis-api", "trellis-worker", "trellis-scheduler"] {
            let role = name == "trellis-api" ? "trellis_api" : "trellis_worker"
            environment["DATABASE_URL"] = "postgres://\(role):\(role)@127.0.0.1:\(pgPort)/trellis?sslmode=disable"
            let process = Process()
            process.executableURL = binaries.appendingPathComponent(name)
            process.environment = environment
            do {
                try process.run()
            } catch {
                throw ValidationError("cannot start \(process.executableURL?.path ?? name): \(error.localizedDescription)")
            }
            children.append((name, process))
        }
        let url = "http://127.0.0.1:\(apiPort)"
        try await waitUntilReady(url + "/readyz", children: children)
        say("""

        Trellis is running.
          API        \(url)   (contract: \(url)/openapi.yaml)
          API token  \(token)
          try        curl -H 'Authorization: Bearer \(token)' \(url)/v1/clients
          web app    \(url)/  (workspace \(DemoData.agencySlug), \(DemoData.ownerEmail), password \(DemoData.password))
          sign in    POST \(url)/v1/auth/login  {"agency":"\(DemoData.agencySlug)","email":"\(DemoData.ownerEmail)","password":"\(DemoData.password)"}
          database   psql 'postgres://postgres@127.0.0.1:\(pgPort)/trellis'
          data       \(clusterDirectory) (kept across runs; delete the folder to start over)
        Ctrl-C stops API, worker, scheduler and PostgreSQL.

        """)

        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let stop = StopFlag()
        let watcher = Task {
            for await _ in signals {
                stop.set()
                return
            }
        }
        defer { watcher.cancel() }
        while !stop.isSet {
            if let dead = children.first(where: { !$0.1.isRunning }) {
                throw ValidationError("\(dead.0) exited (status \(dead.1.terminationStatus))")
            }
            try? await Task.sleep(for: .milliseconds(300))
        }
        say("\n▸ stopping")
    }

    /// SIGTERM to every child still running; SIGKILL to any that outlives its grace period.
    func stop(_ children: [(String, Process)]) async {
        for (_, process) in children where process.isRunning { process.terminate() }
        for (name, process) in children {
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning {
                say("  \(name) did not stop in 30 s; killing it")
                kill(process.processIdentifier, SIGKILL)
            }
        }
    }

    /// Runs a tool to completion. posix_spawn and a blocking waitpid on a thread of its own:
    /// Foundation's `Process.waitUntilExit` was seen to hang here when called from async code.
    func runTool(_ path: String, _ arguments: [String]) async throws {
        let status = try await runBlocking { () throws -> Int32 in
            var pid: pid_t = 0
            let argv = ([path] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            let spawned = posix_spawn(&pid, path, nil, nil, argv, environ)
            guard spawned == 0 else { throw ValidationError("cannot start \(path): error \(spawned)") }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            return (status >> 8) & 0xFF
        }
        guard status == 0 else { throw ValidationError("\(arguments.first ?? path) failed (exit \(status))") }
    }

    func waitUntilReady(_ url: String, children: [(String, Process)]) async throws {
        for _ in 0..<150 {
            if let dead = children.first(where: { !$0.1.isRunning }) {
                throw ValidationError("\(dead.0) exited (status \(dead.1.terminationStatus)) before the API was ready")
            }
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: url)!),
               (response as? HTTPURLResponse)?.statusCode == 200 { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ValidationError("the API did not become ready at \(url)")
    }
}

/// Set once by the signal watcher, read by the loop that supervises the children.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// Unbuffered, so the banner shows at once even when the output goes to a file.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
