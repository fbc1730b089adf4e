import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing
import TrellisDomain
@testable import TrellisHTTP
import TrellisJobs
import TrellisQueue
import TrellisStore
import TrellisTestSupport

/// A fresh database with one agency (owner token), the real API router to set things up, and helpers
/// to run jobs through a real worker.
struct JobsHarness: Sendable {
    let db: TestDatabase
    let api: any TestClientProtocol
    let agency: AgencyID
    let ownerID: UUID
    let token: String

    var database: TenantDatabase { db.tenantDatabase }
    var logger: Logger { db.logger }
    var queue: JobQueue { JobQueue(client: db.app, logger: db.logger) }

    static func run(label: String = #function, _ body: @Sendable (JobsHarness) async throws -> Void) async throws {
        try await withTestDatabase(label: label) { db in
            let (agency, ownerID, token) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "Agency", slug: "agency",
                owner: MemberDraft(email: "owner@agency.example", displayName: "Olga Owner", role: .owner, clientID: nil, weeklyCapacityHours: 40),
                passwordHash: nil)
            let dependencies = try APIDependencies(
                database: db.apiDatabase, migrations: try Migration.load(directory: ProjectFiles.sqlDirectory),
                openAPIDocument: try APIDependencies.loadOpenAPIDocument(), metrics: nil, security: .localDevelopment)
            let app = Application(router: buildRouter(dependencies))
            try await app.test(.router) { client in
                try await body(JobsHarness(db: db, api: client, agency: agency, ownerID: ownerID, token: token))
            }
        }
    }

    struct Reply: Sendable {
        let status: Int
        let headers: HTTPFields
        let data: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: data, as: UTF8.self) }
        func string(_ key: String) -> String? { json[key] as? String }
    }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        headers[.authorization] = "Bearer \(token)"
        if json != nil { headers[.contentType] = "application/json" }
        return try await api.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            Reply(status: Int(response.status.code), headers: response.headers, data: Data(buffer: response.body))
        }
    }

    /// A client (UTC, so instants read easily) with one plan from the built-in template; every task assigned
    /// to the owner. Returns (clientId, planId).
    func clientWithPlan(startsOn: String = "2026-03-02", timeZone: String = "UTC", name: String = "Aurora") async throws -> (UUID, UUID) {
        let client = try await call(.post, "/v1/clients", json: #"{"name":"\#(name)","timeZone":"\#(timeZone)","status":"active"}"#)
        #expect(client.status == 201, "\(client.text)")
        let clientID = UUID(uuidString: client.string("id") ?? "")!
        let plan = try await call(.post, "/v1/plans", json: #"{"clientId":"\#(clientID.lowercasedString)","startsOn":"\#(startsOn)"}"#)
        #expect(plan.status == 201, "\(plan.text)")
        let planID = UUID(uuidString: (plan.json["plan"] as? [String: Any])?["id"] as? String ?? "")!
        try await db.owner.query("UPDATE plan_tasks SET assignee_id = \(ownerID) WHERE plan_id = \(planID)", logger: logger)
        return (clientID, planID)
    }

    /// The plan's timeline as the engine computes it now.
    func timeline(_ plan: UUID) async throws -> (PlanDocument, Timeline) {
        let store = PlanStore(logger: logger)
        return try await database.withTenant(agency) { connection in
            let document = try await store.document(plan, on: connection)
            return (document, try document.onboardingPlan.schedule())
        }
    }

    func count(_ query: PostgresQuery) async throws -> Int {
        for try await value in try await db.owner.query(query, logger: logger).decode(Int64.self) { return Int(value) }
        return 0
    }
}

/// A worker tuned for tests: quick polling and short backoffs.
func testWorkerConfiguration(queues: [String: Int]) -> JobWorker.Configuration {
    JobWorker.Configuration(
        queues: queues, workerID: "jobs-test-\(UUID().uuidString.prefix(8))", pollInterval: .milliseconds(100), fetchBatchSize: 10,
        leaseDuration: .seconds(10), leaseRenewInterval: .milliseconds(500), handlerTimeout: .seconds(30), shutdownGracePeriod: .seconds(2),
        maintenanceInterval: .milliseconds(50),
        retryPolicy: RetryPolicy(curve: .exponential(base: .milliseconds(200)), maximum: .seconds(1), jitter: 0),
        retention: nil, statementTimeout: .seconds(10))
}

