import Foundation
import MetricsTestKit
import PostgresNIO
import Testing
import TrellisTestSupport

@testable import TrellisQueue

@Suite("Worker")
struct WorkerTests {
    @Test("a job enqueued on an idle worker starts within milliseconds (LISTEN/NOTIFY, not polling)")
    func wakeUpLatency() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let started = Shared<[JobID: ContinuousClock.Instant]>([:])
            var registry = JobRegistry()
            registry.register("ping") { context in
                started.update { $0[context.id] = .now }
                return .completed
            }
            var configuration = testWorkerConfiguration()
            configuration.pollInterval = .seconds(30)  // polling cannot explain a fast start
            configuration.maintenanceInterval = .seconds(30)
            try await withWorker(client, registry, configuration, logger: testLogger) { worker in
                #expect(try await eventually(timeout: .seconds(30)) { worker.isListening })
                try await Task.sleep(for: .milliseconds(300))  // let the worker go idle
                var latencies: [Duration] = []
                for _ in 0..<5 {
                    let t0 = ContinuousClock.now
                    let id = try await queue.enqueue(NewJob(kind: "ping"))
                    #expect(try await eventually(timeout: .seconds(10), every: .milliseconds(1)) { started.value[id] != nil })
                    if let t1 = started.value[id] { latencies.append(t1 - t0) }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let sorted = latencies.sorted()
                print("wake-up latency (enqueue → handler start, idle worker, poll interval 30 s): \(sorted.map { "\($0)" }.joined(separator: ", ")); median \(sorted[sorted.count / 2])")
                #expect(sorted.count == 5)
                // Polling every 30 s cannot explain any of these. Alone the median is a few milliseconds; while the
                // whole suite loads both cores it reached 1.08 s in CI (single samples ~1.6 s, and once locally one
                // over 3 s), so the bounds are 2 s for the median and 10 s for any one: still a third of the poll
                // interval.
                #expect(sorted[sorted.count / 2] < .seconds(2))
                #expect(sorted.allSatisfy { $0 < .seconds(10) })
            }
        }
    }

    @Test("a busy worker fills a freed slot from the queue at once, not at the next poll")
    func freedSlotIsRefilled() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let started = Shared<[String: ContinuousClock.Instant]>([:])
            let finishedShort = Shared<ContinuousClock.Instant?>(nil)
            var registry = JobRegistry()
            registry.register("long") { _ in
                try await Task.sleep(for: .seconds(6))
                return .completed
            }
            registry.register("short") { _ in
                try await Task.sleep(for: .milliseconds(200))
                finishedShort.update { $0 = .now }
                return .completed
            }
            registry.register("late") { _ in
                started.update { $0["late"] = .now }
                return .completed
            }
            // 10 slots, batch 10: 9 long jobs and 1 short one fill them; "late" (lowest priority) waits. When
            // the short one ends, one slot is free — fewer than half a batch — and nothing rings LISTEN.
            var configuration = testWorkerConfiguration(queues: ["default": 10])
            configuration.pollInterval = .seconds(30)
            configuration.maintenanceInterval = .seconds(30)
            _ = try await queue.enqueueBatch(
                (0..<9).map { _ in NewJob(kind: "long") } + [NewJob(kind: "short"), NewJob(kind: "late", priority: 4)]
            )
            try await withWorker(client, registry, configuration, logger: testLogger) { (_: JobWorker) async throws -> Void in
                // The wait is long enough for a loaded machine; what shows the wake-up is the gap measured below.
                #expect(try await eventually(timeout: .seconds(15), every: .milliseconds(5)) { started.value["late"] != nil })
                guard let late = started.value["late"], let short = finishedShort.value else {
                    Issue.record("late did not start")
                    return
                }
                // Without the wake-up at the first free slot it waits for the long jobs (~5.8 s).
                print("freed slot refilled \(late - short) after the short job ended (poll interval 30 s)")
                #expect(late - short < .seconds(3))
            }
        }
    }

    @Test("the LISTEN connection is re-established after it drops")
    func listenerReconnects() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let ran = Shared<[JobID]>([])
            var registry = JobRegistry()
            registry.register("ping") { context in
                ran.update { $0.append(context.id) }
                return .completed
            }
            var configuration = testWorkerConfiguration()
            configuration.pollInterval = .seconds(30)
            configuration.maintenanceInterval = .seconds(30)
            // Rarely, the pool hands the next fetch the connection that was just killed and the call hangs
            // until the worker's statement deadline; the worker then fetches again.
            configuration.statementTimeout = .seconds(2)
            try await withWorker(client, registry, configuration, logger: testLogger) { worker in
                #expect(try await eventually(timeout: .seconds(30)) { worker.isListening })
                let killed = try await scalar(client, """
                    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'
                    """)
                #expect(killed == 1)
                // The drop is noticed and LISTEN runs again on a new connection (polling the count, not the
                // short "not listening" moment in between, which a busy machine can miss).
                #expect(try await eventually(timeout: .seconds(15)) { worker.listenConnectionCount >= 2 && worker.isListening })
                let t0 = ContinuousClock.now
                let id = try await queue.enqueue(NewJob(kind: "ping"))
                // Well under the 30 s poll interval: the notification woke the worker.
                #expect(try await eventually(timeout: .seconds(8), every: .milliseconds(5)) { ran.value.contains(id) })
                print("LISTEN reconnect: job after reconnection started within \(ContinuousClock.now - t0)")
            }
        }
    }

    @Test("failures back off, keep their errors, and the job is discarded after max attempts")
    func backoffAndDiscard() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let runs = Shared<[Date]>([])
            var registry = JobRegistry()
            registry.register("flaky") { context in
                runs.update { $0.append(Date()) }
                struct Flaky: Error, CustomStringConvertible { var attempt: Int; var description: String { "boom on attempt \(attempt)" } }
                throw Flaky(attempt: context.attempt)
            }
            try await withWorker(client, registry, testWorkerConfiguration(), logger: testLogger) { _ in
                let id = try await queue.enqueue(NewJob(kind: "flaky", maxAttempts: 3))
                #expect(try await eventually(timeout: .seconds(30)) { try await jobState(queue, id) == .discarded })
                let job = try #require(try await queue.job(id))
                #expect(job.attempt == 3)
                #expect(job.errors.map(\.attempt) == [1, 2, 3])
                #expect(job.errors.map(\.error) == ["boom on attempt 1", "boom on attempt 2", "boom on attempt 3"])
                #expect(job.finalizedAt != nil)
                #expect(job.errors.allSatisfy { abs($0.at.timeIntervalSinceNow) < 60 })
                #expect(runs.value.count == 3)
                // Backoff: each retry waited at least the policy's minimum (20 ms × 2^(n−1), −20 % jitter).
                let gaps = zip(runs.value.dropFirst(), runs.value).map { $0.timeIntervalSince($1) }
                #expect(gaps.count == 2 && gaps[0] >= 0.016 && gaps[1] >= 0.032)
            }
        }
    }

    @Test("the worker counts completions and failures per queue and kind, and times every run")
    func outcomesAreCounted() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            var registry = JobRegistry()
            registry.register("ok") { _ in .completed }
            registry.register("broken") { _ in
                struct Broken: Error {}
                throw Broken()
            }
            _ = try await queue.enqueueBatch(
                (0..<40).map { _ in NewJob(kind: "ok") } + (0..<5).map { _ in NewJob(kind: "ok", queue: "other") }
                    + [NewJob(kind: "broken", maxAttempts: 1)])
            let factory = TestMetrics()
            var configuration = testWorkerConfiguration(queues: ["default": 10, "other": 10])
            configuration.fetchBatchSize = 8  // several claims and completion batches
            func counted(_ label: String, _ queue: String, _ kind: String) -> Int64 {
                (try? factory.expectCounter(label, [("queue", queue), ("kind", kind)]))?.totalValue ?? 0
            }
            try await withWorker(client, registry, configuration, logger: testLogger, metricsFactory: factory) { (_: JobWorker) async throws -> Void in
                #expect(try await eventually(timeout: .seconds(30)) {
                    counted(QueueMetricNames.completed, "default", "ok") == 40 && counted(QueueMetricNames.completed, "other", "ok") == 5
                        && counted(QueueMetricNames.discarded, "default", "broken") == 1
                })
            }
            #expect(counted(QueueMetricNames.completed, "default", "ok") == 40, "each completion counted once")
            #expect(counted(QueueMetricNames.failed, "default", "broken") == 1)
            #expect(counted(QueueMetricNames.completed, "default", "broken") == 0)
            let timed = try factory.expectTimer(QueueMetricNames.duration, [("queue", "default"), ("kind", "ok")])
            #expect(timed.values.count == 40)
        }
    }

    @Test("the retry policy grows exponentially, is capped, and jitters within bounds")
    func retryPolicy() {
        let exponential = RetryPolicy(curve: .exponential(base: .seconds(1)), maximum: .seconds(60), jitter: 0)
        #expect((1...8).map { exponential.delay(afterAttempt: $0) } == [1, 2, 4, 8, 16, 32, 60, 60])
        let polynomial = RetryPolicy(curve: .polynomial, maximum: .seconds(3600), jitter: 0)
        #expect(polynomial.delay(afterAttempt: 3) == 81)
        #expect(polynomial.delay(afterAttempt: 100) == 3600)
        let jittered = RetryPolicy(curve: .exponential(base: .seconds(10)), maximum: .seconds(1000), jitter: 0.25)
        let samples = (0..<200).map { _ in jittered.delay(afterAttempt: 2) }
        #expect(samples.allSatisfy { $0 >= 15 && $0 <= 25 })
        #expect(Set(samples).count > 1)
    }

    @Test("a job of an unknown kind is discarded at once with a clear error")
    func unknownKind() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            try await withWorker(client, JobRegistry(), testWorkerConfiguration(), logger: testLogger) { _ in
                let id = try await queue.enqueue(NewJob(kind: "no-such-kind", maxAttempts: 10))
                #expect(try await eventually(timeout: .seconds(30)) { try await jobState(queue, id) == .discarded })
                let job = try #require(try await queue.job(id))
                #expect(job.attempt == 1)
                #expect(job.errors.count == 1)
                #expect(job.errors.first?.error.contains("unknown job kind 'no-such-kind'") == true)
            }
        }
    }

    @Test("handler outcomes: discard, cancel, RetryAfter, timeout, progress")
    func outcomes() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            var registry = JobRegistry()
            registry.register("give-up") { _ in .discard(reason: "bad input") }
            registry.register("self-cancel") { _ in .cancel(reason: "not needed any more") }
            registry.register("retry-later") { context in
                if context.attempt == 1 { throw RetryAfter(.milliseconds(50), reason: "rate limited") }
                return .completed
            }
            registry.register("slow", timeout: .milliseconds(100)) { context in
                try await Task.sleep(for: .seconds(30))
                return .completed
            }
            registry.register("progress") { context in
                try await context.reportProgress(["done": 3, "total": 4])
                return .completed
            }
            struct Greeting: Codable, Sendable { var name: String }
            registry.register("typed", arguments: Greeting.self) { args, _ in
                args.name == "Ada" ? .completed : .discard(reason: "wrong name")
            }
            try await withWorker(client, registry, testWorkerConfiguration(), logger: testLogger) { _ in
                let giveUp = try await queue.enqueue(NewJob(kind: "give-up"))
                let cancel = try await queue.enqueue(NewJob(kind: "self-cancel"))
                let retry = try await queue.enqueue(NewJob(kind: "retry-later"))
                let slow = try await queue.enqueue(NewJob(kind: "slow", maxAttempts: 1))
                let progress = try await queue.enqueue(NewJob(kind: "progress"))
                let typed = try await queue.enqueue(try NewJob(kind: "typed", arguments: Greeting(name: "Ada")))
                let badArgs = try await queue.enqueue(NewJob(kind: "typed", args: Data(#"{"nom":1}"#.utf8)))
                #expect(try await eventually(timeout: .seconds(30)) {
                    let states = try await [giveUp, cancel, retry, slow, progress, typed, badArgs].asyncMap { try await jobState(queue, $0) }
                    return states.allSatisfy { $0?.isFinal == true }
                })
                #expect(try await jobState(queue, giveUp) == .discarded)
                #expect(try await queue.job(giveUp)?.errors.first?.error == "bad input")
                #expect(try await jobState(queue, cancel) == .cancelled)
                let retried = try #require(try await queue.job(retry))
                #expect(retried.state == .completed)
                #expect(retried.attempt == 2)
                #expect(retried.errors.first?.error == "rate limited")
                let timedOut = try #require(try await queue.job(slow))
                #expect(timedOut.state == .discarded)
                #expect(timedOut.errors.first?.error.contains("timed out") == true)
                let progressed = try #require(try await queue.job(progress))
                #expect(progressed.progress.map { String(decoding: $0, as: UTF8.self) } == #"{"done": 3, "total": 4}"#)
                #expect(try await jobState(queue, typed) == .completed)
                #expect(try await jobState(queue, badArgs) == .discarded)
            }
        }
    }

    @Test("snooze sends the job back to scheduled without consuming an attempt")
    func snooze() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let runs = Shared(0)
            var registry = JobRegistry()
            registry.register("waiter") { _ in
                let run = runs.update { $0 += 1; return $0 }
                return run < 3 ? .snooze(.milliseconds(50)) : .completed
            }
            try await withWorker(client, registry, testWorkerConfiguration(), logger: testLogger) { _ in
                let id = try await queue.enqueue(NewJob(kind: "waiter", maxAttempts: 1))
                #expect(try await eventually(timeout: .seconds(30)) { try await jobState(queue, id) == .completed })
                let job = try #require(try await queue.job(id))
                #expect(runs.value == 3)
                #expect(job.errors.isEmpty)
                // Three runs on a budget of one attempt: the two snoozes extended the budget, like River.
                #expect(job.attempt == 3)
                #expect(job.maxAttempts == 3)
            }
        }
    }

    @Test("per-queue concurrency is respected")
    func concurrency() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let gauge = RunningGauge()
            var registry = JobRegistry()
            registry.register("busy") { _ in
                gauge.enter()
                try await Task.sleep(for: .milliseconds(60))
                gauge.leave()
                return .completed
            }
            try await withWorker(client, registry, testWorkerConfiguration(queues: ["narrow": 2, "wide": 5]), logger: testLogger) { _ in
                let narrow = try await queue.enqueueBatch((0..<8).map { _ in NewJob(kind: "busy", queue: "narrow") })
                #expect(try await eventually(timeout: .seconds(30)) {
                    try await scalar(client, "SELECT count(*) FROM trellis_jobs WHERE state = 'completed'") == Int64(narrow.count)
                })
                #expect(gauge.peak == 2)
            }
        }
    }

    @Test("with room for more than one batch, two claim loops fill the queue's slots and never exceed them")
    func twoClaimLoops() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let gauge = RunningGauge()
            let ran = Shared<[JobID: Int]>([:])
            var registry = JobRegistry()
            registry.register("busy") { context in
                gauge.enter()
                ran.update { $0[context.id, default: 0] += 1 }
                // Each job holds its slot until all 12 are taken (or 5 s pass), so the peak does not depend on
                // how fast a loaded machine claims.
                let start = ContinuousClock.now
                while gauge.peak < 12, ContinuousClock.now - start < .seconds(5) { try await Task.sleep(for: .milliseconds(10)) }
                gauge.leave()
                return .completed
            }
            // 12 slots, claims of 4: the two loops keep claims in flight side by side.
            var configuration = testWorkerConfiguration(queues: ["wide": 12])
            configuration.fetchBatchSize = 4
            let ids = try await queue.enqueueBatch((0..<36).map { _ in NewJob(kind: "busy", queue: "wide") }).map(\.jobID)
            try await withWorker(client, registry, configuration, logger: testLogger) { _ in
                let done = try await eventually(timeout: .seconds(30)) {
                    try await scalar(client, "SELECT count(*) FROM trellis_jobs WHERE state = 'completed'") == Int64(ids.count)
                }
                #expect(done)
            }
            #expect(gauge.peak == 12, "every slot was filled and none more: peak \(gauge.peak)")
            #expect(Set(ran.value.keys) == Set(ids))
            #expect(ran.value.values.allSatisfy { $0 == 1 })
        }
    }

    @Test("cancelling: a pending job at once; a running job's handler Task is cancelled and it ends cancelled")
    func cancellation() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let running = Shared(false)
            let sawCancellation = Shared(false)
            var registry = JobRegistry()
            registry.register("long") { _ in
                running.update { $0 = true }
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch is CancellationError {
                    sawCancellation.update { $0 = true }
                    throw CancellationError()
                }
                return .completed
            }
            let pending = try await queue.enqueue(NewJob(kind: "long", runAt: Date().addingTimeInterval(3600)))
            #expect(try await queue.cancel(pending) == .cancelled)
            #expect(try await jobState(queue, pending) == .cancelled)
            #expect(try await queue.cancel(pending) == .alreadyFinalized(.cancelled))
            #expect(try await queue.cancel(999_999) == .notFound)

            try await withWorker(client, registry, testWorkerConfiguration(), logger: testLogger) { _ in
                let id = try await queue.enqueue(NewJob(kind: "long"))
                #expect(try await eventually(timeout: .seconds(30)) { running.value })
                let requestedAt = ContinuousClock.now
                #expect(try await queue.cancel(id) == .cancelRequested)
                #expect(try await eventually(timeout: .seconds(30)) { try await jobState(queue, id) == .cancelled })
                print("cancellation: running job cancelled \(ContinuousClock.now - requestedAt) after the request")
                #expect(sawCancellation.value)
                let job = try #require(try await queue.job(id))
                #expect(job.errors.last?.error.contains("cancelled") == true)
                #expect(job.cancelRequested)
            }
        }
    }

    @Test("graceful shutdown releases unfinished jobs without consuming an attempt, and lets quick ones finish")
    func gracefulShutdown() async throws {
        try await withFreshQueueDatabase { client in
            let queue = JobQueue(client: client, logger: testLogger)
            let started = Shared(0)
            var registry = JobRegistry()
            registry.register("forever") { _ in
                started.update { $0 += 1 }
                try await Task.sleep(for: .seconds(60))
                return .completed
            }
            registry.register("brief") { _ in
                started.update { $0 += 1 }
                try await Task.sleep(for: .milliseconds(200))
                return .completed
            }
            var configuration = testWorkerConfiguration()
            configuration.shutdownGracePeriod = .milliseconds(500)
            let long = try await queue.enqueue(NewJob(kind: "forever"))
            let brief = try await queue.enqueue(NewJob(kind: "brief"))
            // Timed from the moment the worker is told to stop, not from its start: on a busy
            // machine, starting and fetching alone can take seconds.
            let stopRequested = Shared(ContinuousClock.now)
            try await withWorker(client, registry, configuration, logger: testLogger) { _ in
                let bothStarted = try await eventually(timeout: .seconds(30)) { started.value == 2 }
                #expect(bothStarted)
                stopRequested.update { $0 = ContinuousClock.now }
            }
            let stopTook = ContinuousClock.now - stopRequested.value
            let released = try #require(try await queue.job(long))
            #expect(released.state == .available)
            #expect(released.attempt == 0)
            #expect(try await jobState(queue, brief) == .completed)
            print("graceful shutdown: returned after \(stopTook) (grace 500 ms)")
            // The forever job sleeps 60 s: stopping well before that shows the grace period cut it
            // short. The margin above 500 ms is the release statement on a loaded database.
            #expect(stopTook < .seconds(10))
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
