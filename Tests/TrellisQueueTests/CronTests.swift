import Foundation
import PostgresNIO
import ServiceLifecycle
import Testing
import TrellisTestSupport

@testable import TrellisQueue

private func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)!
}

private func iso(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
}

@Suite("Cron expressions")
struct CronExpressionTests {
    let utcZone = TimeZone(identifier: "UTC")!
    let newYork = TimeZone(identifier: "America/New_York")!

    func next(_ expression: String, after: String, in zone: TimeZone? = nil, count: Int = 1) throws -> [String] {
        let cron = try CronExpression(expression)
        var cursor = utc(after)
        var result: [String] = []
        for _ in 0..<count {
            guard let fire = cron.nextFireTime(after: cursor, in: zone ?? utcZone) else { break }
            result.append(iso(fire))
            cursor = fire
        }
        return result
    }

    @Test("fields: *, values, lists, ranges, steps, names")
    func fields() throws {
        #expect(try next("* * * * *", after: "2024-05-01T10:00:30Z", count: 2) == ["2024-05-01T10:01:00Z", "2024-05-01T10:02:00Z"])
        #expect(try next("*/15 * * * *", after: "2024-05-01T10:07:00Z", count: 3) == ["2024-05-01T10:15:00Z", "2024-05-01T10:30:00Z", "2024-05-01T10:45:00Z"])
        #expect(try next("5,35 9-10 * * *", after: "2024-05-01T09:10:00Z", count: 4) == [
            "2024-05-01T09:35:00Z", "2024-05-01T10:05:00Z", "2024-05-01T10:35:00Z", "2024-05-02T09:05:00Z",
        ])
        #expect(try next("0 8-18/4 * * *", after: "2024-05-01T00:00:00Z", count: 4) == [
            "2024-05-01T08:00:00Z", "2024-05-01T12:00:00Z", "2024-05-01T16:00:00Z", "2024-05-02T08:00:00Z",
        ])
        #expect(try next("50/5 * * * *", after: "2024-05-01T10:00:00Z", count: 3) == ["2024-05-01T10:50:00Z", "2024-05-01T10:55:00Z", "2024-05-01T11:50:00Z"])
        #expect(try next("0 9 * JAN,jul MON-FRI", after: "2024-06-28T00:00:00Z", count: 2) == ["2024-07-01T09:00:00Z", "2024-07-02T09:00:00Z"])
        #expect(try next("0 0 * * 7", after: "2024-05-01T00:00:00Z") == ["2024-05-05T00:00:00Z"])  // 7 = Sunday
        #expect(try next("@hourly", after: "2024-05-01T10:20:00Z") == ["2024-05-01T11:00:00Z"])
        #expect(try next("@monthly", after: "2024-05-01T00:00:00Z") == ["2024-06-01T00:00:00Z"])
        #expect(try next("0 0 29 2 *", after: "2024-03-01T00:00:00Z") == ["2028-02-29T00:00:00Z"])
        #expect(try next("0 0 30 2 *", after: "2024-03-01T00:00:00Z").isEmpty)
    }

    @Test("day-of-month and day-of-week: either matches when both are restricted (Vixie), both otherwise")
    func vixieDayRule() throws {
        // 2024-05: the 1st is a Wednesday; Mondays are the 6th, 13th, ...
        #expect(try next("0 12 1,15 * MON", after: "2024-05-01T13:00:00Z", count: 4) == [
            "2024-05-06T12:00:00Z", "2024-05-13T12:00:00Z", "2024-05-15T12:00:00Z", "2024-05-20T12:00:00Z",
        ])
        // Day-of-month "*" → only the weekday counts.
        #expect(try next("0 12 * * MON", after: "2024-05-01T13:00:00Z") == ["2024-05-06T12:00:00Z"])
        // "*/2" in day-of-month counts as unrestricted (starts with *): both must match.
        #expect(try next("0 12 */2 * MON", after: "2024-05-01T13:00:00Z") == ["2024-05-13T12:00:00Z"])
    }

    @Test("rejects malformed expressions")
    func errors() {
        for bad in ["", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
                    "5-1 * * * *", "*/0 * * * *", "a * * * *", "1,,2 * * * *", "* * * FOO *"]
        {
            #expect(throws: CronParseError.self, "\(bad)") { try CronExpression(bad) }
        }
    }

    @Test("time zones and DST: skipped wall times shift forward once, repeated ones fire once")
    func daylightSaving() throws {
        // New York springs forward on 2024-03-10 at 02:00 EST → 03:00 EDT.
        #expect(try next("30 2 * * *", after: "2024-03-09T12:00:00Z", in: newYork, count: 3) == [
            "2024-03-10T07:30:00Z",  // 02:30 does not exist: 03:30 EDT
            "2024-03-11T06:30:00Z",  // 02:30 EDT
            "2024-03-12T06:30:00Z",
        ])
        #expect(try next("0 9 * * *", after: "2024-03-09T15:00:00Z", in: newYork, count: 2) == [
            "2024-03-10T13:00:00Z", "2024-03-11T13:00:00Z",  // 09:00 EDT
        ])
        // Falls back on 2024-11-03 at 02:00 EDT → 01:00 EST: 01:30 happens twice, fires once.
        #expect(try next("30 1 * * *", after: "2024-11-02T12:00:00Z", in: newYork, count: 3) == [
            "2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z", "2024-11-05T06:30:00Z",
        ])
        // Every 30 minutes follows real time through the repeated hour.
        #expect(try next("*/30 * * * *", after: "2024-11-03T04:45:00Z", in: newYork, count: 5) == [
            "2024-11-03T05:00:00Z", "2024-11-03T05:30:00Z", "2024-11-03T06:00:00Z", "2024-11-03T06:30:00Z", "2024-11-03T07:00:00Z",
        ])
        // Through the spring gap, hourly at :00 never repeats or goes back.
        let hourly = try next("0 * * * *", after: "2024-03-10T05:30:00Z", in: newYork, count: 3)
        #expect(hourly == ["2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z"])
        // A half-hour zone.
        let kolkata = TimeZone(identifier: "Asia/Kolkata")!
        #expect(try next("0 9 * * *", after: "2024-05-01T00:00:00Z", in: kolkata) == ["2024-05-01T03:30:00Z"])
    }

    @Test("fireTimes lists the fire times in a window")
    func window() throws {
        let cron = try CronExpression("0 */6 * * *")
        let times = cron.fireTimes(after: utc("2024-05-01T00:00:00Z"), through: utc("2024-05-02T00:00:00Z"), in: utcZone)
        #expect(times.map(iso) == ["2024-05-01T06:00:00Z", "2024-05-01T12:00:00Z", "2024-05-01T18:00:00Z", "2024-05-02T00:00:00Z"])
    }
}

/// A clock the test moves.
final class MovableClock: Sendable {
    private let current: Shared<Date>
    init(_ start: Date) { current = Shared(start) }
    var now: Date { current.value }
    func advance(_ seconds: TimeInterval) { current.update { $0 = $0.addingTimeInterval(seconds) } }
}

@Suite("Cron scheduler")
struct CronSchedulerTests {
    func makeScheduler(
        _ client: PostgresClient, _ schedules: [CronSchedule], clock: MovableClock, holder: String,
        agencySchedules: Bool = false
    ) -> CronScheduler {
        CronScheduler(
            client: client, schedules: schedules,
            configuration: .init(holderID: holder, leaseDuration: .seconds(30), loadAgencySchedules: agencySchedules,
                                 agencyScheduleReloadInterval: .zero),
            now: { clock.now }, logger: testLogger
        )
    }

    @Test("two schedulers on one database: every slot is enqueued exactly once, across a leader change")
    func exactlyOnce() async throws {
        try await withFreshQueueDatabase { client in
            let clock = MovableClock(utc("2024-05-01T09:59:30Z"))
            let schedules = [
                try CronSchedule(name: "every-minute", expression: "* * * * *", job: NewJob(kind: "tick")),
                try CronSchedule(name: "every-5", expression: "*/5 * * * *", timeZone: "Europe/Madrid", job: NewJob(kind: "five", queue: "cron")),
            ]
            let a = makeScheduler(client, schedules, clock: clock, holder: "scheduler-a")
            let b = makeScheduler(client, schedules, clock: clock, holder: "scheduler-b")
            var leaders: [String] = []
            for step in 0..<60 {
                if step == 30 {
                    // The leader hangs for a tick: its lease expires and the spare takes over.
                    try await client.query("UPDATE trellis_leader SET expires_at = now() - interval '1 second'")
                    let hung = a.isLeader ? "a" : "b"
                    let spare = hung == "a" ? b : a
                    #expect(try await spare.tick().isLeader)
                    leaders.append(hung == "a" ? "b" : "a")
                } else {
                    async let ra = a.tick()
                    async let rb = b.tick()
                    let (reportA, reportB) = try await (ra, rb)
                    #expect(reportA.isLeader != reportB.isLeader)
                    if step == 0 { leaders.append(reportA.isLeader ? "a" : "b") }
                }
                // Regardless of the lease, both racing on the same slots must not double-enqueue.
                async let fa = a.enqueueDueSlots()
                async let fb = b.enqueueDueSlots()
                _ = try await (fa, fb)
                clock.advance(60)
            }
            let minuteSlots = try await scalar(client, "SELECT count(*) FROM trellis_cron_slots WHERE schedule = 'every-minute'")
            let minuteJobs = try await scalar(client, "SELECT count(*) FROM trellis_jobs WHERE kind = 'tick'")
            let distinctMinuteFires = try await scalar(client, "SELECT count(DISTINCT metadata->>'cron_fire_time') FROM trellis_jobs WHERE kind = 'tick'")
            let fiveJobs = try await scalar(client, "SELECT count(*) FROM trellis_jobs WHERE kind = 'five'")
            let unlinked = try await scalar(client, "SELECT count(*) FROM trellis_cron_slots s WHERE NOT EXISTS (SELECT 1 FROM trellis_jobs j WHERE j.id = s.job_id)")
            print("cron: 60 minutes on a movable clock, 2 schedulers (leaders at steps 0 and 30: \(leaders)); every-minute slots \(minuteSlots), jobs \(minuteJobs); every-5 jobs \(fiveJobs)")
            // First sight at 09:59:30; then 10:00 … 10:59 are due over the 60 steps.
            #expect(minuteSlots == 59)
            #expect(minuteJobs == 59)
            #expect(distinctMinuteFires == 59)
            #expect(fiveJobs == 12)
            #expect(unlinked == 0)
            #expect(leaders.count == 2 && leaders[0] != leaders[1])

            let job = try #require(try await JobQueue(client: client).job(1))
            let context = JobContext(id: job.id, queue: job.queue, kind: job.kind, args: job.args, attempt: 1, maxAttempts: 1, agencyID: nil, metadata: job.metadata)
            #expect(context.cronSchedule != nil)
            #expect(context.cronFireTime != nil)
        }
    }

    @Test("after downtime, .runOnce enqueues one job for the missed slots and .skip none")
    func missedSlots() async throws {
        try await withFreshQueueDatabase { client in
            let clock = MovableClock(utc("2024-05-01T10:00:30Z"))
            let schedules = [
                try CronSchedule(name: "catch-up", expression: "*/10 * * * *", job: NewJob(kind: "catch-up"), missedSlots: .runOnce),
                try CronSchedule(name: "skipper", expression: "*/10 * * * *", job: NewJob(kind: "skipper"), missedSlots: .skip),
            ]
            let first = makeScheduler(client, schedules, clock: clock, holder: "one")
            _ = try await first.tick()  // first sight
            clock.advance(600)  // 10:10:30: on time
            let onTime = try await first.tick()
            #expect(onTime.fired.map(\.schedule).sorted() == ["catch-up", "skipper"])
            // Down for an hour and a bit; a new process (no memory) comes back at 11:25:30.
            try await client.query("DELETE FROM trellis_leader")
            clock.advance(75 * 60)
            let second = makeScheduler(client, schedules, clock: clock, holder: "two")
            let afterDowntime = try await second.tick()
            #expect(afterDowntime.fired.map(\.schedule) == ["catch-up"])
            #expect(afterDowntime.fired.first?.fireTime == utc("2024-05-01T11:20:00Z"))
            clock.advance(5 * 60)  // 11:30:30: both fire again, on time
            let next = try await second.tick()
            #expect(next.fired.map(\.schedule).sorted() == ["catch-up", "skipper"])
            #expect(try await scalar(client, "SELECT count(*) FROM trellis_jobs WHERE kind = 'catch-up'") == 3)
            #expect(try await scalar(client, "SELECT count(*) FROM trellis_jobs WHERE kind = 'skipper'") == 2)
        }
    }

    @Test("per-agency schedules come from trellis_cron_schedules, with their time zone and agency")
    func agencySchedules() async throws {
        try await withFreshQueueDatabase { client in
            let agency = UUID()
            try await client.query("""
                INSERT INTO trellis_cron_schedules (agency_id, name, expression, time_zone, kind, args, queue)
                VALUES (\(agency), 'morning-digest', '0 9 * * *', 'Europe/Madrid', 'digest', '{"scope":"agency"}', 'digests'),
                       (\(agency), 'broken', 'not a cron', 'UTC', 'digest', '{}', 'digests')
                """)
            // 2024-05-01 09:00 in Madrid (CEST, +02:00) is 07:00Z.
            let clock = MovableClock(utc("2024-05-01T06:59:00Z"))
            let scheduler = makeScheduler(client, [], clock: clock, holder: "s", agencySchedules: true)
            _ = try await scheduler.tick()
            clock.advance(60)
            let report = try await scheduler.tick()
            #expect(report.fired.count == 1)
            let fired = try #require(report.fired.first)
            #expect(fired.schedule == "agency:\(agency.uuidString.lowercased()):morning-digest")
            #expect(fired.fireTime == utc("2024-05-01T07:00:00Z"))
            let job = try #require(try await JobQueue(client: client).job(fired.result.jobID))
            #expect(job.agencyID == agency)
            #expect(job.queue == "digests")
            #expect(job.kind == "digest")
        }
    }

    @Test("the scheduler runs as a service and hands over the lease when it stops")
    func serviceLease() async throws {
        try await withFreshQueueDatabase { client in
            let scheduler = CronScheduler(
                client: client, schedules: [],
                configuration: .init(holderID: "svc", tickInterval: .milliseconds(50), loadAgencySchedules: false),
                logger: testLogger
            )
            let spare = CronScheduler(
                client: client, schedules: [], configuration: .init(holderID: "spare", loadAgencySchedules: false),
                logger: testLogger
            )
            let group = ServiceGroup(configuration: .init(services: [.init(service: scheduler)], logger: testLogger))
            let task = Task { try await group.run() }
            #expect(try await eventually(timeout: .seconds(30)) { scheduler.isLeader })
            #expect(try await spare.tick().isLeader == false)
            await group.triggerGracefulShutdown()
            try await task.value
            #expect(try await spare.tick().isLeader == true)
        }
    }
}
