import Foundation

/// A task as the weekly digest sees it.
public struct DigestTask: Sendable, Hashable, Codable {
    public var id: String
    public var planName: String
    public var name: String
    public var start: Date
    public var finish: Date
    public var percentComplete: Int
    public var actualFinish: Date?
    public var isSummary: Bool

    public init(id: String, planName: String, name: String, start: Date, finish: Date, percentComplete: Int,
                actualFinish: Date? = nil, isSummary: Bool = false) {
        self.id = id
        self.planName = planName
        self.name = name
        self.start = start
        self.finish = finish
        self.percentComplete = percentComplete
        self.actualFinish = actualFinish
        self.isSummary = isSummary
    }
}

/// How a plan's finish (the end of its critical path) compares with its latest baseline.
public struct PlanSlip: Sendable, Hashable, Codable {
    public var planName: String
    public var baselineName: String
    public var baselineFinish: Date
    public var currentFinish: Date
    /// Positive: the plan now finishes later than the baseline said.
    public var slipSeconds: Double

    public init(planName: String, baselineName: String, baselineFinish: Date, currentFinish: Date) {
        self.planName = planName
        self.baselineName = baselineName
        self.baselineFinish = baselineFinish
        self.currentFinish = currentFinish
        self.slipSeconds = currentFinish.timeIntervalSince(baselineFinish)
    }
}

public struct DigestItem: Sendable, Hashable, Codable {
    public var taskId: String
    public var planName: String
    public var name: String
    /// The finish (done: the actual finish when known).
    public var at: Date
}

/// A client's week: done last week, due this week, overdue, and the critical path's slip.
public struct WeeklyDigest: Sendable, Hashable, Codable {
    public var clientName: String
    public var timeZone: String
    public var weekStart: Date
    public var doneLastWeek: [DigestItem]
    public var dueThisWeek: [DigestItem]
    public var overdue: [DigestItem]
    public var slips: [PlanSlip]

    /// Last week is `[now − 7 d, now)`, this week `[now, now + 7 d)`. Summary tasks are left out.
    public static func build(clientName: String, timeZone: String, now: Date, tasks: [DigestTask], slips: [PlanSlip]) -> WeeklyDigest {
        let week: TimeInterval = 7 * 24 * 3600
        let lastWeek = now.addingTimeInterval(-week)..<now
        let thisWeek = now..<now.addingTimeInterval(week)
        var done: [DigestItem] = [], due: [DigestItem] = [], overdue: [DigestItem] = []
        for task in tasks where !task.isSummary {
            if task.percentComplete >= 100 {
                let finishedAt = task.actualFinish ?? task.finish
                if lastWeek.contains(finishedAt) {
                    done.append(DigestItem(taskId: task.id, planName: task.planName, name: task.name, at: finishedAt))
                }
            } else if thisWeek.contains(task.finish) {
                due.append(DigestItem(taskId: task.id, planName: task.planName, name: task.name, at: task.finish))
            } else if task.finish < now {
                overdue.append(DigestItem(taskId: task.id, planName: task.planName, name: task.name, at: task.finish))
            }
        }
        let order: (DigestItem, DigestItem) -> Bool = { ($0.at, $0.name, $0.taskId) < ($1.at, $1.name, $1.taskId) }
        return WeeklyDigest(
            clientName: clientName, timeZone: timeZone, weekStart: now, doneLastWeek: done.sorted(by: order),
            dueThisWeek: due.sorted(by: order), overdue: overdue.sorted(by: order), slips: slips.sorted { $0.planName < $1.planName })
    }

    public var title: String { "Weekly digest — \(clientName)" }

    /// Plain text for the inbox.
    public var body: String {
        let zone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
        var lines: [String] = []
        func section(_ heading: String, _ items: [DigestItem]) {
            lines.append("\(heading) (\(items.count))")
            for item in items { lines.append("- \(item.name) — \(item.planName), \(ReminderRule.format(item.at, zone, label: timeZone))") }
        }
        section("Done last week", doneLastWeek)
        section("Due this week", dueThisWeek)
        section("Overdue", overdue)
        if slips.isEmpty {
            lines.append("Critical path: no baseline to compare with")
        } else {
            for slip in slips {
                let days = slip.slipSeconds / 86_400
                let text = abs(days) < 0.01
                    ? "on the baseline “\(slip.baselineName)”"
                    : "\(days > 0 ? "+" : "")\(String(format: "%.1f", days)) days vs. baseline “\(slip.baselineName)”"
                lines.append("Critical path of \(slip.planName): \(text)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
