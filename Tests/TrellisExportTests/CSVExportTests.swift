import Foundation
import Testing
import TrellisDomain

/// CSV read back by Python's csv module, row for row against the timeline.
@Suite(.enabled(if: Readers.available, Readers.skipReason))
struct CSVExportTests {
    func readBack(_ export: TimelineExport, byteOrderMark: Bool = false) throws -> [String: Any] {
        let csv = CSVExporter(byteOrderMark: byteOrderMark).render(export)
        let file = try Readers.temporaryFile("\(export.planID).csv", csv)
        let table = try #require(try Readers.run("read_csv.py", [file.path]) as? [String: Any])
        #expect(table["header"] as? [String] == CSVExporter.columns)
        #expect(table["bom"] as? Bool == byteOrderMark)
        #expect(table["lineEndings"] as? String == "CRLF")
        let rows = try #require(table["rows"] as? [[String: String]])
        #expect(rows.count == export.plan.tasks.count)

        let iso = ISO8601DateFormatter()
        let tasks = Dictionary(uniqueKeysWithValues: export.plan.tasks.map { ($0.id, $0) })
        let scheduled = Dictionary(uniqueKeysWithValues: export.timeline.tasks.map { ($0.id, $0) })
        for (n, row) in rows.enumerated() {
            let id = try #require(row["id"])
            let task = try #require(tasks[id]), s = try #require(scheduled[id])
            #expect(row["row"] == String(n + 1))
            let name = ["=", "+", "-", "@"].contains(task.name.first.map(String.init) ?? "") ? "'" + task.name : task.name
            #expect(row["name"] == name)
            #expect(row["start"].flatMap(iso.date(from:)) == s.earlyStart, "start of \(task.name)")
            #expect(row["finish"].flatMap(iso.date(from:)) == s.earlyFinish, "finish of \(task.name)")
            #expect(row["milestone"] == String(s.isMilestone))
            #expect(row["summary"] == String(s.isSummary))
            #expect(row["critical"] == String(s.isCritical))
            #expect(row["duration_hours"].flatMap(Double.init) == Double(s.durationMinutes) / 60)
            #expect(row["total_slack_hours"].flatMap(Double.init).map { ($0 * 60).rounded() } == Double(s.totalSlack))
            if let b = export.taskDetails[id]?.baseline {
                #expect(row["baseline_start"].flatMap(iso.date(from:)) == b.start)
                #expect(row["baseline_finish"].flatMap(iso.date(from:)) == b.finish)
            }
        }
        return table
    }

    @Test func communityLeadRowForRow() throws {
        let export = try ExportFixtures.communityLead()
        let table = try readBack(export, byteOrderMark: true)
        let rows = try #require(table["rows"] as? [[String: String]])
        // Offsets follow the Madrid change: +01:00 in February, +02:00 from 29 March.
        #expect(rows[1]["start"] == "2026-02-02T09:00:00+01:00")
        #expect(rows.contains { $0["start"]?.hasSuffix("+02:00") == true })
        let audit = try #require(rows.first { $0["name"]?.hasPrefix("Online audit") == true })
        #expect(audit["phase"] == "Month 2 — Audit and strategy")
        #expect(audit["role"] == "Social media manager")
        #expect(audit["assignee"] == "Ana García")
        // Phases roll progress up; baselines a week earlier show as a positive variance.
        #expect(rows[0]["percent_complete"].flatMap(Int.init).map { $0 > 0 && $0 < 100 } == true)
        #expect(rows[2]["variance_days"] == "5")
        let pr = try #require(rows.first { $0["role"] == "Public relations" })
        #expect(pr["assignee"] == "Luis \"Lu\" Pérez & Co, ops; <PR>")
    }

    @Test func linkKindsLagsAndQuoting() throws {
        var export = try ExportFixtures.allLinkKinds()
        export.plan.tasks[4].name = "=HYPERLINK(\"http://evil.example\")"
        export.timeline = try Scheduler.schedule(export.plan)
        let table = try readBack(export)
        let rows = try #require(table["rows"] as? [[String: String]])
        #expect(rows.map { $0["predecessors"] ?? "?" } == ["", "", "2SS+1d", "3FF-2h", "2SF+2d", "2FS-1d", "4FS;5FS+1.5h;6FS"])
        #expect(rows.map { $0["wbs"] ?? "?" } == ["1", "1.1", "1.2", "1.3", "1.4", "2", "3"])
        #expect(rows[3]["name"] == "Review\nnotes, with \\ and ;")
        #expect(rows[4]["name"] == "'=HYPERLINK(\"http://evil.example\")")
        #expect(rows[1]["assignee"] == "Sam O'Neil")
        #expect(rows[2]["assignee"] == "Robin")
    }
}
