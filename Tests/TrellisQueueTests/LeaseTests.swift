import Foundation
import PostgresNIO
import Testing
import TrellisTestSupport

@testable import TrellisQueue

@Suite("Leases, rescue and retention")
struct LeaseTests {
    @Test("a worker whose lease expired cannot complete the job once it was rescued and fetched again")
    func fencing() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let id = try await queue.enqueue(NewJob(kind: "fenced"))
            let old = try await queue.fetchAvailable(queue: "default", limit: 1, owner: "old", lease: .seconds(30), priorityAging: nil)
            #expect(old.map(\.id) == [id])
            #expect(try await queue.rescueExpiredLeases().isEmpty)  // not expired yet
            // The old owner stops renewing (hangs, dies): let its lease run out.
            try await client.query("UPDATE trellis_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = \(id)")
            #expect(try await queue.rescueExpiredLeases() == [id])
            let rescued = try #require(try await queue.job(id))
            #expect(rescued.state == .available)
            #expect(rescued.errors.first?.error.contains("lease expired") == true)

            // The old owner notices nothing is left to renew.
            #expect(try await queue.renewLeases(owner: "old", [(id, 1)], lease: .seconds(30)).isEmpty)

            let new = try await queue.fetchAvailable(queue: "default", limit: 1, owner: "new", lease: .seconds(30), priorityAging: nil)
            #expect(new.first?.attempt == 2)
            #expect(try await queue.completeMany(owner: "old", [(id, 1)]).isEmpty)  // stale attempt and owner
            #expect(try await queue.completeMany(owner: "old", [(id, 2)]).isEmpty)  // right attempt, wrong owner
            #expect(try await queue.completeMany(owner: "new", [(id, 1)]).isEmpty)  // right owner, stale attempt
            #expect(try await queue.renewLeases(owner: "new", [(id, 2)], lease: .seconds(30)) == [id: false])
            #expect(try await queue.completeMany(owner: "new", [(id, 2)]) == [id])
            #expect(try await jobState(queue, id) == .completed)
        }
    }

    @Test("a dead worker's job is rescued within seconds and run by a live worker")
    func rescueByWorker() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let id = try await queue.enqueue(NewJob(kind: "orphan", maxAttempts: 5))
            let lastOfAttempts = try await queue.enqueue(NewJob(kind: "orphan", maxAttempts: 1))
            // "dead" claims both with a short lease and never renews.
            let claimed = try await queue.fetchAvailable(queue: "default", limit: 10, owner: "dead", lease: .milliseconds(300), priorityAging: nil)
            #expect(claimed.count == 2)
            let ran = Shared<[JobID]>([])
            var registry = JobRegistry()
            registry.register("orphan") { context in
                ran.update { $0.append(context.id) }
                return .completed
            }
            let t0 = ContinuousClock.now
            try await withWorker(client, registry, testWorkerConfiguration(), logger: testLogger) { _ in
                let done = try await eventually(timeout: .seconds(30)) { try await jobState(queue, id) == .completed }
                #expect(done)
            }
            print("rescue: dead worker's job (lease 300 ms) completed by a live worker \(ContinuousClock.now - t0) after it started")
            #expect(ran.value == [id])
            let job = try #require(try await queue.job(id))
            #expect(job.attempt == 2)
            #expect(job.errors.count == 1)
            // The job that had used its only attempt is discarded, not run again.
            #expect(try await jobState(queue, lastOfAttempts) == .discarded)
        }
    }

    @Test("a running job whose lease was taken away has its handler cancelled, and its result is fenced off")
    func lostLease() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let cancelled = Shared(false)
            let started = Shared(false)
            var registry = JobRegistry()
            registry.register("hang") { _ in
                started.update { $0 = true }
                do { try await Task.sleep(for: .seconds(30)) } catch { cancelled.update { $0 = true }; throw error }
                return .completed
            }
            try await withWorker(client, registry, testWorkerConfiguration(), logger: testLogger) { _ in
                let id = try await queue.enqueue(NewJob(kind: "hang"))
                #expect(try await eventually(timeout: .seconds(30)) { started.value })
                // Someone else takes the job over (as a rescuer would after expiry), with a lease of its own:
                // without one, a loaded machine lets the old 5 s lease run out and this worker's maintenance
                // rescues the job back to available before the test looks.
                try await client.query("UPDATE trellis_jobs SET lease_owner = 'usurper', attempt = attempt + 1, lease_expires_at = now() + interval '1 hour' WHERE id = \(id)")
                #expect(try await eventually(timeout: .seconds(30)) { cancelled.value })
                try await Task.sleep(for: .milliseconds(200))
                let job = try #require(try await queue.job(id))
                #expect(job.state == .running)
                #expect(job.leaseOwner == "usurper")
            }
        }
    }

    @Test("retention pruning deletes old finished jobs in bounded batches, keeping recent and discarded ones longer")
    func pruning() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let ids = try await queue.enqueueBatch((0..<9).map { _ in NewJob(kind: "old") }).map(\.jobID)
            // 0-4 completed 2 h ago, 5 cancelled 2 h ago, 6 discarded 2 h ago, 7 discarded 2 days ago, 8 completed now.
            try await client.query("""
                UPDATE trellis_jobs SET state = 'completed', finalized_at = now() - interval '2 hours' WHERE id = ANY(\(Array(ids[0...4]))::int8[]);
                """)
            try await client.query("UPDATE trellis_jobs SET state = 'cancelled', finalized_at = now() - interval '2 hours' WHERE id = \(ids[5])")
            try await client.query("UPDATE trellis_jobs SET state = 'discarded', finalized_at = now() - interval '2 hours' WHERE id = \(ids[6])")
            try await client.query("UPDATE trellis_jobs SET state = 'discarded', finalized_at = now() - interval '2 days' WHERE id = \(ids[7])")
            try await client.query("UPDATE trellis_jobs SET state = 'completed', finalized_at = now() WHERE id = \(ids[8])")
            let pending = try await queue.enqueue(NewJob(kind: "pending", runAt: Date().addingTimeInterval(-86400 * 10)))

            let policy = RetentionPolicy(completed: .seconds(3600), discarded: .seconds(86400))
            let deleted = try await queue.prune(policy, batchSize: 2)
            #expect(deleted == 7)
            var left: [JobID] = []
            for try await id in try await client.query("SELECT id FROM trellis_jobs ORDER BY id").decode(Int64.self) { left.append(id) }
            #expect(left == [ids[6], ids[8], pending])

            let keepDiscarded = RetentionPolicy(completed: .seconds(60), discarded: nil)
            #expect(try await queue.prune(keepDiscarded) == 0)
            #expect(try await queue.job(ids[6])?.state == .discarded)
        }
    }

    @Test("a discarded job can be retried by hand")
    func manualRetry() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let id = try await queue.enqueue(NewJob(kind: "x", maxAttempts: 1))
            #expect(try await queue.retry(id) == false)  // still pending
            let claimed = try await queue.fetchAvailable(queue: "default", limit: 1, owner: "w", lease: .seconds(30), priorityAging: nil)
            let written = try await queue.recordOutcomes(owner: "w", [PendingOutcome(job: claimed[0], outcome: .fail(error: "nope", delay: 0))])
            #expect(written.map(\.state) == [.discarded], "out of attempts")
            #expect(try await jobState(queue, id) == .discarded)
            #expect(try await queue.retry(id))
            let job = try #require(try await queue.job(id))
            #expect(job.state == .available)
            #expect(job.maxAttempts == 2)
            #expect(job.finalizedAt == nil)
        }
    }
}
