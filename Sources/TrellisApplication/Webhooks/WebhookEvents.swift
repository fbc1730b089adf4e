import Foundation
import PostgresNIO
import TrellisDomain
import TrellisQueue
import TrellisStore

/// The body of every webhook delivery: `{"id", "type", "createdAt", "agencyId", "data"}`.
public struct WebhookEnvelope<Payload: Encodable & Sendable>: Encodable, Sendable {
    public var id: UUID
    public var type: String
    public var createdAt: Date
    public var agencyId: UUID
    public var data: Payload

    enum CodingKeys: String, CodingKey { case id, type, createdAt, agencyId, data }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercasedString, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(agencyId.lowercasedString, forKey: .agencyId)
        try container.encode(data, forKey: .data)
    }
}

/// Raises webhook events: one `webhook.deliver` job per active webhook subscribed to the event, enqueued on
/// the caller's connection so the event and whatever caused it commit together.
public enum WebhookEvents {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The exact JSON text a delivery posts (and signs).
    public static func body<P: Encodable & Sendable>(delivery: UUID, event: String, agency: AgencyID, data: P, at: Date = Date()) throws -> String {
        String(decoding: try encoder.encode(WebhookEnvelope(id: delivery, type: event, createdAt: at, agencyId: agency.rawValue, data: data)), as: UTF8.self)
    }

    /// Enqueues a delivery of `event` to every subscribed, active webhook of the agency. Returns the job ids.
    @discardableResult
    public static func publish<P: Encodable & Sendable>(
        _ event: WebhookEvent, data: P, queue: JobQueue, logger: Logger, on connection: TenantConnection
    ) async throws -> [JobID] {
        let hooks = try await WebhookStore(logger: logger).subscribers(event: event.rawValue, on: connection)
        return try await publish(event, data: data, to: hooks, queue: queue, on: connection)
    }

    /// Enqueues `event` to the given webhooks (already known to be subscribed), or nothing when there are none.
    @discardableResult
    public static func publish<P: Encodable & Sendable>(
        _ event: WebhookEvent, data: P, to hooks: [UUID], queue: JobQueue, on connection: TenantConnection
    ) async throws -> [JobID] {
        guard !hooks.isEmpty else { return [] }
        let jobs = try hooks.map { try delivery(webhook: $0, event: event.rawValue, data: data, agency: connection.agency) }
        return try await queue.enqueueBatch(jobs, on: connection.connection).map(\.jobID)
    }

    /// One delivery job for one webhook (used by `publish` and by the test ping).
    public static func delivery<P: Encodable & Sendable>(webhook: UUID, event: String, data: P, agency: AgencyID) throws -> NewJob {
        let delivery = UUID()
        let arguments = WebhookDelivery(
            webhookId: webhook, deliveryId: delivery, event: event, body: try body(delivery: delivery, event: event, agency: agency, data: data))
        return try NewJob(arguments, queue: WebhookDelivery.queue, agencyID: agency.rawValue, maxAttempts: WebhookDelivery.maxAttempts)
    }
}
