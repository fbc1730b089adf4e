import Foundation
import PostgresNIO
import Testing
import TrellisQueue
import TrellisStore
import TrellisTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The platform's worker and scheduler as processes (`trellis-testbed`, built by `swift build --build-tests`: the same
/// services as `trellis-worker` and `trellis-scheduler`, plus a probe job and a clock file) against a
/// fresh database each. One at a time: they time real processes on a small machine.
@Suite("End to end: real worker and scheduler processes", .serialized)
struct EndToEndTests {}

/// The environment of a worker process on `database`, connecting as the application's role.
func workerEnvironment(
    _ database: TestDatabase, queues: String = "default=10", lease: Int = 2, grace: Int = 20
) -> [String: String] {
    [
        "DATABASE_URL": database.appSettings.conninfo,
        "TESTBED_ROLE": "worker",
        "WORKER_QUEUES": queues,
        "WORKER_LEASE_SECONDS": "\(lease)",
        "WORKER_GRACE_SECONDS": "\(grace)",
        "WORKER_POLL_MS": "200",
        "LOG_LEVEL": "info",
        "LOG_FORMAT": "text",
    ]
}

func probeJob(sleepMs: Int, priority: Int = 1) -> NewJob {
    NewJob(kind: "system.probe", args: Data(#"{"sleepMs": \#(sleepMs)}"#.utf8), priority: priority)
}

/// The table the testbed's `system.probe` job records its runs in (production has none).
func createProbeRuns(_ database: TestDatabase) async throws {
    try await database.owner.query("""
        CREATE TABLE probe_runs (job_id bigint NOT NULL, attempt integer NOT NULL, worker text NOT NULL, ran_at timestamptz NOT NULL DEFAULT now())
        """)
    try await database.owner.query("GRANT SELECT, INSERT ON probe_runs TO trellis_app")
}

func countJobs(_ database: TestDatabase, state: String) async throws -> Int {
    try await database.owner.count("SELECT count(*) FROM trellis_jobs WHERE state = \(state)::trellis_job_state")
}

extension EndToEndTests {
    @Test("a worker killed with SIGKILL mid-run loses no job: a new worker rescues and finishes them all")
    func crashWithSIGKILL() async throws {
        try await withTestDatabase(label: "e2e_crash") { database in
            try await createProbeRuns(database)
            try await withChildren { children in
                let total = 3_000
                let queue = JobQueue(client: database.owner, logger: database.logger)
                let jobs = (0..<total).map { _ in probeJob(sleepMs: Int.random(in: 2...5)) }
                for start in stride(from: 0, to: total, by: 1_000) {
                    let results = try await queue.enqueueBatch(Array(jobs[start..<min(start + 1_000, total)]))
                    #expect(results.allSatisfy { !$0.isDuplicate })
                }
                #expect(try await countJobs(database, state: "available") == total)

                // A lease of 2 s: the killed worker's jobs come back within seconds.
                let environment = workerEnvironment(database, queues: "default=10", lease: 2)
                let first = try children.start("worker-1", executable: "trellis-testbed", environment: environment)
                let ranEnough = try await eventually(timeout: .seconds(90), every: .milliseconds(50)) {
                    try await database.owner.count("SELECT count(*) FROM probe_runs") >= total / 5
                }
                try #require(ranEnough, "the first worker did not run \(total / 5) jobs")
                first.send(SIGKILL)
                #expect(try await first.waitForExit(timeout: .seconds(10)))
                let killedAt = ContinuousClock.now
                let completedAtKill = try await countJobs(database, state: "completed")
                let runningAtKill = try await countJobs(database, state: "running")
                #expect(completedAtKill < total, "the worker must be killed mid-run")
                #expect(runningAtKill > 0, "jobs were running when the worker was killed")

                let second = try children.start("worker-2", executable: "trellis-testbed", environment: environment)
                let finished = try await eventually(timeout: .seconds(120), every: .milliseconds(100)) {
                    try await countJobs(database, state: "completed") == total
                }
                let drainSeconds = (ContinuousClock.now - killedAt).secondsValue

                let completed = try await countJobs(database, state: "completed")
                let discarded = try await countJobs(database, state: "discarded")
                let unfinished = try await database.owner.count(
                    "SELECT count(*) FROM trellis_jobs WHERE state <> 'completed'")
                let neverRan = try await database.owner.count("""
                    SELECT count(*) FROM trellis_jobs j
                     WHERE NOT EXISTS (SELECT 1 FROM probe_runs r WHERE r.job_id = j.id)
                    """)
                let ranTwice = try await database.owner.count("""
                    SELECT count(*) FROM (SELECT job_id FROM probe_runs GROUP BY job_id HAVING count(*) > 1) d
                    """)
                // Fencing: a job never runs twice under the same attempt number.
                let sameAttemptTwice = try await database.owner.count("""
                    SELECT count(*) FROM (SELECT 1 FROM probe_runs GROUP BY job_id, attempt HAVING count(*) > 1) d
                    """)
                let rescued = try await database.owner.count("""
                    SELECT count(*) FROM trellis_jobs WHERE errors::text LIKE '%lease expired%'
                    """)
                let lost = total - completed
                print("""
                    crash-test jobs=\(total) completed=\(completed) lost=\(lost) ran_twice=\(ranTwice) \
                    completed_at_kill=\(completedAtKill) running_at_kill=\(runningAtKill) rescued=\(rescued) \
                    finish_after_kill_s=\(String(format: "%.1f", drainSeconds))
                    """)
                #expect(finished, "not every job completed within 120 s of the kill")
                #expect(completed == total)
                #expect(lost == 0)
                #expect(discarded == 0)
                #expect(unfinished == 0)
                #expect(neverRan == 0)
                #expect(sameAttemptTwice == 0)
                #expect(rescued >= 1, "the killed worker's running jobs were rescued through their expired leases")
                #expect(ranTwice <= runningAtKill, "only jobs in flight at the kill may run twice")

                second.send(SIGTERM)
                #expect(try await second.waitForExit(timeout: .seconds(30)))
            }
        }
    }

    @Test("SIGTERM: the worker stops fetching, finishes short jobs, releases long ones and exits within the grace period")
    func gracefulSIGTERM() async throws {
        try await withTestDatabase(label: "e2e_graceful") { database in
            try await createProbeRuns(database)
            try await withChildren { children in
                let queue = JobQueue(client: database.owner, logger: database.logger)
                // Six slots: three short jobs (finish within the grace period), three long ones (do not),
                // and ten more long ones of lower priority that must never start.
                let short = (0..<3).map { _ in probeJob(sleepMs: 1_500, priority: 1) }
                let long = (0..<3).map { _ in probeJob(sleepMs: 120_000, priority: 2) }
                let pending = (0..<10).map { _ in probeJob(sleepMs: 120_000, priority: 3) }
                let ids = try await queue.enqueueBatch(short + long + pending).map(\.jobID)
                let (shortIDs, longIDs, pendingIDs) = (Array(ids[0..<3]), Array(ids[3..<6]), Array(ids[6...]))

                let grace = 3
                let worker = try children.start(
                    "worker", executable: "trellis-testbed",
                    environment: workerEnvironment(database, queues: "default=6", lease: 10, grace: grace))
                let sixRunning = try await eventually(timeout: .seconds(60), every: .milliseconds(10)) {
                    try await countJobs(database, state: "running") == 6
                }
                try #require(sixRunning, "the worker did not start six jobs")
                let signalled = ContinuousClock.now
                worker.send(SIGTERM)
                let exited = try await worker.waitForExit(timeout: .seconds(grace + 15))
                let exitSeconds = (ContinuousClock.now - signalled).secondsValue

                func states(_ ids: [JobID]) async throws -> [String] {
                    var result: [String] = []
                    for try await (state, attempt) in try await database.owner.query(
                        "SELECT state::text, attempt::int8 FROM trellis_jobs WHERE id = ANY(\(ids)) ORDER BY id"
                    ).decode((String, Int64).self) {
                        result.append("\(state)/\(attempt)")
                    }
                    return result
                }
                let shortStates = try await states(shortIDs)
                let longStates = try await states(longIDs)
                let pendingStates = try await states(pendingIDs)
                let running = try await countJobs(database, state: "running")
                print("""
                    graceful-test grace_s=\(grace) exit_s=\(String(format: "%.2f", exitSeconds)) status=\(worker.status) \
                    completed=\(shortStates.filter { $0.hasPrefix("completed") }.count) \
                    released=\(longStates.filter { $0 == "available/0" }.count) \
                    untouched=\(pendingStates.filter { $0 == "available/0" }.count) running=\(running)
                    """)
                #expect(exited)
                #expect(worker.exitedCleanly, "graceful shutdown exits with status 0, got \(worker.status)")
                #expect(exitSeconds < Double(grace) + 4, "exit took \(exitSeconds) s with a \(grace) s grace period")
                #expect(shortStates == ["completed/1", "completed/1", "completed/1"], "short jobs finish within the grace period")
                // Released without consuming an attempt, available at once for another worker.
                #expect(longStates == ["available/0", "available/0", "available/0"])
                #expect(pendingStates == Array(repeating: "available/0", count: 10), "no fetching after SIGTERM")
                #expect(running == 0)
                // The released jobs are not lost: another worker runs them (short now: make them quick).
                try await database.owner.query(
                    #"UPDATE trellis_jobs SET args = '{"sleepMs": 1}' WHERE id = ANY(\#(longIDs + pendingIDs))"#)
                _ = try children.start(
                    "worker-2", executable: "trellis-testbed",
                    environment: workerEnvironment(database, queues: "default=6", lease: 10, grace: grace))
                let allDone = try await eventually(timeout: .seconds(60), every: .milliseconds(50)) {
                    try await countJobs(database, state: "completed") == ids.count
                }
                #expect(allDone, "released and pending jobs complete on the next worker")
            }
        }
    }
}
