import Foundation
import Testing
import TrellisDomain

@Suite struct MermaidExportTests {
    /// "2026-02-02 09:00" in `zone`, computed with Foundation (independent of the exporters).
    static func local(_ date: Date, _ zone: TimeZoneID) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone.timeZone
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: date)
    }

    static var taskLine: Regex<(Substring, Substring, Substring, Substring, Substring, Substring)> { #/^    ([^:#;\n]+) :((?:crit, |milestone, |done, |active, )*)t(\d+), (\d{4}-\d\d-\d\d \d\d:\d\d), (\d{4}-\d\d-\d\d \d\d:\d\d)$/# }

    @Test func communityLeadStructure() throws {
        let export = try ExportFixtures.communityLead()
        let text = MermaidExporter().render(export)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines.first == "gantt")
        #expect(lines.contains("    dateFormat YYYY-MM-DD HH:mm"))
        #expect(lines.contains("    excludes weekends"))
        let sections = lines.filter { $0.hasPrefix("    section ") }
        #expect(sections == ["    section Month 1 — Immersion", "    section Month 2 — Audit and strategy",
                             "    section Month 3 — Content and launch", "    section Months 4–5 — Run and measure",
                             "    section Month 6 — Handover to an in-house lead"])

        let leaves = export.timeline.tasks.filter { !$0.isSummary }
        let taskLines = lines.filter { !$0.hasPrefix("    section ") && $0.contains(" :") && !$0.hasPrefix("    title ") }
        #expect(taskLines.count == leaves.count)
        for (line, s) in zip(taskLines, leaves) {
            let match = try #require(line.wholeMatch(of: Self.taskLine), "unparseable: \(line)")
            let tags = String(match.2)
            #expect(tags.contains("crit, ") == s.isCritical)
            #expect(tags.contains("milestone, ") == s.isMilestone)
            #expect(String(match.4) == Self.local(s.earlyStart, export.clientTimeZone))
            #expect(String(match.5) == Self.local(s.earlyFinish, export.clientTimeZone))
        }
        // "Online audit: channels…" keeps a look-alike colon, never a real one.
        #expect(taskLines.contains { $0.hasPrefix("    Online audit∶ channels") })
        #expect(taskLines.filter { $0.contains("done, ") }.count == 2)
        #expect(taskLines.filter { $0.contains("active, ") }.count == 2)
    }

    @Test func hostileNamesAndLooseTasks() throws {
        var export = try ExportFixtures.allLinkKinds()
        export.plan.tasks[4].name = "Section review #2; %% not a comment"
        export.timeline = try Scheduler.schedule(export.plan)
        let text = MermaidExporter().render(export)
        #expect(text.contains("    section Build； test, ship\n"))
        #expect(text.contains("    Design∶ API :crit, done, t2, "))
        #expect(text.contains("    \u{200B}Section review ＃2； ％％ not a comment :"))
        #expect(text.contains("    section Other tasks\n    Pilot — user group :"))
        #expect(text.contains("    Review notes, with \\ and ； :"))
        for line in text.split(separator: "\n") where line.contains(" :t") || line.contains(" :crit") {
            #expect(line.filter { $0 == ":" }.count == 3, "\(line)")  // the separator and two HH:mm
        }
    }
}

@Suite struct JSONExportTests {
    @Test func decodesAndMatchesTheTimeline() throws {
        let export = try ExportFixtures.communityLead()
        let data = Data(JSONTimelineExporter().render(export).utf8)
        let json = try JSONDecoder().decode(TimelineJSON.self, from: data)
        let iso = ISO8601DateFormatter()
        #expect(json.plan.id == export.planID)
        #expect(json.client.timeZone == "Europe/Madrid")
        #expect(json.generatedAt == "2026-01-20T10:30:00Z")
        #expect(iso.date(from: json.plan.finish) == export.timeline.finish)
        #expect(json.plan.criticalPath == export.timeline.criticalPath)
        #expect(json.tasks.count == export.plan.tasks.count)
        let scheduled = Dictionary(uniqueKeysWithValues: export.timeline.tasks.map { ($0.id, $0) })
        for t in json.tasks {
            let s = try #require(scheduled[t.id])
            #expect(iso.date(from: t.start) == s.earlyStart)
            #expect(iso.date(from: t.finish) == s.earlyFinish)
            #expect(iso.date(from: t.lateFinish) == s.lateFinish)
            #expect(t.totalSlackMinutes == s.totalSlack && t.critical == s.isCritical && t.milestone == s.isMilestone)
            let links = export.plan.dependencies.filter { $0.successorID == t.id }
            #expect(t.predecessors.map(\.taskId) == links.map(\.predecessorID))
            #expect(t.predecessors.map(\.lagMinutes) == links.map(\.lagMinutes))
        }
        let departments = try #require(json.tasks.first { $0.name.hasPrefix("Learn the departments") })
        #expect(departments.baseline?.finishVarianceDays == 5)
        #expect(departments.checklist.first == ChecklistItem("Organisation chart reviewed", isDone: true))
        #expect(departments.parentId == json.tasks[0].id)
    }

    @Test func escapesStrings() throws {
        var export = try ExportFixtures.allLinkKinds()
        export.planName = "Quote \" backslash \\ tab \t bell \u{7} newline \n end"
        let json = try JSONDecoder().decode(TimelineJSON.self, from: Data(JSONTimelineExporter().render(export).utf8))
        #expect(json.plan.name == export.planName)
        #expect(json.tasks[3].name == "Review\nnotes, with \\ and ;")
    }
}

@Suite struct ExportFormatTests {
    @Test(arguments: ExportFormat.allCases)
    func streamingEqualsWholeDocument(_ format: ExportFormat) throws {
        let export = try ExportFixtures.communityLead()
        let today = ExportFixtures.instant("2026-03-20T10:00:00Z")
        let whole = format.render(export, today: today)
        var chunks: [String] = []
        format.render(export, today: today, chunkSize: 1024) { chunks.append($0) }
        #expect(chunks.count > 3)
        #expect(chunks.joined() == whole)
        #expect(!format.contentType.isEmpty && !format.fileExtension.isEmpty)
    }

    @Test func renderingIsDeterministic() throws {
        let export = try ExportFixtures.communityLead()
        for format in ExportFormat.allCases {
            #expect(format.render(export) == format.render(export), "\(format)")
        }
        #expect(ExportFormat.mermaid.fileExtension == "mmd")
        #expect(ExportFormat.ical.contentType == "text/calendar; charset=utf-8")
        #expect(ExportFormat.csv.render(try ExportFixtures.allLinkKinds(), csvByteOrderMark: true).hasPrefix("\u{FEFF}row,"))
    }

    @Test func aTaskMissingFromTheTimelineIsLeftOut() throws {
        var export = try ExportFixtures.allLinkKinds()
        export.timeline.tasks.removeLast()  // a stale timeline: the exporters must not crash
        for format in ExportFormat.allCases { #expect(!format.render(export).isEmpty) }
        #expect(!CSVExporter().render(export).contains("Go/no-go"))
    }
}
