import Foundation
import PostgresNIO
import Testing
import TrellisTestSupport

@testable import TrellisQueue

@Suite("Enqueue and fetch")
struct EnqueueFetchTests {
    @Test("an enqueue inside a rolled-back transaction leaves no job; a committed one stays")
    func transactionalEnqueue() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            struct Boom: Error {}
            await #expect(throws: (any Error).self) {
                try await client.withTransaction(logger: testLogger) { connection in
                    try await connection.query("CREATE TABLE domain_things (id int)", logger: testLogger)
                    try await queue.enqueue(NewJob(kind: "email"), on: connection)
                    throw Boom()
                }
            }
            #expect(try await scalar(client, "SELECT count(*) FROM trellis_jobs") == 0)

            let id = try await client.withTransaction(logger: testLogger) { connection in
                try await queue.enqueue(NewJob(kind: "email", args: Data(#"{"to":"a@b.c"}"#.utf8)), on: connection)
            }
            let job = try #require(try await queue.job(id))
            #expect(job.state == .available)
            #expect(job.kind == "email")
            #expect(String(decoding: job.args, as: UTF8.self).contains("a@b.c"))
        }
    }

    @Test("a batch is enqueued in one statement, in order, with future jobs scheduled")
    func batchEnqueue() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let agency = UUID()
            var jobs = (0..<200).map { i in
                NewJob(kind: "k\(i % 3)", queue: "batch", args: Data(#"{"i":\#(i)}"#.utf8), agencyID: i.isMultiple(of: 2) ? agency : nil)
            }
            jobs.append(NewJob(kind: "later", queue: "batch", runAt: Date().addingTimeInterval(3600)))
            let results = try await queue.enqueueBatch(jobs)
            #expect(results.count == 201)
            let ids = results.map(\.jobID)
            #expect(ids == ids.sorted())
            #expect(results.last == .enqueued(ids.last!, state: .scheduled))
            #expect(results.dropLast().allSatisfy { if case .enqueued(_, .available) = $0 { true } else { false } })
            let tenth = try #require(try await queue.job(ids[10]))
            #expect(tenth.agencyID == agency)
            #expect(String(decoding: tenth.args, as: UTF8.self) == #"{"i": 10}"#)
            let eleventh = try #require(try await queue.job(ids[11]))
            #expect(eleventh.agencyID == nil)
        }
    }

    @Test("invalid jobs are refused before reaching the database")
    func validation() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            await #expect(throws: JobQueueError.self) { try await queue.enqueue(NewJob(kind: "x", priority: 9)) }
            await #expect(throws: JobQueueError.self) { try await queue.enqueue(NewJob(kind: "x", args: Data("[1]".utf8))) }
            await #expect(throws: JobQueueError.self) { try await queue.enqueue(NewJob(kind: "")) }
            struct Args: Codable { var name: String; var when: Date }
            let typed = try NewJob(kind: "typed", arguments: Args(name: "n", when: Date(timeIntervalSince1970: 0)))
            let id = try await queue.enqueue(typed)
            let stored = try #require(try await queue.job(id))
            let decoded = try JobJSON.decoder.decode(Args.self, from: stored.args)
            #expect(decoded.name == "n")
        }
    }

    @Test("unique keys: refused while pending or running (naming the holder), free after completion")
    func uniqueKeys() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let job = NewJob(kind: "digest", uniqueKey: "digest:agency-1:2024-05-01")
            let first = try await queue.enqueue(job)

            do {
                try await queue.enqueue(job)
                Issue.record("duplicate accepted")
            } catch let error as JobQueueError {
                #expect(error == .duplicateJob(uniqueKey: "digest:agency-1:2024-05-01", existingJobID: first))
                #expect(error.description.contains("id \(first)"))
            }

            // Refused inside a transaction without aborting it.
            try await client.withTransaction(logger: testLogger) { connection in
                await #expect(throws: JobQueueError.duplicateJob(uniqueKey: job.uniqueKey!, existingJobID: first)) {
                    try await queue.enqueue(job, on: connection)
                }
                try await connection.query("SELECT 1", logger: testLogger)
            }

            // In a batch: the holder, and a duplicate within the batch itself.
            let other = NewJob(kind: "digest", uniqueKey: "digest:agency-2:2024-05-01")
            let results = try await queue.enqueueBatch([job, other, other, NewJob(kind: "plain")])
            #expect(results[0] == .duplicate(uniqueKey: job.uniqueKey!, existingJobID: first))
            guard case .enqueued(let otherID, _) = results[1] else {
                Issue.record("expected the first copy to be enqueued")
                return
            }
            #expect(results[2] == .duplicate(uniqueKey: other.uniqueKey!, existingJobID: otherID))
            #expect(!results[3].isDuplicate)

            // Running still holds the key.
            let claimed = try await queue.fetchAvailable(queue: "default", limit: 10, owner: "w", lease: .seconds(30), priorityAging: nil)
            #expect(claimed.map(\.id).contains(first))
            await #expect(throws: JobQueueError.self) { try await queue.enqueue(job) }

            // Completed frees it.
            let done = try await queue.completeMany(owner: "w", claimed.map { ($0.id, $0.attempt) })
            #expect(done.contains(first))
            let again = try await queue.enqueue(job)
            #expect(again != first)
        }
    }

    @Test("fetch claims by priority, then run time")
    func fetchOrder() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let base = Date().addingTimeInterval(-60)
            let specs: [(String, Int, Double)] = [
                ("p3-old", 3, 0), ("p1-new", 1, 30), ("p2-mid", 2, 10), ("p1-old", 1, 5), ("p4", 4, 1), ("p2-old", 2, 2),
            ]
            _ = try await queue.enqueueBatch(
                specs.map { NewJob(kind: $0.0, priority: $0.1, runAt: base.addingTimeInterval($0.2)) }
            )
            _ = try await queue.enqueue(NewJob(kind: "future", priority: 1, runAt: Date().addingTimeInterval(3600)))
            _ = try await queue.enqueue(NewJob(kind: "other-queue", queue: "elsewhere", priority: 1))
            let first = try await queue.fetchAvailable(queue: "default", limit: 4, owner: "w", lease: .seconds(30), priorityAging: .seconds(300))
            let second = try await queue.fetchAvailable(queue: "default", limit: 10, owner: "w", lease: .seconds(30), priorityAging: .seconds(300))
            #expect(first.map(\.kind) == ["p1-old", "p1-new", "p2-old", "p2-mid"])
            #expect(second.map(\.kind) == ["p3-old", "p4"])
            #expect(first.allSatisfy { $0.attempt == 1 })
            let stored = try #require(try await queue.job(first[0].id))
            #expect(stored.state == .running)
            #expect(stored.leaseOwner == "w")
            #expect(stored.leaseExpiresAt != nil)
        }
    }

    @Test("a claim hands back every job as stored: arguments, metadata, agency or none, attempts, times")
    func claimCarriesEveryColumn() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let agency = UUID()
            let runAt = Date().addingTimeInterval(-30)
            let long = String(repeating: "x", count: 300)  // past any inline storage
            _ = try await queue.enqueueBatch([
                NewJob(kind: "tenant", args: Data(#"{"plan":"p-1","note":"\#(long)"}"#.utf8), agencyID: agency, priority: 2,
                       runAt: runAt, maxAttempts: 7, metadata: Data(#"{"traceparent":"00-abc-def-01"}"#.utf8)),
                NewJob(kind: "system", priority: 1, runAt: runAt),
            ])
            let claimed = try await queue.fetchAvailable(queue: "default", limit: 10, owner: "w", lease: .seconds(30), priorityAging: nil)
            #expect(claimed.map(\.kind) == ["system", "tenant"], "in the claim's order")
            let tenant = try #require(claimed.first { $0.kind == "tenant" })
            let system = try #require(claimed.first { $0.kind == "system" })
            let args = try #require(try JSONSerialization.jsonObject(with: tenant.args) as? [String: String])
            #expect(args == ["plan": "p-1", "note": long])
            let metadata = try #require(try JSONSerialization.jsonObject(with: tenant.metadata) as? [String: String])
            #expect(metadata["traceparent"] == "00-abc-def-01")
            #expect(tenant.agencyID == agency && system.agencyID == nil)
            #expect(tenant.priority == 2 && tenant.maxAttempts == 7 && tenant.attempt == 1 && tenant.queue == "default")
            #expect(abs(tenant.runAt.timeIntervalSince(runAt)) < 0.001)
            #expect(abs(tenant.createdAt.timeIntervalSinceNow) < 60)
            #expect(String(decoding: system.args, as: UTF8.self) == "{}")
            // Nothing left: an empty claim is an empty list.
            let none = try await queue.fetchAvailable(queue: "default", limit: 10, owner: "w", lease: .seconds(30), priorityAging: nil)
            #expect(none.isEmpty)
        }
    }

    @Test("aging: a low-priority job that waited long enough competes as priority 1")
    func priorityAging() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            _ = try await queue.enqueue(NewJob(kind: "old-p4", priority: 4, runAt: Date().addingTimeInterval(-3600)))
            _ = try await queue.enqueueBatch((0..<5).map { _ in NewJob(kind: "fresh-p1", priority: 1) })
            let strict = try await queue.fetchAvailable(queue: "default", limit: 1, owner: "w", lease: .seconds(30), priorityAging: nil)
            #expect(strict.map(\.kind) == ["fresh-p1"])
            let aged = try await queue.fetchAvailable(queue: "default", limit: 1, owner: "w", lease: .seconds(30), priorityAging: .seconds(600))
            #expect(aged.map(\.kind) == ["old-p4"])
        }
    }

    @Test("fairness: agency B's 10 jobs come out in the first batches although agency A queued 10,000 before")
    func fairness() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let agencyA = UUID()
            let agencyB = UUID()
            let started = ContinuousClock.now
            _ = try await queue.enqueueBatch((0..<10_000).map { i in
                NewJob(kind: "work", queue: "shared", args: Data(#"{"i":\#(i)}"#.utf8), agencyID: agencyA)
            })
            let enqueueA = ContinuousClock.now - started
            _ = try await queue.enqueueBatch((0..<10).map { _ in NewJob(kind: "work", queue: "shared", agencyID: agencyB) })
            try await client.query("ANALYZE trellis_jobs")

            var batchOfLastB = 0
            var claimedB = 0
            var fetchTimes: [Duration] = []
            for batch in 1...10 {
                let t0 = ContinuousClock.now
                let jobs = try await queue.fetchAvailable(queue: "shared", limit: 10, owner: "w", lease: .seconds(30), priorityAging: .seconds(300))
                fetchTimes.append(ContinuousClock.now - t0)
                let fromB = jobs.filter { $0.agencyID == agencyB }.count
                claimedB += fromB
                if fromB > 0 { batchOfLastB = batch }
                if claimedB == 10 { break }
            }
            let meanFetch = fetchTimes.reduce(Duration.zero, +) / fetchTimes.count
            print("fairness: agency A 10000 queued (batch insert took \(enqueueA)), agency B 10 queued after; all 10 of B claimed by fetch batch \(batchOfLastB) of 10 jobs each; mean fetch \(meanFetch) over \(fetchTimes.count) fetches")
            #expect(claimedB == 10)
            #expect(batchOfLastB <= 2)
        }
    }

    @Test("pause stops fetching from a queue, resume wakes it")
    func pauseResume() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            try await queue.pause(queue: "mail")
            #expect(try await queue.pausedQueues() == ["mail"])
            let id = try await queue.enqueue(NewJob(kind: "send", queue: "mail"))
            let otherQueue = try await queue.enqueue(NewJob(kind: "send", queue: "other"))
            let ran = Shared<[JobID]>([])
            var registry = JobRegistry()
            registry.register("send") { context in
                ran.update { $0.append(context.id) }
                return .completed
            }
            try await withWorker(client, registry, testWorkerConfiguration(queues: ["mail": 2, "other": 2]), logger: testLogger) { _ in
                #expect(try await eventually { ran.value.contains(otherQueue) })
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await jobState(queue, id) == .available)
                let resumedAt = ContinuousClock.now
                try await queue.resume(queue: "mail")
                #expect(try await eventually { try await jobState(queue, id) == .completed })
                print("pause/resume: paused job completed \(ContinuousClock.now - resumedAt) after resume")
            }
            #expect(try await queue.pausedQueues().isEmpty)
        }
    }

    @Test("queue stats count jobs by queue and state and give the oldest available age")
    func stats() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            _ = try await queue.enqueueBatch([
                NewJob(kind: "a", queue: "q1", runAt: Date().addingTimeInterval(-30)),
                NewJob(kind: "a", queue: "q1"),
                NewJob(kind: "a", queue: "q2", runAt: Date().addingTimeInterval(600)),
            ])
            let stats = try await queue.stats()
            #expect(stats.count(queue: "q1", state: .available) == 2)
            #expect(stats.count(queue: "q2", state: .scheduled) == 1)
            let age = try #require(stats.oldestAvailableAgeSeconds["q1"])
            #expect(age >= 29 && age < 120)
            #expect(stats.oldestAvailableAgeSeconds["q2"] == nil)
            stats.recordGauges(alsoQueues: ["empty"])
        }
    }
}
