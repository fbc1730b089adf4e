import Foundation
import PostgresNIO
import Synchronization
import TrellisTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The repository root, found from this file's path (Tests/TrellisEndToEndTests/ChildProcesses.swift).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A built executable of this package. `swift build --build-tests` (what deploy/test.sh runs) builds every
/// product, so the debug binaries are there and current when the tests run. `TRELLIS_BIN_DIR` overrides.
func builtExecutable(_ name: String) throws -> URL {
    let directory = ProcessInfo.processInfo.environment["TRELLIS_BIN_DIR"].map { URL(fileURLWithPath: $0) }
        ?? repositoryRoot.appendingPathComponent(".build/debug")
    let url = directory.appendingPathComponent(name)
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        throw EndToEndError("\(url.path) is missing: build it with `swift build --build-tests` (deploy/test.sh does)")
    }
    return url
}

struct EndToEndError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A real child process (a worker, a scheduler) with its output in a log file.
final class ChildProcess: @unchecked Sendable {
    let name: String
    let logURL: URL
    private let process = Process()
    private let log: FileHandle
    let pid: Int32

    init(name: String, executable: URL, environment: [String: String], logDirectory: URL) throws {
        self.name = name
        logURL = logDirectory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        log = try FileHandle(forWritingTo: logURL)
        process.executableURL = executable
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        pid = process.processIdentifier
    }

    var isRunning: Bool { process.isRunning }

    /// Sends `signal` if the process still runs.
    func send(_ signal: Int32) {
        if process.isRunning { kill(pid, signal) }
    }

    /// Waits up to `timeout` for the process to exit; true if it did.
    func waitForExit(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// "exit 0", "signal 9", or "running".
    var status: String {
        if process.isRunning { return "running" }
        switch process.terminationReason {
        case .exit: return "exit \(process.terminationStatus)"
        case .uncaughtSignal: return "signal \(process.terminationStatus)"
        @unknown default: return "ended \(process.terminationStatus)"
        }
    }

    var exitedCleanly: Bool { !process.isRunning && process.terminationReason == .exit && process.terminationStatus == 0 }

    /// Kills the process (SIGKILL) and reaps it.
    func killAndReap() {
        if process.isRunning {
            kill(pid, SIGKILL)
            // Not `waitUntilExit`: called from several tests at once it was seen to hang the whole test process (its
            // run loop); `isRunning` is kept by Foundation's own monitoring thread. SIGKILL ends it within milliseconds.
            for _ in 0..<5_000 where process.isRunning { usleep(2_000) }
        }
        try? log.close()
    }

    func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// The child processes of one test: every one still running is SIGKILLed when the test ends, passing or
/// failing; on failure their logs' last lines are printed.
final class Children: Sendable {
    private let started = Mutex<[ChildProcess]>([])
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func start(_ name: String, executable: String, environment: [String: String]) throws -> ChildProcess {
        let child = try ChildProcess(
            name: name, executable: try builtExecutable(executable), environment: environment, logDirectory: directory)
        started.withLock { $0.append(child) }
        return child
    }

    var all: [ChildProcess] { started.withLock { $0 } }

    func killAll() {
        for child in all { child.killAndReap() }
    }

    func printLogs() {
        for child in all {
            print("── \(child.name) (pid \(child.pid), \(child.status)) log tail:\n\(child.logTail())")
        }
    }
}

/// Runs `body` with a set of child processes that are killed however `body` ends.
func withChildren<T: Sendable>(_ body: (Children) async throws -> T) async throws -> T {
    let children = try Children()
    do {
        let result = try await body(children)
        children.killAll()
        try? FileManager.default.removeItem(at: children.directory)
        return result
    } catch {
        children.killAll()
        children.printLogs()
        throw error
    }
}

extension PostgresClient {
    /// The single integer a counting query returns.
    func count(_ query: PostgresQuery) async throws -> Int {
        for try await value in try await self.query(query).decode(Int64.self) { return Int(value) }
        return 0
    }
}

extension Duration {
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
