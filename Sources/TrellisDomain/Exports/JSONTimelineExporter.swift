import Foundation

/// The shape of the JSON export, for clients that decode it (`JSONDecoder().decode(TimelineJSON.self, …)`).
/// Dates are ISO 8601 strings with the client zone's offset ("2026-02-02T09:00:00+01:00");
/// `generatedAt` is UTC. Slack and variances are in working minutes, with hours and days alongside.
public struct TimelineJSON: Sendable, Hashable, Codable {
    public var plan: Plan
    public var client: Client
    public var generatedAt: String
    public var tasks: [Task]

    public struct Plan: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        public var start: String
        public var finish: String
        /// The plan's length in working minutes.
        public var workingMinutes: Int
        public var minutesPerDay: Int
        /// Task ids of the driving critical chain.
        public var criticalPath: [String]
    }

    public struct Client: Sendable, Hashable, Codable {
        public var name: String
        public var timeZone: String
    }

    public struct Task: Sendable, Hashable, Codable {
        public var id: String
        public var row: Int
        public var wbs: String
        public var name: String
        public var parentId: String?
        public var outlineLevel: Int
        public var summary: Bool
        public var milestone: Bool
        public var critical: Bool
        public var start: String
        public var finish: String
        public var lateStart: String
        public var lateFinish: String
        public var durationMinutes: Int
        public var durationHours: Double
        public var percentComplete: Int
        public var totalSlackMinutes: Int
        public var totalSlackHours: Double
        public var freeSlackMinutes: Int
        public var assignee: String?
        public var role: String?
        public var checklist: [ChecklistItem]
        public var predecessors: [Link]
        public var baseline: Baseline?
    }

    public struct Link: Sendable, Hashable, Codable {
        public var taskId: String
        /// "FS", "SS", "FF" or "SF".
        public var kind: String
        /// Working minutes; negative is a lead.
        public var lagMinutes: Int
    }

    public struct Baseline: Sendable, Hashable, Codable {
        public var start: String
        public var finish: String
        /// Working minutes the finish slipped (negative = ahead of the baseline).
        public var finishVarianceMinutes: Int?
        public var finishVarianceDays: Double?
    }
}

/// Writes `TimelineJSON` by hand, task by task, so large plans stream and render fast
/// (the test suite decodes it with `JSONDecoder` to keep the two in step).
public struct JSONTimelineExporter: TimelineRenderer {
    public init() {}

    public var estimatedBytesPerTask: Int { 800 }

    public func write(_ export: TimelineExport, to w: inout ExportWriter) {
        let ctx = ExportContext(export)
        let clock = ctx.clock
        let variances = ctx.baselineFinishVariances()
        let tl = export.timeline

        w.append("{\"plan\":{\"id\":"); string(export.planID, &w)
        w.append(",\"name\":"); string(export.planName, &w)
        w.append(",\"start\":\""); clock.append(tl.start, .iso, to: &w); w.append("\",\"finish\":\""); clock.append(tl.finish, .iso, to: &w); w.append("\"")
        w.append(",\"workingMinutes\":\(tl.finishMinute),\"minutesPerDay\":\(ctx.minutesPerDay),\"criticalPath\":[")
        for (k, id) in tl.criticalPath.enumerated() {
            if k > 0 { w.append(",") }
            string(id, &w)
        }
        w.append("]},\"client\":{\"name\":"); string(export.clientName, &w)
        w.append(",\"timeZone\":"); string(export.clientTimeZone.identifier, &w)
        w.append("},\"generatedAt\":\""); clock.append(export.generatedAt, .utcISO, to: &w); w.append("\",\"tasks\":[\n")

        var first = true
        for i in ctx.order {
            guard let s = ctx.scheduled[i] else { continue }
            let task = ctx.tasks[i]
            let d = ctx.details[i]
            if !first { w.append(",\n") }
            first = false
            w.append("{\"id\":"); string(task.id, &w)
            w.append(",\"row\":\(ctx.row[i]),\"wbs\":\"" + ctx.wbs[i] + "\",\"name\":"); string(task.name, &w)
            if ctx.parent[i] >= 0 { w.append(",\"parentId\":"); string(ctx.tasks[ctx.parent[i]].id, &w) }
            w.append(",\"outlineLevel\":\(ctx.level[i]),\"summary\":\(ctx.isSummary[i]),\"milestone\":\(s.isMilestone),\"critical\":\(s.isCritical)")
            w.append(",\"start\":\""); clock.append(s.earlyStart, .iso, to: &w); w.append("\",\"finish\":\""); clock.append(s.earlyFinish, .iso, to: &w)
            w.append("\",\"lateStart\":\""); clock.append(s.lateStart, .iso, to: &w); w.append("\",\"lateFinish\":\""); clock.append(s.lateFinish, .iso, to: &w); w.append("\"")
            w.append(",\"durationMinutes\":\(s.durationMinutes),\"durationHours\":" + ExportText.decimal(Double(s.durationMinutes) / 60))
            w.append(",\"percentComplete\":\(ctx.percent[i]),\"totalSlackMinutes\":\(s.totalSlack),\"totalSlackHours\":" + ExportText.decimal(Double(s.totalSlack) / 60))
            w.append(",\"freeSlackMinutes\":\(s.freeSlack)")
            if let who = ctx.assignee(i) { w.append(",\"assignee\":"); string(who, &w) }
            if let role = d?.role { w.append(",\"role\":"); string(role, &w) }
            w.append(",\"checklist\":[")
            for (k, item) in (d?.checklist ?? []).enumerated() {
                w.append(k > 0 ? ",{\"text\":" : "{\"text\":"); string(item.text, &w)
                w.append(item.isDone ? ",\"isDone\":true}" : ",\"isDone\":false}")
            }
            w.append("],\"predecessors\":[")
            var k = 0
            for link in ctx.links(into: i) {
                let dep = export.plan.dependencies[link]
                w.append(k > 0 ? ",{\"taskId\":" : "{\"taskId\":"); string(dep.predecessorID, &w)
                w.append(",\"kind\":\"" + dep.kind.rawValue + "\",\"lagMinutes\":\(dep.lagMinutes)}")
                k += 1
            }
            w.append("]")
            if let b = d?.baseline {
                w.append(",\"baseline\":{\"start\":\""); clock.append(b.start, .iso, to: &w); w.append("\",\"finish\":\""); clock.append(b.finish, .iso, to: &w); w.append("\"")
                if let v = variances[i] {
                    w.append(",\"finishVarianceMinutes\":\(v),\"finishVarianceDays\":" + ExportText.decimal(Double(v) / Double(ctx.minutesPerDay)))
                }
                w.append("}")
            }
            w.append("}")
            w.flushIfNeeded()
        }
        w.append("\n]}\n")
    }

    private func string(_ value: String, _ w: inout ExportWriter) { w.appendJSONString(value) }
}
