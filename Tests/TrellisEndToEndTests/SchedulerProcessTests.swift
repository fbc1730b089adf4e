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

extension EndToEndTests {
    @Test("two schedulers on one database enqueue every cron slot exactly once, across a killed leader")
    func twoSchedulers() async throws {
        try await withTestDatabase(label: "e2e_schedulers") { database in
            try await withChildren { children in
                // A per-agency schedule row (every minute) next to the code schedules (exports.prune every 15 min).
                let agency = UUID()
                let agencyText = agency.uuidString.lowercased()
                try await database.owner.query(
                    "INSERT INTO agencies (id, name, slug) VALUES (\(agency), 'End-to-end agency', 'e2e-agency')")
                try await database.owner.query("""
                    INSERT INTO trellis_cron_schedules (agency_id, name, expression, time_zone, kind, args, queue)
                    VALUES (\(agency), 'probe', '* * * * *', 'Europe/Madrid', 'system.probe', '{"noRecord": true}', 'default')
                    """)
                let agencySchedule = "agency:\(agencyText):probe"

                // The schedulers' clock: a file they read on every tick, moved one minute at a time.
                let clockURL = children.directory.appendingPathComponent("clock")
                let formatter = ISO8601DateFormatter()
                func setClock(_ date: Date) throws {
                    try Data(formatter.string(from: date).utf8).write(to: clockURL, options: .atomic)
                }
                let start = try #require(formatter.date(from: "2031-01-06T08:00:30Z"))
                try setClock(start)

                let environment: [String: String] = [
                    "DATABASE_URL": database.appSettings.conninfo,
                    "TESTBED_ROLE": "scheduler",
                    "TRELLIS_CLOCK_FILE": clockURL.path,
                    "SCHEDULER_TICK_SECONDS": "1",
                    "SCHEDULER_LEASE_SECONDS": "3",
                    "LOG_LEVEL": "info",
                    "LOG_FORMAT": "text",
                ]
                var schedulers = [
                    try children.start("scheduler-a", executable: "trellis-testbed", environment: environment),
                    try children.start("scheduler-b", executable: "trellis-testbed", environment: environment),
                ]
                // A worker runs the jobs, so the code schedule's unique key (held while its job is pending)
                // is free again at its next slot: one job per slot.
                _ = try children.start(
                    "worker", executable: "trellis-testbed", environment: workerEnvironment(database, queues: "default=4", lease: 5))

                func leaderPID() async throws -> Int32? {
                    for try await holder in try await database.owner.query(
                        "SELECT holder FROM trellis_leader WHERE name = 'trellis-scheduler' AND expires_at > now()"
                    ).decode(String.self) {
                        // holder = host-pid-random
                        let parts = holder.split(separator: "-")
                        return parts.count >= 3 ? Int32(parts[parts.count - 2]) : nil
                    }
                    return nil
                }
                let led = try await eventually(timeout: .seconds(60), every: .milliseconds(50)) { try await leaderPID() != nil }
                try #require(led, "no scheduler took the lead")
                // Let the leader see every schedule once at the starting time (its cursors start there).
                try await Task.sleep(for: .seconds(2))

                func slotExists(_ schedule: String, _ fireTime: Date) async throws -> Bool {
                    try await database.owner.count(
                        "SELECT count(*) FROM trellis_cron_slots WHERE schedule = \(schedule) AND fire_time = \(fireTime)"
                    ) == 1
                }

                let steps = 60
                let killAt = 30
                var killed: (pid: Int32, successor: Int32?)? = nil
                var slowest = 0.0
                for step in 1...steps {
                    let now = start.addingTimeInterval(Double(step) * 60)
                    try setClock(now)
                    if step == killAt, let pid = try await leaderPID(),
                        let leader = schedulers.first(where: { $0.pid == pid })
                    {
                        // The leader dies the moment the clock moves: the spare must take over once the lease
                        // expires, and a new spare joins.
                        leader.send(SIGKILL)
                        _ = try await leader.waitForExit(timeout: .seconds(10))
                        schedulers.removeAll { $0.pid == pid }
                        schedulers.append(
                            try children.start("scheduler-c", executable: "trellis-testbed", environment: environment))
                        killed = (pid, nil)
                    }
                    let fireTime = start.addingTimeInterval(Double(step) * 60 - 30)
                    let stepStarted = ContinuousClock.now
                    // The code schedules come first in a tick: once the agency slot is there, theirs are too.
                    let fired = try await eventually(timeout: .seconds(30), every: .milliseconds(20)) {
                        try await slotExists(agencySchedule, fireTime)
                    }
                    try #require(fired, "slot \(formatter.string(from: fireTime)) was not enqueued within 30 s")
                    slowest = max(slowest, (ContinuousClock.now - stepStarted).secondsValue)
                    if step == killAt, let k = killed { killed = (k.pid, try await leaderPID()) }
                }
                // Stragglers (a scheduler acting late) would show up now.
                try await Task.sleep(for: .seconds(3))

                var fireTimes: [String: [Date]] = [:]
                for try await (schedule, fireTime) in try await database.owner.query(
                    "SELECT schedule, fire_time FROM trellis_cron_slots ORDER BY schedule, fire_time"
                ).decode((String, Date).self) {
                    fireTimes[schedule, default: []].append(fireTime)
                }
                let slots = fireTimes.values.map(\.count).reduce(0, +)
                // Missing: the agency schedule must have every minute from the first step to the last; a code
                // schedule (every 5 or 15 minutes, …: whatever PlatformJobs says) must have no gap larger than
                // its smallest one within the hour.
                var missing = 0
                for (schedule, times) in fireTimes {
                    if schedule == agencySchedule {
                        let expected = (1...steps).map { start.addingTimeInterval(Double($0) * 60 - 30) }
                        missing += Set(expected).subtracting(times).count
                        continue
                    }
                    let gaps = zip(times.dropFirst(), times).map { $0.timeIntervalSince($1) }
                    guard let step = gaps.min(), step > 0 else { continue }
                    missing += gaps.map { Int(($0 / step).rounded()) - 1 }.reduce(0, +)
                }
                let jobs = try await database.owner.count("SELECT count(*) FROM trellis_jobs WHERE metadata ? 'cron_schedule'")
                let duplicates = try await database.owner.count("""
                    SELECT coalesce(sum(n - 1), 0)::int8 FROM (
                        SELECT count(*) AS n FROM trellis_jobs WHERE metadata ? 'cron_schedule'
                         GROUP BY metadata->>'cron_schedule', (metadata->>'cron_fire_time')::timestamptz) d
                    """)
                // Every slot names its own job (same schedule and fire time in the job's metadata).
                let mismatched = try await database.owner.count("""
                    SELECT count(*) FROM trellis_cron_slots s
                     WHERE NOT EXISTS (SELECT 1 FROM trellis_jobs j
                                        WHERE j.id = s.job_id AND j.metadata->>'cron_schedule' = s.schedule
                                          AND (j.metadata->>'cron_fire_time')::timestamptz = s.fire_time)
                    """)
                let agencyJobs = try await database.owner.count(
                    "SELECT count(*) FROM trellis_jobs WHERE agency_id = \(agency) AND kind = 'system.probe'")
                print("""
                    schedulers=2 slots=\(slots) jobs=\(jobs) duplicates=\(duplicates) missing=\(missing) \
                    agency_slots=\(fireTimes[agencySchedule]?.count ?? 0) \
                    code_slots=\(fireTimes.filter { $0.key != agencySchedule }.map { "\($0.key):\($0.value.count)" }.sorted().joined(separator: ",")) \
                    leader_killed_at_step=\(killAt) new_leader=\(killed?.successor.map(String.init) ?? "?") \
                    slowest_slot_s=\(String(format: "%.1f", slowest))
                    """)
                #expect(fireTimes[agencySchedule]?.count == steps, "one slot per minute of the agency schedule")
                #expect(fireTimes[agencySchedule]?.first == start.addingTimeInterval(30))
                let codeSlots = fireTimes.filter { $0.key != agencySchedule }.map(\.value.count).reduce(0, +)
                #expect(codeSlots > 0, "the code schedules (exports.prune every 15 min, …) fire too")
                #expect(jobs == slots)
                #expect(duplicates == 0)
                #expect(missing == 0)
                #expect(mismatched == 0)
                #expect(agencyJobs == steps)
                let successor = try #require(killed?.successor, "a scheduler leads after the kill")
                #expect(successor != killed?.pid)
                let allRunning = schedulers.allSatisfy { $0.isRunning }
                #expect(allRunning)
            }
        }
    }
}
