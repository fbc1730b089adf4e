import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import TrellisDomain
import TrellisQueue
import TrellisStore

/// `webhook.deliver`: POSTs one event to one webhook, signed Stripe-style, and records the attempt.
/// A non-2xx answer or a network error fails the attempt, so the queue retries it with backoff.
public struct WebhookDeliverJob: Sendable {
    public static let kind = "webhook.deliver"
    public static let queue = "webhooks"
    public static let maxAttempts = 8
    public static let requestTimeout: TimeAmount = .seconds(10)
    /// Responses are read (and dropped) up to this size; the error text keeps the start of it.
    static let maxResponseBytes = 64 * 1024

    public struct Arguments: Codable, Sendable {
        public var webhookId: UUID
        /// Sent as `Trellis-Delivery`; the same on every attempt, so receivers can drop repeats.
        public var deliveryId: UUID
        public var event: String
        /// The exact JSON text to post.
        public var body: String

        public init(webhookId: UUID, deliveryId: UUID, event: String, body: String) {
            self.webhookId = webhookId
            self.deliveryId = deliveryId
            self.event = event
            self.body = body
        }
    }

    public struct DeliveryFailed: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    let database: TenantDatabase
    let httpClient: HTTPClient

    public init(database: TenantDatabase, httpClient: HTTPClient) {
        self.database = database
        self.httpClient = httpClient
    }

    /// Hex HMAC-SHA256 of `"<timestamp>.<body>"` with the webhook secret.
    public static func signature(secret: String, timestamp: Int, body: String) -> String {
        let payload = WebhookSignature.signedPayload(timestamp: timestamp, body: body)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    public func run(_ arguments: Arguments, _ context: JobContext) async throws -> JobOutcome {
        guard let agencyUUID = context.agencyID else { return .discard(reason: "a webhook delivery needs an agency") }
        let agency = AgencyID(agencyUUID)
        let store = WebhookStore(logger: context.logger)
        guard let target = try await database.withTenant(agency, { try await store.target(arguments.webhookId, on: $0) }) else {
            return .cancel(reason: "webhook \(arguments.webhookId) was deleted")
        }
        guard target.active else { return .cancel(reason: "webhook \(arguments.webhookId) is inactive") }

        let timestamp = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: target.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Trellis-Webhooks/1")
        request.headers.add(name: "Trellis-Event", value: arguments.event)
        request.headers.add(name: "Trellis-Delivery", value: arguments.deliveryId.lowercasedString)
        request.headers.add(name: "Trellis-Timestamp", value: "\(timestamp)")
        request.headers.add(name: "Trellis-Signature", value: WebhookSignature.header(
            timestamp: timestamp, hexDigest: Self.signature(secret: target.secret, timestamp: timestamp, body: arguments.body)))
        request.body = .bytes(ByteBuffer(string: arguments.body))

        let started = ContinuousClock.now
        var status: Int?
        var failure: String?
        do {
            let response = try await httpClient.execute(request, timeout: Self.requestTimeout, logger: context.logger)
            status = Int(response.status.code)
            let answer = try? await response.body.collect(upTo: Self.maxResponseBytes)
            if !(200..<300).contains(Int(response.status.code)) {
                let snippet = answer.map { String(buffer: $0).prefix(200) } ?? ""
                failure = "HTTP \(response.status.code)\(snippet.isEmpty ? "" : ": \(snippet)")"
            }
        } catch {
            failure = "\(error)"
        }
        let elapsed = ContinuousClock.now - started
        let durationMs = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let attempt = WebhookStore.Attempt(
            webhookId: arguments.webhookId, deliveryId: arguments.deliveryId, jobId: context.id, event: arguments.event,
            payload: arguments.body, attempt: context.attempt, statusCode: status, error: failure, durationMs: durationMs,
            succeeded: failure == nil)
        try await database.withTenant(agency) { try await store.recordAttempt(agency: agency, attempt, on: $0) }
        if let failure {
            context.logger.warning("webhook delivery failed", metadata: [
                "webhook": "\(arguments.webhookId)", "delivery": "\(arguments.deliveryId)", "attempt": "\(context.attempt)", "error": "\(failure)",
            ])
            throw DeliveryFailed(description: failure)
        }
        return .completed
    }
}
