import ArgumentParser
import Foundation
import PostgresNIO
import TrellisBootstrap
import TrellisJobs
import TrellisQueue
import TrellisStore

/// `trellis bench queue …`: the job queue's figures against a real PostgreSQL (`DATABASE_URL`, a role that
/// may ANALYZE `trellis_jobs`). Benchmarks/queue runs them around one `trellis-worker` process:
/// `enqueue` (queue paused) → start the worker → `drain` (resumes the queue) → `pickup` (worker idle).
/// Each prints one key=value line.
struct BenchQueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Job queue benchmarks against DATABASE_URL (run through Benchmarks/queue).",
        subcommands: [Enqueue.self, Drain.self, Pickup.self, CeilingScript.self])

    /// The no-op job every benchmark enqueues (`system.noop`: its handler returns at once).
    static func noopJob(queue: String) -> NewJob {
        NewJob(kind: NoopJob.kind, queue: queue)
    }

    struct Enqueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause QUEUE, then enqueue COUNT no-op jobs: SINGLE of them one per transaction, the rest in batches (one statement each). Prints `queue-enqueue enqueue_batch_per_s=… enqueue_single_per_s=…`.")

        @OptionGroup var common: CommonOptions
        @Option(help: "jobs left queued in total") var count: Int = 100_000
        @Option(help: "how many of them are enqueued one at a time, one transaction each") var single: Int = 5_000
        @Option(help: "jobs per batch statement") var batch: Int = 1_000
        @Option(help: "the queue (paused until `drain` resumes it)") var queue: String = "bench"

        func run() async throws {
            try common.bootstrapLogging()
            guard count >= single, single >= 0, batch > 0 else { throw ValidationError("need count >= single >= 0 and batch > 0") }
            let (count, single, batch, queueName) = (self.count, self.single, self.batch, self.queue)
            let line = try await withClient(common) { database in
                let queue = JobQueue(client: database.client, logger: database.logger)
                try await queue.pause(queue: queueName)
                let job = BenchQueue.noopJob(queue: queueName)
                let clock = ContinuousClock()

                let singleElapsed = try await clock.measure {
                    for _ in 0..<single { try await queue.enqueue(job) }
                }
                let batched = count - single
                let jobs = Array(repeating: job, count: batch)
                let batchElapsed = try await clock.measure {
                    var left = batched
                    while left > 0 {
                        let n = min(batch, left)
                        _ = try await queue.enqueueBatch(n == batch ? jobs : Array(jobs.prefix(n)))
                        left -= n
                    }
                }
                let queued = try await queue.stats().count(queue: queueName, state: .available)
                guard queued >= count else { throw ValidationError("expected \(count) available jobs in \(queueName), found \(queued)") }
                return "queue-enqueue enqueue_batch_per_s=\(rate(batched, batchElapsed)) enqueue_single_per_s=\(rate(single, singleElapsed)) "
                    + "batch_jobs=\(batched) batch_size=\(batch) single_jobs=\(single) queued=\(queued)"
            }
            print(line)
        }
    }

    struct CeilingScript: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ceiling-script",
            abstract: "Print a pgbench script that runs the worker's own claim and complete statements with no worker: one claim of LIMIT jobs of QUEUE, then the completion of what it claimed, each committed alone. Run it with `pgbench -M extended` (variables become parameters).")

        @Option(help: "jobs per claim (the worker's fetch batch)") var limit: Int = 500
        @Option(help: "the queue") var queue: String = "bench"
        @Option(help: "aging step in seconds, as the worker's default") var agingSeconds: Double = 300

        func run() throws {
            // The claim ends in a SELECT of the claimed rows; pgbench keeps one row (\gset), so the ids and
            // attempts are aggregated into arrays there. Everything that claims is the worker's text unchanged.
            let claim = WorkerStatementText.claim
            guard let tail = claim.range(of: ")\nSELECT ", options: .backwards) else {
                throw ValidationError("the claim statement no longer ends in a SELECT of the claimed rows")
            }
            let claimAggregated = claim[..<tail.lowerBound] + ")\nSELECT coalesce(array_agg(id ORDER BY id), '{}')::text AS ids, coalesce(array_agg(attempt ORDER BY id), '{}')::text AS attempts FROM running"
            let parameters = [("$5", "\(agingSeconds)"), ("$4", "300"), ("$3", ":owner"), ("$2", "\(limit)"), ("$1", ":queue")]
            var claimText = String(claimAggregated)
            for (placeholder, value) in parameters { claimText = claimText.replacingOccurrences(of: placeholder, with: value) }
            var completeText = WorkerStatementText.complete
            for (placeholder, value) in [("$3", ":owner"), ("$2", ":attempts"), ("$1", ":ids")] {
                completeText = completeText.replacingOccurrences(of: placeholder, with: value)
            }
            print("-- the worker's claim (\(limit) jobs of :queue for :owner), then its completion; variables: -D queue=… -D owner=…")
            print(claimText + " \\gset")
            print(completeText + ";")
        }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resume QUEUE (its workers wake) and time until none of its jobs is available or running; then ANALYZE trellis_jobs and read its dead tuples. Prints `queue-drain drain_per_s=… dead_tuples=…`.")

        @OptionGroup var common: CommonOptions
        @Option(help: "the queue") var queue: String = "bench"
        @Option(help: "give up after this many seconds") var timeout: Double = 900

        func run() async throws {
            try common.bootstrapLogging()
            let (queueName, timeout) = (self.queue, self.timeout)
            let line = try await withClient(common) { database in
                let client = database.client
                let queue = JobQueue(client: client, logger: database.logger)
                let pending = try await countOf(client, """
                    SELECT count(*) FROM trellis_jobs WHERE queue = \(queueName) AND state IN ('available', 'running')
                    """)
                guard pending > 0 else { throw ValidationError("no job is waiting in \(queueName): run `bench queue enqueue` first") }
                // The server's clock times the drain: resumed (NOTIFY) → the last job's finalized_at.
                let resumedAt = try await serverNow(client)
                try await queue.resume(queue: queueName)
                let deadline = ContinuousClock.now + .seconds(timeout)
                while true {
                    var busy = false
                    // Two index lookups (the partial indexes of available and running jobs), not a scan of the
                    // table: the poll must not take CPU from the drain it measures.
                    for try await _ in try await client.query("""
                        SELECT 1 WHERE EXISTS (SELECT 1 FROM trellis_jobs WHERE state = 'available' AND queue = \(queueName))
                                    OR EXISTS (SELECT 1 FROM trellis_jobs WHERE state = 'running' AND queue = \(queueName))
                        """)
                    { busy = true }
                    if !busy { break }
                    guard ContinuousClock.now < deadline else { throw ValidationError("the drain of \(queueName) took more than \(timeout) s") }
                    try await Task.sleep(for: .milliseconds(100))
                }
                var drained = 0
                var seconds = 0.0
                for try await (n, s) in try await client.query("""
                    SELECT count(*), extract(epoch FROM max(finalized_at) - \(resumedAt))::float8
                      FROM trellis_jobs WHERE queue = \(queueName) AND state = 'completed' AND finalized_at >= \(resumedAt)
                    """).decode((Int64, Double?).self)
                {
                    drained = Int(n)
                    seconds = s ?? 0
                }
                let failed = try await countOf(client, """
                    SELECT count(*) FROM trellis_jobs WHERE queue = \(queueName) AND state NOT IN ('completed')
                    """)
                // Dead tuples the drain left behind (autovacuum may have run meanwhile, as in production).
                try await Task.sleep(for: .seconds(1))
                try await client.query("ANALYZE trellis_jobs")
                var dead = 0, live = 0, autovacuums = 0
                for try await (d, l, a) in try await client.query("""
                    SELECT n_dead_tup, n_live_tup, autovacuum_count FROM pg_stat_user_tables WHERE relname = 'trellis_jobs'
                    """).decode((Int64, Int64, Int64).self)
                {
                    (dead, live, autovacuums) = (Int(d), Int(l), Int(a))
                }
                let perSecond = seconds > 0 ? Double(drained) / seconds : 0
                return "queue-drain drain_per_s=\(Int(perSecond.rounded())) jobs=\(drained) drain_s=\(String(format: "%.2f", seconds)) "
                    + "not_completed=\(failed) dead_tuples=\(dead) live_tuples=\(live) autovacuums=\(autovacuums)"
            }
            print(line)
        }
    }

    struct Pickup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "With an idle worker on QUEUE, enqueue COUNT jobs one at a time, INTERVAL ms apart; pickup latency = the job's attempted_at − created_at (server clock). Prints `queue-pickup pickup_p50_ms=… pickup_p99_ms=…`.")

        @OptionGroup var common: CommonOptions
        @Option(help: "jobs") var count: Int = 200
        @Option(help: "milliseconds between two enqueues") var intervalMs: Int = 20
        @Option(help: "the queue") var queue: String = "bench"

        func run() async throws {
            try common.bootstrapLogging()
            let (count, interval, queueName) = (self.count, self.intervalMs, self.queue)
            let line = try await withClient(common) { database in
                let client = database.client
                let queue = JobQueue(client: client, logger: database.logger)
                let job = BenchQueue.noopJob(queue: queueName)
                var ids: [JobID] = []
                for _ in 0..<count {
                    ids.append(try await queue.enqueue(job))
                    try await Task.sleep(for: .milliseconds(interval))
                }
                let jobIDs = ids
                let deadline = ContinuousClock.now + .seconds(60)
                while try await countOf(client, "SELECT count(*) FROM trellis_jobs WHERE id = ANY(\(jobIDs)) AND attempted_at IS NULL") > 0 {
                    guard ContinuousClock.now < deadline else { throw ValidationError("jobs not picked up within 60 s: is a worker running on \(queueName)?") }
                    try await Task.sleep(for: .milliseconds(50))
                }
                var latencies: [Double] = []
                for try await ms in try await client.query("""
                    SELECT extract(epoch FROM attempted_at - created_at)::float8 * 1000 FROM trellis_jobs WHERE id = ANY(\(jobIDs))
                    """).decode(Double.self)
                {
                    latencies.append(ms)
                }
                latencies.sort()
                func percentile(_ p: Double) -> String {
                    guard !latencies.isEmpty else { return "nan" }
                    let index = min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)
                    return String(format: "%.1f", latencies[max(0, index)])
                }
                return "queue-pickup pickup_p50_ms=\(percentile(0.50)) pickup_p99_ms=\(percentile(0.99)) "
                    + "pickup_max_ms=\(percentile(1.0)) jobs=\(latencies.count) interval_ms=\(interval)"
            }
            print(line)
        }
    }
}

private func rate(_ n: Int, _ elapsed: Duration) -> Int {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return seconds > 0 ? Int((Double(n) / seconds).rounded()) : 0
}

private func countOf(_ client: PostgresClient, _ query: PostgresQuery) async throws -> Int {
    for try await n in try await client.query(query).decode(Int64.self) { return Int(n) }
    return 0
}

private func serverNow(_ client: PostgresClient) async throws -> Date {
    for try await now in try await client.query("SELECT clock_timestamp()").decode(Date.self) { return now }
    throw ValidationError("SELECT clock_timestamp() returned no row")
}
