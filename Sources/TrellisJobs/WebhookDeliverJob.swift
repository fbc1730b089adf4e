import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import TrellisApplication
import TrellisDomain
import TrellisQueue
import TrellisStore

/// `webhook.deliver`: POSTs one event to one webhook, signed Stripe-style, and records the attempt.
/// A non-2xx answer or a network error fails the attempt, so the queue retries it with backoff.
public struct WebhookDeliverJob: JobKind {
    public typealias Arguments = WebhookDelivery
    public static let queue = WebhookDelivery.queue
    public static let maxAttempts = WebhookDelivery.maxAttempts
    public static let requestTimeout: TimeAmount = .seconds(10)
    /// Responses are read (and dropped) up to this size; the error text keeps the start of it.
    static let maxResponseBytes = 64 * 1024

    public struct DeliveryFailed: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    let database: TenantDatabase
    let outbound: OutboundPolicy

    public init(database: TenantDatabase, outbound: OutboundPolicy) {
        self.database = database
        self.outbound = outbound
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
        // During a rotation's grace period both secrets sign, so receivers can switch at their pace.
        let digests = target.secrets.map { Self.signature(secret: $0, timestamp: timestamp, body: arguments.body) }
        request.headers.add(name: "Trellis-Signature", value: WebhookSignature.header(timestamp: timestamp, hexDigests: digests))
        request.body = .bytes(ByteBuffer(string: arguments.body))

        let started = ContinuousClock.now
        var status: Int?
        var failure: String?
        do {
            status = try await send(request, to: target.url, logger: context.logger)
            if let status, !(200..<300).contains(status) { failure = "HTTP \(status)" }
        } catch let refused as OutboundPolicy.Refused {
            failure = refused.errorClass
        } catch {
            // The class of the failure only: the text of a connection error would tell a tenant about the network.
            failure = Self.errorClass(error)
        }
        let elapsed = ContinuousClock.now - started
        let durationMs = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let attempt = WebhookStore.Attempt(
            webhookId: arguments.webhookId, deliveryId: arguments.deliveryId, jobId: context.id, event: arguments.event,
            payload: arguments.body, attempt: context.attempt, statusCode: status, error: failure, durationMs: durationMs,
            succeeded: failure == nil)
        try await database.withTenant(agency) { try await store.recordAttempt(attempt, on: $0) }
        if let failure {
            if failure == "internal_address" || failure == "scheme" {
                return .discard(reason: "the webhook's address is not allowed (\(failure))")
            }
            context.logger.warning("webhook delivery failed", metadata: [
                "webhook": "\(arguments.webhookId)", "delivery": "\(arguments.deliveryId)", "attempt": "\(context.attempt)", "error": "\(failure)",
            ])
            throw DeliveryFailed(description: failure)
        }
        return .completed
    }

    /// One POST to the checked address: the host is resolved and vetted first, and the client connects to that
    /// address (TLS still verifies the host name); redirects are never followed; the answer is not kept.
    func send(_ request: HTTPClientRequest, to rawURL: String, logger: Logger) async throws -> Int {
        if let refused = outbound.check(url: rawURL) { throw refused }
        guard let host = URL(string: rawURL)?.host else { throw OutboundPolicy.Refused(errorClass: "invalid_url", description: "no host") }
        let address = try await outbound.resolve(host: host)
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: Self.requestTimeout))
        if IPAddress(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) == nil { configuration.dnsOverride = [host: address] }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let response = try await client.execute(request, timeout: Self.requestTimeout, logger: logger)
            _ = try? await response.body.collect(upTo: Self.maxResponseBytes)
            try await client.shutdown()
            return Int(response.status.code)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    static func errorClass(_ error: any Error) -> String {
        let text = String(describing: error).lowercased()
        if text.contains("timeout") || text.contains("timedout") || text.contains("deadline") { return "timeout" }
        if text.contains("refused") { return "connection_refused" }
        if text.contains("ssl") || text.contains("tls") || text.contains("certificate") || text.contains("handshake") { return "tls" }
        if text.contains("dns") || text.contains("resolve") || text.contains("lookup") { return "unresolvable" }
        if text.contains("redirect") { return "redirect_not_followed" }
        return "connection_failed"
    }
}
