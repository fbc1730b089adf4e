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
        let clusterDirectory = root.appendingPathComponent(".trellis/postgres").path
        let script = root.appendingPathComponent("deploy/local-postgres.sh").path

        say("▸ starting PostgreSQL in \(clusterDirectory) on port \(pgPort)")
        try await runTool("/bin/bash", [script, "start", clusterDirectory, String(pgPort)])

        let server = try ConnectionSettings.parse("postgres://postgres@127.0.0.1:\(pgPort)/postgres?sslmode=disable")
        let owner = server.with(database: "trellis")
        let app = owner.with(user: "trellis_app", password: "trellis_app")
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
            // Local only: the application's role signs in with a known password over loopback.
            let connection = try LibPQConnection(conninfo: owner.conninfo)
            try connection.execute("ALTER ROLE trellis_app WITH LOGIN PASSWORD 'trellis_app'")
        }

        say("▸ seeding the demo agency")
        let token = try await withClient(owner) { database in
            _ = try await DemoData.seed(database: database, today: .today)
            return try await AgencyProvisioning.createToken(
                database: database, agencySlug: DemoData.agencySlug, email: DemoData.ownerEmail, name: "trellis dev")
        }

        let binaries = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = "postgres://trellis_app:trellis_app@127.0.0.1:\(pgPort)/trellis?sslmode=disable"
        environment["PORT"] = String(apiPort)
        environment["TRELLIS_HOME"] = root.path
        environment["LOG_FORMAT"] = environment["LOG_FORMAT"] ?? "json"
        var children: [(String, Process)] = []
        for name in ["trellis-api", "trellis-worker", "trellis-scheduler"] {
            let process = Process()
            process.executableURL = binaries.appendingPathComponent(name)
            process.environment = environment
            try process.run()
            children.append((name, process))
        }
        let url = "http://127.0.0.1:\(apiPort)"
        try await waitUntilReady(url + "/readyz")
        say("""

        Trellis is running.
          API        \(url)   (contract: \(url)/openapi.yaml)
          API token  \(token)
          try        curl -H 'Authorization: Bearer \(token)' \(url)/v1/clients
          sign in    POST \(url)/v1/auth/login  {"agency":"\(DemoData.agencySlug)","email":"\(DemoData.ownerEmail)","password":"\(DemoData.password)"}
          database   psql 'postgres://postgres@127.0.0.1:\(pgPort)/trellis'
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
        var exited: String?
        while !stop.isSet {
            if let dead = children.first(where: { !$0.1.isRunning }) {
                exited = dead.0
                break
            }
            try? await Task.sleep(for: .milliseconds(300))
        }
        watcher.cancel()
        if let exited { say("▸ \(exited) exited; stopping the rest") } else { say("\n▸ stopping") }
        for (_, process) in children where process.isRunning { process.terminate() }
        for (name, process) in children {
            let deadline = Date().addingTimeInterval(15)
            while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
            if process.isRunning {
                say("  \(name) did not stop in 15 s; killing it")
                kill(process.processIdentifier, SIGKILL)
            }
        }
        try await runTool("/bin/bash", [script, "stop", clusterDirectory])
        say("▸ stopped")
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

    func waitUntilReady(_ url: String) async throws {
        for _ in 0..<100 {
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
