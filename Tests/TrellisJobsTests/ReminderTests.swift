import Foundation
import PostgresNIO
import Testing
import TrellisTestSupport
import TrellisDomain
import TrellisJobs
import TrellisQueue
import TrellisStore

@Suite("Reminder rule (pure)")
struct ReminderRuleTests {
    let now = Date(timeIntervalSince1970: 1_772_442_000)  // 2026-03-02T09:00:00Z
    func at(_ hours: Double) -> Date { now.addingTimeInterval(hours * 3600) }

    @Test func startingAndDueWithinTheWindow() {
        let tasks = [
            ReminderTask(id: "a", name: "A", start: at(2), finish: at(30), percentComplete: 0),
            ReminderTask(id: "b", name: "B", start: at(-5), finish: at(3), percentComplete: 40),
            ReminderTask(id: "far", name: "Far", start: at(48), finish: at(60), percentComplete: 0),
        ]
        let reminders = Set(ReminderRule.reminders(for: tasks, now: now, window: 24 * 3600))
        #expect(reminders == [
            Reminder(taskID: "a", kind: .taskStarting, instant: at(2)),
            Reminder(taskID: "b", kind: .taskDue, instant: at(3)),
        ])
    }

    @Test func theWindowIsHalfOpen() {
        let tasks = [
            ReminderTask(id: "now", name: "Now", start: now, finish: at(100), percentComplete: 0),
            ReminderTask(id: "edge", name: "Edge", start: at(24), finish: at(100), percentComplete: 0),
        ]
        #expect(ReminderRule.reminders(for: tasks, now: now, window: 24 * 3600).map(\.taskID) == ["now"])
    }

    @Test func overdueWhenTheFinishPassedAndNotDone() {
        let tasks = [
            ReminderTask(id: "late", name: "Late", start: at(-30), finish: at(-1), percentComplete: 80),
            ReminderTask(id: "done", name: "Done", start: at(-30), finish: at(-1), percentComplete: 100),
            ReminderTask(id: "ancient", name: "Ancient", start: at(-2000), finish: at(-1900), percentComplete: 0),
        ]
        let reminders = ReminderRule.reminders(for: tasks, now: now)
        #expect(reminders == [Reminder(taskID: "late", kind: .taskOverdue, instant: at(-1))])
    }

    @Test func summariesStartedTasksAndMilestones() {
        let tasks = [
            ReminderTask(id: "summary", name: "Phase", start: at(1), finish: at(2), percentComplete: 0, isSummary: true),
            ReminderTask(id: "started", name: "Started", start: at(1), finish: at(50), percentComplete: 0, actualStart: at(-1)),
            ReminderTask(id: "milestone", name: "Go live", start: at(5), finish: at(5), percentComplete: 0),
        ]
        #expect(ReminderRule.reminders(for: tasks, now: now) == [Reminder(taskID: "milestone", kind: .taskDue, instant: at(5))])
    }

    @Test func textsNameTheTaskPlanAndLocalTime() {
        #expect(ReminderRule.title(.taskOverdue, task: "Kick-off") == "Overdue: Kick-off")
        let body = ReminderRule.body(.taskStarting, task: "Kick-off", plan: "Aurora", instant: now, timeZone: TimeZone(identifier: "Europe/Madrid")!)
        #expect(body == "Kick-off (Aurora) starts 2026-03-02 10:00 Europe/Madrid.")
    }
}

@Suite("Reminder scan")
struct ReminderScanTests {
    @Test func remindersAreCreatedOnceEvenWhenTheScanRunsTwice() async throws {
        try await JobsHarness.run { h in
            let (_, plan) = try await h.clientWithPlan()
            let hook = try await h.call(.post, "/v1/webhooks", json: #"{"url":"http://127.0.0.1:9/h","events":["task.starting","task.due"]}"#)
            #expect(hook.status == 201)
            let (document, timeline) = try await h.timeline(plan)
            let first = try #require(timeline.tasks.filter { !$0.isSummary && $0.earlyStart != $0.earlyFinish }.min { $0.earlyStart < $1.earlyStart })
            let now = first.earlyStart.addingTimeInterval(-3600)
            let names = Dictionary(uniqueKeysWithValues: document.tasks.map { ($0.id.lowercasedString, $0) })
            let expected = ReminderRule.reminders(for: timeline.tasks.map {
                ReminderTask(id: $0.id, name: names[$0.id]?.name ?? "", start: $0.earlyStart, finish: $0.earlyFinish,
                             percentComplete: names[$0.id]?.percentComplete ?? 0, isSummary: $0.isSummary)
            }, now: now)
            #expect(expected.contains { $0.kind == .taskStarting && $0.taskID == first.id })

            let scan = RemindersScanJob(database: h.database)
            let created = try await scan.scan(now: now, logger: h.logger)
            #expect(created == expected.count)
            #expect(try await h.count("SELECT count(*) FROM notifications WHERE member_id = \(h.ownerID)") == expected.count)
            #expect(try await h.count("SELECT count(*) FROM reminders_sent") == expected.count)
            let deliveries = try await h.count("SELECT count(*) FROM trellis_jobs WHERE kind = 'webhook.deliver'")
            #expect(deliveries == expected.filter { [.taskStarting, .taskDue].contains($0.kind) }.count)

            // Again, and again a minute later: nothing new.
            #expect(try await scan.scan(now: now, logger: h.logger) == 0)
            #expect(try await scan.scan(now: now.addingTimeInterval(60), logger: h.logger) == 0)
            #expect(try await h.count("SELECT count(*) FROM notifications") == expected.count)
            #expect(try await h.count("SELECT count(*) FROM trellis_jobs WHERE kind = 'webhook.deliver'") == deliveries)

            // The inbox shows them to the assignee.
            let inbox = try await h.call(.get, "/v1/notifications?unread=true")
            #expect(inbox.status == 200)
            let items = inbox.json["items"] as? [[String: Any]] ?? []
            #expect(items.count == expected.count)
            #expect(inbox.json["unreadCount"] as? Int == expected.count)
            #expect(items.contains { $0["kind"] as? String == "task_starting" && $0["taskId"] as? String == first.id })
        }
    }

    @Test func overdueTasksAreFlaggedOnceAndDoneTasksAreNot() async throws {
        try await JobsHarness.run { h in
            let (_, plan) = try await h.clientWithPlan()
            let (_, timeline) = try await h.timeline(plan)
            let leaves = timeline.tasks.filter { !$0.isSummary && $0.earlyStart != $0.earlyFinish }.sorted { $0.earlyFinish < $1.earlyFinish }
            let late = try #require(leaves.first)
            let done = try #require(leaves.dropFirst().first { $0.earlyFinish < late.earlyFinish.addingTimeInterval(3 * 86_400) })
            try await h.db.owner.query(
                "UPDATE plan_tasks SET percent_complete = 100 WHERE id = \(UUID(uuidString: done.id)!)", logger: h.logger)
            let now = max(late.earlyFinish, done.earlyFinish).addingTimeInterval(3600)
            let scan = RemindersScanJob(database: h.database)
            _ = try await scan.scan(now: now, logger: h.logger)
            let overdue = "SELECT count(*) FROM notifications WHERE kind = 'task_overdue' AND task_id = "
            #expect(try await h.count("\(unescaped: overdue)\(UUID(uuidString: late.id)!)") == 1)
            #expect(try await h.count("\(unescaped: overdue)\(UUID(uuidString: done.id)!)") == 0)
            _ = try await scan.scan(now: now.addingTimeInterval(300), logger: h.logger)
            #expect(try await h.count("\(unescaped: overdue)\(UUID(uuidString: late.id)!)") == 1)
        }
    }

    @Test func theScheduledJobRunsThroughTheWorker() async throws {
        try await JobsHarness.run { h in
            _ = try await h.clientWithPlan()
            let id = try await h.queue.enqueue(NewJob(kind: RemindersScanJob.kind, agencyID: nil))
            let registry = PlatformJobs.registry(database: h.database)
            let done = try await withWorker(h.db.app, registry, testWorkerConfiguration(queues: ["default": 2]), logger: h.logger) { _ in
                try await eventually(timeout: .seconds(20), every: .milliseconds(50)) { try await h.queue.job(id)?.state == .completed }
            }
            #expect(done)
            let schedules = try PlatformJobs.schedules().map(\.name)
            #expect(Set(schedules).isSuperset(of: ["reminders.scan", "digest.weekly", "notifications.prune"]))
        }
    }
}
