import Foundation
import Hummingbird
import Testing
@testable import TrellisHTTP
import TrellisStore

/// `docs/openapi.yaml` is the contract: every route of the router is in it, and nothing else is.
@Suite("OpenAPI contract")
struct ContractTests {
    static let methods: Set<String> = ["get", "put", "post", "patch", "delete", "head", "options"]

    /// `METHOD /path` for every operation under `paths:` (two-space paths, four-space methods).
    static func documentedOperations(_ yaml: String) -> Set<String> {
        var operations = Set<String>()
        var inPaths = false
        var currentPath: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if !line.hasPrefix(" ") && !line.isEmpty && !line.hasPrefix("#") {
                inPaths = line.hasPrefix("paths:")
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                currentPath = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path = currentPath {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if line.hasSuffix(":"), methods.contains(String(key)) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        try await withTestDatabaseless { dependencies in
            let router = buildRouter(dependencies)
            // The JSON API is the contract; the web app's pages are listed in docs/architecture.md (checked below).
            let routed = Set(router.routes.filter { !WebPaths.isPage($0.path.description) }.map { "\($0.method.rawValue) \($0.path.description)" })
            let documented = Self.documentedOperations(dependencies.openAPIDocument)
            #expect(routed.count > 20)
            #expect(routed.subtracting(documented).sorted() == [], "routes missing from docs/openapi.yaml")
            #expect(documented.subtracting(routed).sorted() == [], "documented routes the router does not have")
        }
    }

    @Test func everyWebPageIsListedInTheArchitectureDocument() async throws {
        try await withTestDatabaseless { dependencies in
            let pages = buildRouter(dependencies).routes.filter { WebPaths.isPage($0.path.description) }
                .map { "`\($0.method.rawValue) \($0.path.description)`" }
            let architecture = try String(contentsOf: ProjectFiles.docsDirectory.appendingPathComponent("architecture.md"), encoding: .utf8)
            #expect(pages.count >= 10)
            #expect(pages.filter { !architecture.contains($0) }.sorted() == [], "pages missing from docs/architecture.md")
        }
    }

    @Test func theDocumentIsOpenAPI31AndServed() async throws {
        let yaml = try APIDependencies.loadOpenAPIDocument()
        #expect(yaml.hasPrefix("openapi: 3.1"))
        #expect(yaml.contains("application/problem+json"))
    }

    @Test func theParserSeesWhatItShould() {
        let yaml = """
            openapi: 3.1.0
            paths:
              /v1/things/{thingId}:
                get:
                  summary: x
                parameters: []
                patch:
                  summary: y
            components:
              schemas:
                get:
            """
        #expect(Self.documentedOperations(yaml) == ["GET /v1/things/{thingId}", "PATCH /v1/things/{thingId}"])
    }
}

/// The router needs dependencies but this test sends no request: a client that never runs is enough.
func withTestDatabaseless(_ body: (APIDependencies) async throws -> Void) async throws {
    let settings = try ConnectionSettings.parse("postgres://nobody@127.0.0.1:1/none", environment: [:])
    let client = PostgresClientFactory.idle(settings)
    try await body(try APIDependencies(
        database: TenantDatabase(client: client, logger: .init(label: "contract")),
        migrations: [], openAPIDocument: try APIDependencies.loadOpenAPIDocument(), metrics: nil))
}

import PostgresNIO
enum PostgresClientFactory {
    static func idle(_ settings: ConnectionSettings) -> PostgresClient {
        PostgresClient(configuration: settings.clientConfiguration(maximumConnections: 1))
    }
}
