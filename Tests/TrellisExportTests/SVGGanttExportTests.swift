import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TrellisDomain
import TrellisFixtures

@Suite struct SVGGanttExportTests {
    /// Parses the SVG with Foundation's XMLParser and counts elements per class.
    final class Counter: NSObject, XMLParserDelegate {
        var classes: [String: Int] = [:]
        var elements = 0
        var root: String?
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements += 1
            if root == nil { root = name }
            if let c = attributes["class"] { classes[c, default: 0] += 1 }
        }
    }

    func parse(_ svg: String) throws -> Counter {
        let parser = XMLParser(data: Data(svg.utf8))
        let counter = Counter()
        parser.delegate = counter
        let ok = parser.parse()
        #expect(ok, "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        return counter
    }

    @Test func communityLeadChartHasEveryMark() throws {
        let export = try ExportFixtures.communityLead()
        let svg = SVGGanttExporter(today: ExportFixtures.instant("2026-03-20T10:00:00Z")).render(export)
        let c = try parse(svg)
        #expect(c.root == "svg")
        let leaves = export.timeline.tasks.filter { !$0.isSummary }
        let bars = leaves.filter { !$0.isMilestone }
        #expect((c.classes["bar"] ?? 0) + (c.classes["bar critical"] ?? 0) == bars.count + 3)  // + 3 legend swatches
        #expect((c.classes["bar critical"] ?? 0) == bars.filter(\.isCritical).count + 1)
        #expect((c.classes["milestone"] ?? 0) + (c.classes["milestone critical"] ?? 0) == leaves.filter(\.isMilestone).count + 1)
        #expect((c.classes["phase"] ?? 0) == 5 + 1)
        #expect((c.classes["link"] ?? 0) + (c.classes["link critical"] ?? 0) == export.plan.dependencies.count + 1)
        #expect((c.classes["link critical"] ?? 0) > 0)
        #expect((c.classes["baseline"] ?? 0) == 7 + 1)  // the seven baselined tasks of month 1, plus the legend's
        #expect((c.classes["progress"] ?? 0) + (c.classes["progress critical"] ?? 0) >= 3)
        #expect((c.classes["off"] ?? 0) > 20)  // weekends and holidays
        #expect(svg.contains("<g class=\"today\">"))
        #expect(svg.contains("Panadería Lucía, S.L."))
    }

    /// Inside the plan page the chart has no title of its own (the page's heading names the plan and the client) and
    /// starts with its subtitle; the export keeps both.
    @Test func embeddedChartLeavesTheTitleToThePage() throws {
        let export = try ExportFixtures.communityLead()
        var exporter = SVGGanttExporter()
        let standalone = try parse(exporter.render(export))
        exporter.embedded = true
        let embeddedSVG = exporter.render(export)
        let embedded = try parse(embeddedSVG)
        #expect(standalone.classes["title"] == 1 && standalone.classes["client"] == 1)
        #expect(embedded.classes["title"] == nil && embedded.classes["client"] == nil)
        #expect(embedded.classes["subtitle"] == 1)
        #expect(!embeddedSVG.contains("Panadería Lucía, S.L.</tspan>"))
        #expect(embedded.classes["bar"] == standalone.classes["bar"], "the same bars")
        // The same arrows; embedded, the page's style sheet gives them their heads, so the attribute is left out.
        #expect(embedded.classes["link"] == standalone.classes["link"] && (standalone.classes["link"] ?? 0) > 1)
        #expect(!embeddedSVG.contains("marker-end"))
        #expect(SVGGanttExporter().render(export).contains("marker-end=\"url(#arrow)\""))
    }

    @Test func noTodayLineWithoutToday() throws {
        let svg = SVGGanttExporter().render(try ExportFixtures.allLinkKinds())
        let c = try parse(svg)
        #expect(!svg.contains("class=\"today\""))
        #expect(c.classes["link"].map { $0 > 0 } == true)
    }

    @Test func largePlansStayValidWithoutArrows() throws {
        let generator = RandomPlanGenerator(taskCount: 3_000)
        let plan = generator.plan(seed: 7)
        let export = TimelineExport(planID: "big", planName: "Big <plan>", clientName: "C & C", clientTimeZone: ExportFixtures.madrid,
                                    plan: plan, timeline: try Scheduler.schedule(plan), generatedAt: plan.start)
        let svg = SVGGanttExporter().render(export)
        let c = try parse(svg)
        #expect(c.classes["link"] == 1)  // the legend's only
        #expect(svg.contains("dependency arrows omitted"))
    }

    /// Renders the chart in a real browser when one is installed (Debian package `chromium`).
    @Test(.enabled(if: Chromium.path != nil, "chromium is not installed: apt-get install chromium"))
    func headlessChromiumScreenshot() throws {
        let export = try ExportFixtures.communityLead()
        let svg = SVGGanttExporter(today: ExportFixtures.instant("2026-03-20T10:00:00Z")).render(export)
        let png = try Chromium.screenshot(svg: svg, name: "gantt-community-lead")
        let size = try FileManager.default.attributesOfItem(atPath: png.path)[.size] as? Int ?? 0
        #expect(size > 50_000, "screenshot is only \(size) bytes")
        let header = try Data(contentsOf: png).prefix(8)
        #expect(header == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }
}

enum Chromium {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Screenshots `svg` at its own size (read from its width/height) and returns the PNG.
    static func screenshot(svg: String, name: String) throws -> URL {
        let file = try Readers.temporaryFile(name + ".svg", svg)
        func attribute(_ a: String) -> Int {
            guard let r = svg.range(of: " \(a)=\"") else { return 1200 }
            return Int(Double(svg[r.upperBound...].prefix { $0 != "\"" }) ?? 1200)
        }
        let png = file.deletingPathExtension().appendingPathExtension("png")
        try? FileManager.default.removeItem(at: png)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(path))
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--screenshot=\(png.path)", "--window-size=\(attribute("width")),\(attribute("height"))", file.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Not `waitUntilExit`, which was seen to hang when several tests call it at once (its run loop).
        while process.isRunning { usleep(5_000) }
        #expect(process.terminationStatus == 0)
        return png
    }
}
