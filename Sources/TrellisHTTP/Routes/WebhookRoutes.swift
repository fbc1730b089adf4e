import Foundation
import Hummingbird
import PostgresNIO
import TrellisApplication
import TrellisDomain
import TrellisJobs
import TrellisQueue
import TrellisStore

/// Signed webhooks of the agency: owners and managers register endpoints, subscribe them to events, rotate
/// their secret (shown once), read the delivery log and send a test ping.
struct WebhookRoutes {
    let database: TenantDatabase
    let store: WebhookStore
    let queue: JobQueue
    let outbound: OutboundPolicy
    let testLimiter: RateLimiter

    /// Owners and managers (see TenantPolicy).
    static let action: Action = .manageIntegrations
    static var subscribable: [String] { WebhookEvent.allCases.filter { $0 != .ping }.map(\.rawValue) }

    func register(on router: Router<AppRequestContext>) {
        router.post("/v1/webhooks", use: create)
        router.get("/v1/webhooks", use: list)
        router.get("/v1/webhooks/{webhookId}", use: read)
        router.patch("/v1/webhooks/{webhookId}", use: update)
        router.delete("/v1/webhooks/{webhookId}", use: delete)
        router.post("/v1/webhooks/{webhookId}/rotate-secret", use: rotateSecret)
        router.get("/v1/webhooks/{webhookId}/deliveries", use: deliveries)
        router.post("/v1/webhooks/{webhookId}/test", use: test)
    }

    /// A webhook with its secret: only in the answers to create and rotate.
    struct WithSecret: Codable, Sendable {
        var id: UUID
        var url: String
        var events: [String]
        var active: Bool
        var description: String?
        var createdAt: Date
        var updatedAt: Date
        var secret: String

        init(_ record: WebhookRecord, secret: String) {
            id = record.id
            url = record.url
            events = record.events
            active = record.active
            description = record.description
            createdAt = record.createdAt
            updatedAt = record.updatedAt
            self.secret = secret
        }
    }

    /// https to a public host (the address is checked again after DNS at each delivery).
    static func readURL(_ reader: inout FieldReader, required: Bool, policy: OutboundPolicy) -> String? {
        guard let raw = reader.string("url", required: required, maxLength: 2000) else { return nil }
        if let refused = policy.check(url: raw) {
            reader.errors.add("url", refused.description)
            return nil
        }
        return raw
    }

    static func readEvents(_ reader: inout FieldReader, required: Bool) -> [String]? {
        guard let events = reader.strings("events", required: required) else { return nil }
        let known = Set(subscribable)
        for (index, event) in events.enumerated() where !known.contains(event) {
            reader.errors.add("events[\(index)]", "must be one of \(subscribable.joined(separator: ", "))")
        }
        if events.isEmpty { reader.errors.add("events", "must name at least one event") }
        var seen = Set<String>()
        return events.filter { seen.insert($0).inserted }
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(Self.action)
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["url", "events", "description", "active"])
        let url = Self.readURL(&reader, required: true, policy: outbound)
        let events = Self.readEvents(&reader, required: true)
        let description = reader.string("description", maxLength: 500)
        let active = reader.bool("active")
        try reader.check()
        guard let url, let events else { throw Problem(.malformedRequest) }
        let store = self.store
        let created = try await database.withTenant(principal.agencyID) { connection in
            var (record, secret) = try await store.create(url: url, events: events, description: description, on: connection)
            if active == false {
                record = try await store.update(record.id, url: nil, events: nil, active: false, description: nil, clearDescription: false, on: connection)
            }
            return WithSecret(record, secret: secret)
        }
        var response = try JSONBody(created, status: .created).response(from: request, context: context)
        response.headers[.location] = "/v1/webhooks/\(created.id.lowercasedString)"
        return response
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<WebhookBody>> {
        let principal = try context.require(Self.action)
        let window = try ListWindow(request)
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { try await store.list(on: $0) }).map(WebhookBody.init))
    }

    @Sendable func read(_ request: Request, context: AppRequestContext) async throws -> JSONBody<WebhookBody> {
        let principal = try context.require(Self.action)
        let id = try context.uuidParameter("webhookId")
        let store = self.store
        return JSONBody(WebhookBody(try await database.withTenant(principal.agencyID) { try await store.get(id, on: $0) }))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONBody<WebhookBody> {
        let principal = try context.require(Self.action)
        let id = try context.uuidParameter("webhookId")
        var reader = FieldReader(try await request.jsonObject(context: context), allowed: ["url", "events", "description", "active"])
        let url = Self.readURL(&reader, required: false, policy: outbound)
        let events = Self.readEvents(&reader, required: false)
        let clearDescription = reader.isNull("description")
        let description = reader.string("description", maxLength: 500)
        let active = reader.bool("active")
        try reader.check()
        let store = self.store
        return JSONBody(try await database.withTenant(principal.agencyID) { connection in
            WebhookBody(try await store.update(id, url: url, events: events, active: active, description: description, clearDescription: clearDescription, on: connection))
        })
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        let principal = try context.require(Self.action)
        let id = try context.uuidParameter("webhookId")
        let store = self.store
        try await database.withTenant(principal.agencyID) { try await store.delete(id, on: $0) }
        return .noContent
    }

    @Sendable func rotateSecret(_ request: Request, context: AppRequestContext) async throws -> JSONBody<WithSecret> {
        let principal = try context.require(Self.action)
        let id = try context.uuidParameter("webhookId")
        let store = self.store
        return JSONBody(try await database.withTenant(principal.agencyID) { connection in
            let (record, secret) = try await store.rotateSecret(id, on: connection)
            return WithSecret(record, secret: secret)
        })
    }

    @Sendable func deliveries(_ request: Request, context: AppRequestContext) async throws -> JSONBody<ListPage<WebhookDeliveryBody>> {
        let principal = try context.require(Self.action)
        let window = try ListWindow(request)
        let id = try context.uuidParameter("webhookId")
        let limit = window.offset + window.limit + 1
        let store = self.store
        return JSONBody(window.page(try await database.withTenant(principal.agencyID) { connection in
            _ = try await store.get(id, on: connection)
            return try await store.deliveries(webhook: id, limit: limit, on: connection)
        }).map(WebhookDeliveryBody.init))
    }

    struct TestDelivery: Codable, Sendable {
        var jobId: Int64
        var deliveryId: UUID
        var event: String
    }

    struct Ping: Codable, Sendable {
        var message: String
        var webhookId: String
    }

    /// `POST /v1/webhooks/{id}/test`: enqueues a `ping` delivery (whatever the webhook subscribes to).
    @Sendable func test(_ request: Request, context: AppRequestContext) async throws -> JSONBody<TestDelivery> {
        let principal = try context.require(Self.action)
        let id = try context.uuidParameter("webhookId")
        if let wait = testLimiter.take("\(principal.agencyID.rawValue)/\(id)") {
            throw Problem.tooManyRequests(retryAfter: wait, detail: "test deliveries of one webhook are limited; retry in \(wait) s")
        }
        let (store, queue) = (self.store, self.queue)
        return JSONBody(try await database.withTenant(principal.agencyID) { connection in
            _ = try await store.get(id, on: connection)
            let job = try WebhookEvents.delivery(
                webhook: id, event: WebhookEvent.ping.rawValue,
                data: Ping(message: "a test delivery from Trellis", webhookId: id.lowercasedString), agency: principal.agencyID)
            let jobID = try await queue.enqueue(job, on: connection.connection)
            let arguments = try JSONDecoder().decode(WebhookDeliverJob.Arguments.self, from: job.args)
            return TestDelivery(jobId: jobID, deliveryId: arguments.deliveryId, event: WebhookEvent.ping.rawValue)
        }, status: .accepted)
    }
}
