import Foundation
import PostgresNIO
import Synchronization
import Testing
import TrellisQueue
import TrellisTestSupport

/// Promote, rescue and prune run on one worker of those sharing a database (the holder of the maintenance
/// lease), and move to another when it stops.
@Suite("Queue maintenance runs on one leader")
struct MaintenanceLeaderTests {
    @Test func oneWorkerLeadsMaintenanceAndAnotherTakesOverWhenItStops() async throws {
        try await withFreshQueueDatabase { client in
            let logger = QueueTestDatabase.logger
            var registry = JobRegistry()
            registry.register("t.noop") { _ in .completed }
            let a = JobWorker(client: client, registry: registry, configuration: testWorkerConfiguration(workerID: "worker-a"), logger: logger)
            let b = JobWorker(client: client, registry: registry, configuration: testWorkerConfiguration(workerID: "worker-b"), logger: logger)
            let queue = JobQueue(client: client, logger: logger)
            func holder() async throws -> String? {
                let rows = try await client.query("SELECT holder FROM trellis_leader WHERE name = \(JobWorker.maintenanceLease)", logger: logger)
                for try await name in rows.decode(String.self) { return name }
                return nil
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await a.run() }
                group.addTask { try await b.run() }
                #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(20)) { a.leadsMaintenance || b.leadsMaintenance })
                // For a while, never both.
                var both = 0
                for _ in 0..<40 {
                    if a.leadsMaintenance && b.leadsMaintenance { both += 1 }
                    try await Task.sleep(for: .milliseconds(25))
                }
                #expect(both == 0, "two workers led maintenance at once")
                // The lease's holder in the database is the leader, and its flag says so. A renewal that times out
                // on a loaded machine clears the flag until the next one succeeds, so they agree within a while.
                #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(20)) {
                    let current = try await holder()
                    return (current == a.workerID && a.leadsMaintenance) || (current == b.workerID && b.leadsMaintenance)
                })
                let (leader, spare) = try await holder() == a.workerID ? (a, b) : (b, a)

                // The leader stops; the spare takes the lease and does the maintenance: a due scheduled job is promoted.
                leader.requestShutdown()
                #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(20)) { spare.leadsMaintenance })
                #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(20)) { try await holder() == spare.workerID })
                let due = try await queue.enqueue(NewJob(kind: "t.noop", runAt: Date().addingTimeInterval(0.3)))
                #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(50)) { try await queue.job(due)?.state == .completed })
                spare.requestShutdown()
                try await group.waitForAll()
            }
            let left = try await holder()
            #expect(left == nil, "a worker that stops hands the lease back; still held by \(left ?? "-")")
        }
    }
}
