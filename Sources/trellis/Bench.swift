import ArgumentParser
import Foundation
import TrellisDomain
import TrellisFixtures

/// `trellis bench …`: timing loops over the pure domain in this (release) binary; one key=value line each.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks of the scheduling engine and the exports (run through Benchmarks/ scripts).",
        subcommands: [Schedule.self, Export.self, BenchQueue.self])

    struct Schedule: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Schedule seeded random plans; prints `schedule tasks=N ms=X` (median).")
        @Argument(help: "plan sizes") var sizes: [Int] = [1_000, 10_000, 100_000]

        func run() throws {
            for line in try scheduleBenchmark(sizes: sizes) { print(line) }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Render every export of one random plan; prints `export format=F tasks=N ms=X bytes=B`.")
        @Option(help: "tasks in the plan") var tasks: Int = 10_000
        @Argument(help: "formats (default: all)") var formats: [String] = []

        func run() throws {
            let chosen = try formats.map { name in
                guard let format = ExportFormat(rawValue: name) else { throw ValidationError("unknown format \(name)") }
                return format
            }
            for line in try exportBenchmark(taskCount: tasks, formats: chosen.isEmpty ? ExportFormat.allCases : chosen) { print(line) }
        }
    }
}

/// The median wall time of `runs` runs, in milliseconds.
func medianMilliseconds(runs: Int, _ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    var samples: [Double] = []
    for _ in 0..<runs {
        let elapsed = try clock.measure(body)
        samples.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
    }
    samples.sort()
    return samples[samples.count / 2]
}

func scheduleBenchmark(sizes: [Int]) throws -> [String] {
    var lines: [String] = []
    for size in sizes {
        let plan = RandomPlanGenerator(taskCount: size).plan(seed: 42)
        var finish = 0
        let ms = try medianMilliseconds(runs: size >= 100_000 ? 3 : 7) {
            finish = try Scheduler.schedule(plan).finishMinute
        }
        guard finish > 0 else { throw CocoaError(.featureUnsupported) }  // the plan must have a length
        lines.append("schedule tasks=\(size) ms=\(String(format: "%.1f", ms))")
    }
    return lines
}

func exportBenchmark(taskCount: Int = 10_000, formats: [ExportFormat] = ExportFormat.allCases) throws -> [String] {
    var generator = RandomPlanGenerator(taskCount: taskCount)
    generator.phaseCount = max(1, taskCount / 500)
    let plan = generator.plan(seed: 42)
    let timeline = try Scheduler.schedule(plan)
    let people = (0..<12).map { ExportResource(id: "p\($0)", name: "Person \($0)", units: [0.2, 0.5, 0.6, 1][$0 % 4]) }
    var details: [String: TaskExportDetails] = [:]
    for (k, s) in timeline.tasks.enumerated() where !s.isSummary {
        details[s.id] = TaskExportDetails(
            resourceIDs: [people[k % people.count].id], role: "Community manager",
            checklist: ["Draft, review; sign", "Publish"],
            baseline: k % 2 == 0 ? TaskBaseline(start: s.earlyStart.addingTimeInterval(-86_400), finish: s.earlyFinish.addingTimeInterval(-86_400)) : nil,
            sequence: k % 5)
    }
    let export = TimelineExport(
        planID: "bench", planName: "Benchmark plan", clientName: "Bench, S.L.", clientTimeZone: TimeZoneID("Europe/Madrid")!,
        plan: plan, timeline: timeline, taskDetails: details, resources: people, generatedAt: plan.start)
    let today = plan.start.addingTimeInterval(86_400 * 30)

    var lines: [String] = []
    for format in formats {
        var bytes = 0
        let ms = medianMilliseconds(runs: 7) {
            bytes = format.render(export, today: today).utf8.count
        }
        guard bytes > 0 else { throw CocoaError(.featureUnsupported) }
        lines.append("export format=\(format.rawValue) tasks=\(taskCount) ms=\(String(format: "%.1f", ms)) bytes=\(bytes)")
    }
    return lines
}
