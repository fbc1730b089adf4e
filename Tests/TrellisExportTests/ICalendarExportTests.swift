import Foundation
import Testing
import TrellisDomain

/// iCalendar read back by the `icalendar` package, strictly (component errors fail the reader).
@Suite(.enabled(if: Readers.available, Readers.skipReason))
struct ICalendarExportTests {
    func readBack(_ export: TimelineExport) throws -> [String: Any] {
        let ics = ICalendarExporter().render(export)
        let file = try Readers.temporaryFile("\(export.planID).ics", ics)
        let calendar = try #require(try Readers.run("read_ical.py", [file.path]) as? [String: Any])
        #expect(calendar["problems"] as? [String] == [])
        let events = try #require(calendar["events"] as? [[String: Any]])
        let leaves = export.timeline.tasks.filter { !$0.isSummary }
        #expect(events.count == leaves.count)

        let names = Dictionary(uniqueKeysWithValues: export.plan.tasks.map { ($0.id, $0.name) })
        for (event, s) in zip(events, leaves) {
            #expect(event["uid"] as? String == "\(s.id)@trellis")
            #expect(event["summary"] as? String == names[s.id])
            #expect(event["sequence"] as? Int == export.taskDetails[s.id]?.sequence ?? 0)
            #expect(event["tzid"] as? String == export.clientTimeZone.identifier)
            #expect(event["dtstamp"] as? String == export.generatedAt.utcISO)
            // The same instants whether the zone comes from the system tz database or from our VTIMEZONE.
            for key in ["start", "startByVTimezone"] { #expect(event[key] as? String == s.earlyStart.utcISO, "\(key) of \(names[s.id]!)") }
            for key in ["end", "endByVTimezone"] { #expect(event[key] as? String == s.earlyFinish.utcISO, "\(key) of \(names[s.id]!)") }
            let categories = event["categories"] as? [String] ?? []
            #expect(categories.contains("Milestone") == s.isMilestone)
            #expect(categories.contains("Critical") == s.isCritical)
        }
        return calendar
    }

    @Test func communityLeadAcrossTheMadridSpringForward() throws {
        let export = try ExportFixtures.communityLead()
        let calendar = try readBack(export)
        // X- properties are TEXT (RFC 5545 §3.8.8.2), so the comma stays escaped; icalendar returns it raw.
        #expect(calendar["calname"] as? String == "Community lead onboarding — Panadería Lucía\\, S.L.")
        let zone = try #require((calendar["timezones"] as? [[String: Any]])?.first)
        let observances = try #require(zone["observances"] as? [[String: String]])
        #expect(observances.contains(["kind": "DAYLIGHT", "dtstart": "20260329T020000", "from": "+0100", "to": "+0200"]))
        #expect(observances.contains(["kind": "STANDARD", "dtstart": "20251026T030000", "from": "+0200", "to": "+0100"]))
        // The working Saturday moved everything after it to 11:00 local: 10:00 UTC before the change, 09:00 after.
        let events = try #require(calendar["events"] as? [[String: Any]])
        #expect(events.first { ($0["summary"] as? String)?.hasPrefix("Editorial line") == true }?["start"] as? String == "2026-03-27T10:00:00Z")
        #expect(events.first { ($0["summary"] as? String)?.hasPrefix("Content calendar") == true }?["start"] as? String == "2026-04-02T09:00:00Z")
        let kickoff = try #require(events.first { $0["summary"] as? String == "Engagement kickoff" })
        let description = try #require(kickoff["description"] as? String)
        #expect(description.contains("Client: Panadería Lucía, S.L.\nPlan: Community lead onboarding"))
        #expect(description.contains("Assignee: Mei Chen\nRole: Strategy"))
        #expect(description.contains("[x] Contract and scope signed"))
    }

    @Test func escapingFoldingAndLeadsAcrossTheUSChange() throws {
        let export = try ExportFixtures.allLinkKinds()
        _ = try readBack(export)
        let ics = ICalendarExporter().render(export)
        #expect(ics.contains("SUMMARY:Review\\nnotes\\, with \\\\ and \\;\r\n"))
        #expect(ics.hasSuffix("END:VCALENDAR\r\n"))
        #expect(!ics.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func longUnicodeLinesFoldOnCharacterBoundaries() throws {
        var export = try ExportFixtures.allLinkKinds()
        export.plan.tasks[5].name = String(repeating: "Ñandú 🐦 — ", count: 20)
        export.timeline = try Scheduler.schedule(export.plan)
        let ics = ICalendarExporter().render(export)
        for line in ics.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 75) }
        _ = try readBack(export)
    }

    @Test func aZoneWithoutDaylightSavingHasOneStandardObservance() throws {
        var export = try ExportFixtures.allLinkKinds()
        let day = [WorkingInterval(from: "10:00", to: "18:00")!]  // Tokyo: no daylight saving since 1951
        export.plan.calendar = try WorkCalendar(timeZoneID: "Asia/Tokyo", weekly: Dictionary(uniqueKeysWithValues: Weekday.workweek.map { ($0, day) }))
        export.clientTimeZone = TimeZoneID("Asia/Tokyo")!
        export.timeline = try Scheduler.schedule(export.plan)
        let calendar = try readBack(export)
        let zone = try #require((calendar["timezones"] as? [[String: Any]])?.first)
        #expect(zone["observances"] as? [[String: String]] == [["kind": "STANDARD", "dtstart": "19700101T000000", "from": "+0900", "to": "+0900"]])
    }
}
