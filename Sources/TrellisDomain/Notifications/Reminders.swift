import Foundation

/// What a reminder is about. The raw values are the inbox notification kinds.
public enum ReminderKind: String, Sendable, Hashable, Codable, CaseIterable {
    case taskStarting = "task_starting"
    case taskDue = "task_due"
    case taskOverdue = "task_overdue"

    /// The webhook event a reminder of this kind raises.
    public var event: WebhookEvent {
        switch self {
        case .taskStarting: .taskStarting
        case .taskDue: .taskDue
        case .taskOverdue: .taskOverdue
        }
    }
}

/// A scheduled task as the reminder rule sees it: when it starts and finishes (instants from the
/// timeline) and how far along it is.
public struct ReminderTask: Sendable, Hashable {
    public var id: String
    public var name: String
    public var start: Date
    public var finish: Date
    public var percentComplete: Int
    /// Summary tasks roll up their children: never reminded themselves.
    public var isSummary: Bool
    public var actualStart: Date?

    public init(id: String, name: String, start: Date, finish: Date, percentComplete: Int, isSummary: Bool = false, actualStart: Date? = nil) {
        self.id = id
        self.name = name
        self.start = start
        self.finish = finish
        self.percentComplete = percentComplete
        self.isSummary = isSummary
        self.actualStart = actualStart
    }
}

/// One reminder to send: the task, the kind, and the instant it is about (the scheduled start or
/// finish). (task, kind, instant) identifies it: sent once; a task that moves gets a new reminder.
public struct Reminder: Sendable, Hashable {
    public var taskID: String
    public var kind: ReminderKind
    public var instant: Date

    public init(taskID: String, kind: ReminderKind, instant: Date) {
        self.taskID = taskID
        self.kind = kind
        self.instant = instant
    }
}

/// Which tasks need which reminder at `now`:
/// - starting: not started (0 %, no actual start) and the start falls in `[now, now + window)`;
/// - due: not done (< 100 %) and the finish falls in `[now, now + window)`; a milestone (start = finish)
///   gets only this one;
/// - overdue: not done and the finish is before `now` (at most `overdueLookback` ago, so a plan
///   imported long after the fact does not flood the inbox).
public enum ReminderRule {
    public static let defaultWindow: TimeInterval = 24 * 3600
    public static let defaultOverdueLookback: TimeInterval = 30 * 24 * 3600

    public static func reminders(
        for tasks: [ReminderTask], now: Date, window: TimeInterval = defaultWindow,
        overdueLookback: TimeInterval = defaultOverdueLookback
    ) -> [Reminder] {
        let horizon = now.addingTimeInterval(window)
        var result: [Reminder] = []
        for task in tasks where !task.isSummary {
            let done = task.percentComplete >= 100
            if done { continue }
            let isMilestone = task.start == task.finish
            let notStarted = task.percentComplete == 0 && task.actualStart == nil
            if notStarted, !isMilestone, task.start >= now, task.start < horizon {
                result.append(Reminder(taskID: task.id, kind: .taskStarting, instant: task.start))
            }
            if task.finish >= now, task.finish < horizon {
                result.append(Reminder(taskID: task.id, kind: .taskDue, instant: task.finish))
            } else if task.finish < now, task.finish >= now.addingTimeInterval(-overdueLookback) {
                result.append(Reminder(taskID: task.id, kind: .taskOverdue, instant: task.finish))
            }
        }
        return result
    }

    /// The inbox title of a reminder.
    public static func title(_ kind: ReminderKind, task: String) -> String {
        switch kind {
        case .taskStarting: "Starting soon: \(task)"
        case .taskDue: "Due soon: \(task)"
        case .taskOverdue: "Overdue: \(task)"
        }
    }

    /// The inbox body: the plan and the instant, in the client's time zone.
    /// `zoneName` labels the time (the client's IANA name; `TimeZone.identifier` may say GMT for UTC).
    public static func body(_ kind: ReminderKind, task: String, plan: String, instant: Date, timeZone: TimeZone, zoneName: String? = nil) -> String {
        let when = format(instant, timeZone, label: zoneName)
        switch kind {
        case .taskStarting: return "\(task) (\(plan)) starts \(when)."
        case .taskDue: return "\(task) (\(plan)) is due \(when)."
        case .taskOverdue: return "\(task) (\(plan)) was due \(when) and is not complete."
        }
    }

    static func format(_ date: Date, _ zone: TimeZone, label: String? = nil) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ n: Int?) -> String { String(format: "%02d", n ?? 0) }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)) \(label ?? zone.identifier)"
    }
}

/// The events a webhook may subscribe to (`ping` is always delivered by the test endpoint).
public enum WebhookEvent: String, Sendable, Hashable, Codable, CaseIterable {
    case taskStarting = "task.starting"
    case taskDue = "task.due"
    case taskOverdue = "task.overdue"
    case digestWeekly = "digest.weekly"
    case planRescheduled = "plan.rescheduled"
    /// The client marked a task waiting on them done (the portal).
    case taskClientDone = "task.client_done"
    case ping
}

/// Stripe-style signatures: `Trellis-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
/// The HMAC itself is computed where a crypto library is at hand; this is the exact text that is signed.
public enum WebhookSignature {
    public static func signedPayload(timestamp: Int, body: String) -> String { "\(timestamp).\(body)" }

    public static func header(timestamp: Int, hexDigest: String) -> String { "t=\(timestamp),v1=\(hexDigest)" }

    /// Several signatures (a rotation's old and new secret): `t=…,v1=…,v1=…`; receivers accept any one.
    public static func header(timestamp: Int, hexDigests: [String]) -> String {
        (["t=\(timestamp)"] + hexDigests.map { "v1=\($0)" }).joined(separator: ",")
    }

    /// Parses a header back into (timestamp, v1 digests).
    public static func parse(_ header: String) -> (timestamp: Int, signatures: [String])? {
        var timestamp: Int?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) }
            if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, !signatures.isEmpty else { return nil }
        return (timestamp, signatures)
    }
}
