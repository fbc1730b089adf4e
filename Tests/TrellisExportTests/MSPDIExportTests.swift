import Foundation
import Testing
import TrellisDomain

/// MS Project XML read back by MPXJ (the library behind most MS Project importers).
@Suite(.enabled(if: Readers.available, Readers.skipReason))
struct MSPDIExportTests {
    static let kindNames: [DependencyKind: String] = [.finishToStart: "FS", .startToStart: "SS", .finishToFinish: "FF", .startToFinish: "SF"]

    /// Reads `export` back with MPXJ and checks tasks, dates, outline, links against the platform's timeline.
    func readBack(_ export: TimelineExport) throws -> [String: Any] {
        let xml = MSPDIExporter().render(export)
        let file = try Readers.temporaryFile("\(export.planID).xml", xml)
        let project = try #require(try Readers.run("read_mspdi.py", [file.path, export.clientTimeZone.identifier]) as? [String: Any])
        let tasks = try #require(project["tasks"] as? [[String: Any]])
        #expect(tasks.count == export.plan.tasks.count)

        let planTasks = Dictionary(uniqueKeysWithValues: export.plan.tasks.map { ($0.id, $0) })
        let scheduled = Dictionary(uniqueKeysWithValues: export.timeline.tasks.map { ($0.id, $0) })
        var idByUID: [Int: String] = [:]
        for t in tasks { idByUID[t["uid"] as! Int] = t["trellisID"] as? String }

        for t in tasks {
            let id = try #require(t["trellisID"] as? String)
            let task = try #require(planTasks[id]), s = try #require(scheduled[id])
            #expect(t["name"] as? String == task.name)
            #expect(t["start"] as? String == s.earlyStart.utcISO, "start of \(task.name)")
            #expect(t["finish"] as? String == s.earlyFinish.utcISO, "finish of \(task.name)")
            #expect(t["summary"] as? Bool == s.isSummary)
            #expect(t["milestone"] as? Bool == s.isMilestone)
            #expect(t["critical"] as? Bool == s.isCritical)
            #expect(t["outlineLevel"] as? Int == (task.parentID == nil ? 1 : 2))
            #expect(t["durationMinutes"] as? Double == Double(s.durationMinutes), "duration of \(task.name)")
            if !s.isSummary { #expect(t["totalSlackMinutes"] as? Double == Double(s.totalSlack), "slack of \(task.name)") }

            let links = (t["predecessors"] as? [[String: Any]] ?? []).map {
                "\(idByUID[$0["predecessorUID"] as! Int] ?? "?") \($0["type"] as! String) \(Int(($0["lagMinutes"] as! Double).rounded()))"
            }
            let expected = export.plan.dependencies.filter { $0.successorID == id }.map {
                "\($0.predecessorID) \(Self.kindNames[$0.kind]!) \($0.lagMinutes)"
            }
            #expect(links.sorted() == expected.sorted(), "links into \(task.name)")

            if let b = export.taskDetails[id]?.baseline {
                let baseline = try #require(t["baseline"] as? [String: Any])
                #expect(baseline["start"] as? String == b.start.utcISO)
                #expect(baseline["finish"] as? String == b.finish.utcISO)
            } else {
                #expect(t["baseline"] is NSNull)
            }
        }
        #expect(project["start"] as? String == export.timeline.start.utcISO)
        #expect(project["finish"] as? String == export.timeline.finish.utcISO)
        #expect(project["minutesPerDay"] as? Int == export.plan.calendar.minutesPerDay)
        #expect(project["minutesPerWeek"] as? Int == export.plan.calendar.minutesPerWeek)
        return project
    }

    @Test func communityLeadTemplateReadsBackWithTheTimelinesDates() throws {
        let export = try ExportFixtures.communityLead()
        let project = try readBack(export)
        let tasks = try #require(project["tasks"] as? [[String: Any]])
        // Outline order: each phase followed by its tasks, numbered like MS Project.
        #expect(tasks.first?["outlineNumber"] as? String == "1")
        #expect(tasks.first?["name"] as? String == "Month 1 — Immersion")
        #expect(tasks[1]["outlineNumber"] as? String == "1.1")
        #expect(tasks.filter { $0["summary"] as? Bool == true }.count == 5)
        #expect(tasks.filter { $0["milestone"] as? Bool == true }.count == 5)
        let kickoff = try #require(tasks.first { $0["name"] as? String == "Engagement kickoff" })
        #expect((kickoff["notes"] as? String)?.contains("[x] Contract and scope signed") == true)

        // The calendar: Mon–Fri 09:00–14:00, weekends off, holidays off, the working Saturday 10:00–13:00.
        let calendar = try #require((project["calendars"] as? [[String: Any]])?.first)
        let week = try #require(calendar["week"] as? [String: [String: Any]])
        for day in ["monday", "tuesday", "wednesday", "thursday", "friday"] {
            #expect(week[day]?["hours"] as? [[String]] == [["09:00", "14:00"]], "\(day)")
            #expect(week[day]?["minutes"] as? Int == 300, "\(day)")
        }
        #expect(week["saturday"]?["type"] as? String == "NON_WORKING")
        #expect(week["sunday"]?["hours"] as? [[String]] == [])
        let exceptions = try #require(calendar["exceptions"] as? [[String: Any]])
        let holidays = exceptions.filter { $0["working"] as? Bool == false }.compactMap { $0["from"] as? String }
        #expect(holidays == ["2026-04-03", "2026-05-01", "2026-08-15"])
        let saturday = try #require(exceptions.first { $0["from"] as? String == "2026-03-14" })
        #expect(saturday["working"] as? Bool == true)
        #expect(saturday["hours"] as? [[String]] == [["10:00", "13:00"]])

        // People as resources, assigned at their allocation.
        let resources = try #require(project["resources"] as? [[String: Any]])
        #expect(resources.map { $0["name"] as? String } == export.resources.map(\.name))
        let assignments = try #require(project["assignments"] as? [[String: Any]])
        #expect(assignments.count == export.plan.tasks.count - 5)
        #expect(Set(assignments.compactMap { $0["units"] as? Double }) == [60, 25, 100])
    }

    @Test func allFourLinkKindsWithLagsAndLeads() throws {
        let export = try ExportFixtures.allLinkKinds()
        let project = try readBack(export)
        let tasks = try #require(project["tasks"] as? [[String: Any]])
        #expect(tasks.map { $0["outlineNumber"] as? String } == ["1", "1.1", "1.2", "1.3", "1.4", "2", "3"])
        let calendar = try #require((project["calendars"] as? [[String: Any]])?.first)
        let week = try #require(calendar["week"] as? [String: [String: Any]])
        #expect(week["wednesday"]?["hours"] as? [[String]] == [["09:00", "12:30"], ["13:30", "17:00"]])
    }

    @Test func namesAreEscapedAndTheDocumentIsWellFormed() throws {
        var export = try ExportFixtures.allLinkKinds()
        export.planName = "R&D <\"beta\"> 'plan'"
        export.clientName = "Bell\u{7} & Co"  // a control character XML 1.0 cannot carry
        export.plan.tasks[1].name = "Design & <build> \"quoted\""
        export.timeline = try Scheduler.schedule(export.plan)
        let xml = MSPDIExporter().render(export)
        #expect(xml.contains("<Name>R&amp;D &lt;&quot;beta&quot;&gt; &apos;plan&apos;</Name>"))
        #expect(!xml.contains("\u{7}"))
        #expect(xml.contains("<Company>Bell &amp; Co</Company>"))
        let project = try readBack(export)
        #expect(project["name"] as? String == "R&D <\"beta\"> 'plan'")
    }
}

extension MSPDIExportTests {
    /// Round-the-clock working time: MSPDI writes the end of the day as 00:00:00, which must read back as 24:00.
    @Test func aRoundTheClockCalendar() throws {
        var export = try ExportFixtures.allLinkKinds()
        export.plan.calendar = .alwaysWorking
        export.clientTimeZone = TimeZoneID("UTC")!
        export.timeline = try Scheduler.schedule(export.plan)
        let project = try readBack(export)
        let calendar = try #require((project["calendars"] as? [[String: Any]])?.first)
        let week = try #require(calendar["week"] as? [String: [String: Any]])
        #expect(week["sunday"]?["type"] as? String == "WORKING")
        #expect(week["sunday"]?["hours"] as? [[String]] == [["00:00", "00:00"]])
        #expect(week["sunday"]?["minutes"] as? Int == 1440)
        #expect(project["minutesPerDay"] as? Int == 1440)
    }
}
