import Foundation
import Testing

/// docs/operations.md is the operator's list of settings: every setting an executable reads (`setting(…, env: "NAME")`)
/// is in it, except the few for development and benchmarks, which are in the page that uses them.
@Suite("docs/operations.md lists every setting")
struct OperationsDocTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let documentedElsewhere = ["BARE_HELLO_PORT": "docs/benchmarks.md", "TRELLIS_DEV_PG_PORT": "README.md"]

    @Test func everySettingTheExecutablesReadIsDocumented() throws {
        let sources = Self.repo.appendingPathComponent("Sources")
        var names: Set<String> = []
        let pattern = try NSRegularExpression(pattern: #"env: "([A-Z][A-Z0-9_]*)""#)
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files where file.pathExtension == "swift" && !file.path.contains("/TrellisTestSupport/") {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { names.insert(String(text[range])) }
            }
        }
        #expect(names.count > 25, "the scan found the settings: \(names.sorted())")
        #expect(names.contains("WORKER_METRICS_PORT") && names.contains("DB_POOL_SIZE"))
        let operations = try String(contentsOf: Self.repo.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        for name in names.sorted() {
            let page = Self.documentedElsewhere[name] ?? "docs/operations.md"
            let text = page == "docs/operations.md" ? operations : try String(contentsOf: Self.repo.appendingPathComponent(page), encoding: .utf8)
            #expect(text.contains("`\(name)`") || text.contains("`\(name)="), "\(name) is read by an executable but \(page) does not list it")
        }
    }
}
