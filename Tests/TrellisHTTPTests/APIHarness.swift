import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TrellisDomain
@testable import TrellisHTTP
import TrellisStore
import TrellisTestSupport

/// The real router over a fresh database with two agencies, each with an owner token.
struct APIHarness: Sendable {
    let db: TestDatabase
    let client: any TestClientProtocol
    let agencyA: AgencyID
    let tokenA: String
    let agencyB: AgencyID
    let tokenB: String

    /// Webhooks to this machine over http are allowed (local development) unless a test passes production settings.
    static func dependencies(
        _ db: TestDatabase, directExportLimit: Int = 5_000, limits: APILimits = .init(), security: SecuritySettings = .localDevelopment
    ) throws -> APIDependencies {
        try APIDependencies(
            database: db.apiDatabase, migrations: try Migration.load(directory: ProjectFiles.sqlDirectory),
            openAPIDocument: try APIDependencies.loadOpenAPIDocument(), metrics: nil, directExportLimit: directExportLimit,
            limits: limits, security: security)
    }

    static func run(
        label: String = #function, directExportLimit: Int = 5_000, limits: APILimits = .init(), security: SecuritySettings = .localDevelopment,
        _ body: @Sendable (APIHarness) async throws -> Void
    ) async throws {
        try await withTestDatabase(label: label) { db in
            let owner = { (email: String) in MemberDraft(email: email, displayName: "Owner", role: .owner, clientID: nil, weeklyCapacityHours: 40) }
            let (a, _, tokenA) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "Agency A", slug: "agency-a", owner: owner("owner@a.example"),
                passwordHash: PasswordHashing.hash("correct horse battery"))
            let (b, _, tokenB) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "Agency B", slug: "agency-b", owner: owner("owner@b.example"), passwordHash: nil)
            let app = Application(router: buildRouter(try dependencies(db, directExportLimit: directExportLimit, limits: limits, security: security)))
            try await app.test(.router) { client in
                try await body(APIHarness(db: db, client: client, agencyA: a, tokenA: tokenA, agencyB: b, tokenB: tokenB))
            }
        }
    }

    struct Reply: Sendable {
        let status: Int
        let headers: HTTPFields
        let data: Data

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
        /// The items of a list (every list answers `{"items": [...], "nextCursor": …}`).
        var array: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
        var text: String { String(decoding: data, as: UTF8.self) }
        var problemType: String? { json["type"] as? String }
        /// The field names of a 422.
        var failingFields: Set<String> { Set((json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }) }
        func string(_ key: String) -> String? { json[key] as? String }
    }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            Reply(status: Int(response.status.code), headers: response.headers, data: Data(buffer: response.body))
        }
    }

    /// A member of agency A with `role`, and a token for them.
    func member(_ role: MemberRole, clientID: String? = nil, capacity: Double = 40) async throws -> (id: String, token: String) {
        let email = "\(role.rawValue)-\(UUID().uuidString.prefix(6))@a.example"
        var body = #"{"email":"\#(email)","displayName":"\#(role.rawValue)","role":"\#(role.rawValue)","weeklyCapacityHours":\#(capacity)"#
        if let clientID { body += #","clientId":"\#(clientID)""# }
        body += "}"
        let created = try await call(.post, "/v1/members", token: tokenA, json: body)
        #expect(created.status == 201, "\(created.text)")
        let id = created.string("id") ?? ""
        let token = try await call(.post, "/v1/tokens", token: tokenA, json: #"{"name":"t","memberId":"\#(id)"}"#)
        return (id, token.string("secret") ?? "")
    }

    func createClient(_ name: String, token: String? = nil, status: String = "active", timeZone: String = "Europe/Madrid") async throws -> String {
        let reply = try await call(.post, "/v1/clients", token: token ?? tokenA, json: #"{"name":"\#(name)","timeZone":"\#(timeZone)","status":"\#(status)"}"#)
        #expect(reply.status == 201, "\(reply.text)")
        return reply.string("id") ?? ""
    }

    func roleID(_ key: String, token: String? = nil) async throws -> String {
        let roles = try await call(.get, "/v1/roles", token: token ?? tokenA)
        return roles.array.first { $0["key"] as? String == key }?["id"] as? String ?? ""
    }
}

typealias Reply = APIHarness.Reply
