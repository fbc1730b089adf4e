import Foundation
import Testing
import TrellisDomain

/// Plans the export tests render, built the way the API layer will build them.
enum ExportFixtures {
    static let madrid = TimeZoneID("Europe/Madrid")!
    static let newYork = TimeZoneID("America/New_York")!

    static func instant(_ iso: String) -> Date {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: iso)!
    }

    /// The built-in community-lead template on a Madrid Mon–Fri 09:00–14:00 calendar, starting Monday
    /// 2 February 2026: it crosses the spring-forward change (29 March), Good Friday (a holiday) and
    /// a working Saturday (an exception), with people, roles, checklists, progress and baselines.
    static func communityLead() throws -> TimelineExport {
        let base = try WorkCalendar.partTimeMornings(timeZone: "Europe/Madrid")
        let calendar = try WorkCalendar(
            timeZoneID: "Europe/Madrid", weekly: base.weekly,
            holidays: [LocalDate("2026-04-03")!, LocalDate("2026-05-01")!, LocalDate("2026-08-15")!],
            exceptions: [LocalDate("2026-03-14")!: [WorkingInterval(from: "10:00", to: "13:00")!]]
        )
        let planID = "3f0c6a9e-6a55-4d7e-9d0e-2f6a4f1f0b11"
        let instance = try OnboardingTemplate.communityLeadSixMonths.instantiate(calendar: calendar, planID: planID)
        var tasks = instance.planTasks
        // Progress on the first weeks (progress does not move dates; actual dates would).
        for i in tasks.indices {
            switch instance.tasks[i].templateKey {
            case "kickoff", "learn-departments": tasks[i].percentComplete = 100
            case "learn-business-lines", "meet-staff": tasks[i].percentComplete = 50
            default: break
            }
        }
        let plan = SchedulePlan(start: instant("2026-02-02T08:00:00Z"), calendar: calendar,
                                tasks: tasks, dependencies: instance.dependencies)
        let timeline = try Scheduler.schedule(plan)

        let roleNames = Dictionary(uniqueKeysWithValues: HybridRole.builtInCatalog.map { ($0.key, $0.name) })
        let people = [
            ExportResource(id: "p-ana", name: "Ana García", email: "ana@agency.example", units: 0.6),
            ExportResource(id: "p-luis", name: "Luis \"Lu\" Pérez & Co, ops; <PR>", units: 0.25),
            ExportResource(id: "p-mei", name: "Mei Chen", units: 1),
        ]
        var details: [String: TaskExportDetails] = [:]
        for (k, t) in instance.tasks.enumerated() where !t.isPhase {
            let person: String = switch t.roleKey {
            case "public-relations", "sales": "p-luis"
            case "strategy": "p-mei"
            default: "p-ana"
            }
            let s = timeline.tasks[k]
            // Baselines on the first phase: saved a week earlier, so the plan slipped one working day.
            let baseline: TaskBaseline? = k < 8
                ? TaskBaseline(start: s.earlyStart.addingTimeInterval(-86_400 * 7), finish: s.earlyFinish.addingTimeInterval(-86_400 * 7),
                               durationMinutes: s.durationMinutes)
                : nil
            details[t.planTask.id] = TaskExportDetails(
                resourceIDs: [person], role: t.roleKey.flatMap { roleNames[$0] },
                checklist: t.checklist.enumerated().map { ChecklistItem($1, isDone: tasks[k].percentComplete == 100 && $0 == 0) },
                baseline: baseline, sequence: k % 3
            )
        }
        return TimelineExport(
            planID: planID, planName: "Community lead onboarding", clientName: "Panadería Lucía, S.L.",
            clientTimeZone: madrid, plan: plan, timeline: timeline, taskDetails: details, resources: people,
            generatedAt: instant("2026-01-20T10:30:00Z")
        )
    }

    /// A small hand-made plan with every link kind, lags and leads, on a New York calendar with a lunch
    /// break, across the US spring-forward change (8 March 2026).
    static func allLinkKinds() throws -> TimelineExport {
        let day = [WorkingInterval(from: "09:00", to: "12:30")!, WorkingInterval(from: "13:30", to: "17:00")!]
        let calendar = try WorkCalendar(timeZoneID: "America/New_York",
                                        weekly: Dictionary(uniqueKeysWithValues: Weekday.workweek.map { ($0, day) }),
                                        holidays: [LocalDate("2026-03-10")!])
        let h = 60, d = 7 * 60
        let tasks = [
            PlanTask(id: "phase", name: "Build; test, ship", durationMinutes: 0),
            PlanTask(id: "a", name: "Design: API", durationMinutes: 3 * d, parentID: "phase", percentComplete: 100),
            PlanTask(id: "b", name: "Build #1", durationMinutes: 4 * d, parentID: "phase", percentComplete: 40),
            PlanTask(id: "c", name: "Review\nnotes, with \\ and ;", durationMinutes: 2 * d + 3 * h, parentID: "phase"),
            PlanTask(id: "d", name: "Docs", durationMinutes: 5 * h, parentID: "phase"),
            PlanTask(id: "e", name: "Pilot — user group", durationMinutes: 2 * d),
            PlanTask(id: "m", name: "Go/no-go", durationMinutes: 0),
        ]
        let links = [
            TaskDependency(predecessorID: "a", successorID: "b", kind: .startToStart, lagMinutes: d),
            TaskDependency(predecessorID: "b", successorID: "c", kind: .finishToFinish, lagMinutes: -2 * h),
            TaskDependency(predecessorID: "a", successorID: "d", kind: .startToFinish, lagMinutes: 2 * d),
            TaskDependency(predecessorID: "a", successorID: "e", kind: .finishToStart, lagMinutes: -d),
            TaskDependency(predecessorID: "c", successorID: "m", kind: .finishToStart),
            TaskDependency(predecessorID: "d", successorID: "m", kind: .finishToStart, lagMinutes: 90),
            TaskDependency(predecessorID: "e", successorID: "m", kind: .finishToStart),
        ]
        let plan = SchedulePlan(start: instant("2026-03-04T14:00:00Z"), calendar: calendar, tasks: tasks, dependencies: links)
        let timeline = try Scheduler.schedule(plan)
        let details: [String: TaskExportDetails] = [
            "a": TaskExportDetails(assignee: "Sam O'Neil", role: "Strategy", checklist: ["Draft, review; sign"], sequence: 4),
            "b": TaskExportDetails(resourceIDs: ["r1"], role: "Digital / new media",
                                   baseline: TaskBaseline(start: instant("2026-03-05T14:00:00Z"), finish: instant("2026-03-10T21:00:00Z"))),
        ]
        return TimelineExport(
            planID: "plan-links", planName: "Links: all four kinds", clientName: "Acme, Inc.", clientTimeZone: newYork,
            plan: plan, timeline: timeline, taskDetails: details,
            resources: [ExportResource(id: "r1", name: "Robin", units: 0.5)],
            generatedAt: instant("2026-03-01T12:00:00Z")
        )
    }
}

/// Runs the real readers in Tests/readers with the Python of `TRELLIS_PYTHON`.
enum Readers {
    static let python = ProcessInfo.processInfo.environment["TRELLIS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    static let available = python != nil
    static let skipReason: Comment = "TRELLIS_PYTHON is not set: point it at a Python with Tests/readers/requirements.txt installed (mpxj, JPype1, icalendar) to read exports back"

    static var directory: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("readers")
    }

    static func temporaryFile(_ name: String, _ contents: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trellis-export-tests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Tests run in parallel and share plan ids: every file gets its own directory.
        let unique = dir.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: unique, withIntermediateDirectories: true)
        let url = unique.appendingPathComponent(name)
        try contents.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Runs `script` with `arguments`; returns its standard output parsed as JSON.
    static func run(_ script: String, _ arguments: [String]) throws -> Any {
        let python = try #require(python, skipReason)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [directory.appendingPathComponent(script).path] + arguments
        // Standard error goes to a file: two pipes read one after the other could deadlock.
        let errURL = try temporaryFile("\(script).stderr", "")
        let errHandle = try FileHandle(forWritingTo: errURL)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errHandle
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        // Not `waitUntilExit`, which was seen to hang when several tests call it at once (its run loop).
        while process.isRunning { usleep(5_000) }
        try errHandle.close()
        let errors = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(script) failed: \(errors)")
        guard process.terminationStatus == 0 else { throw ReaderFailure(message: errors) }
        return try JSONSerialization.jsonObject(with: data)
    }

    struct ReaderFailure: Error { var message: String }
}

extension Date {
    /// "2026-02-02T08:00:00Z", as the readers print instants.
    var utcISO: String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: self)
    }
}
