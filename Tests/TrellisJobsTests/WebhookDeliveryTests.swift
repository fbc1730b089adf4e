import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import TrellisTestSupport
import TrellisDomain
import TrellisJobs
import TrellisQueue
import TrellisStore

/// A delivery against a real HTTP receiver on 127.0.0.1: the first answer is 500, the retry gets 200.
@Suite("Webhook delivery")
struct WebhookDeliveryTests {
    struct Received: Sendable {
        var headers: [String: String]
        var body: String
        var receivedAt: Date
    }

    static func header(_ request: Request, _ name: String) -> String {
        request.headers.first { $0.name.canonicalName == name.lowercased() }?.value ?? ""
    }

    @Test func aFailedDeliveryIsRetriedSignedAndEveryAttemptRecorded() async throws {
        try await JobsHarness.run { h in
            let received = Mutex<[Received]>([])
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                var headers: [String: String] = [:]
                for name in ["Trellis-Event", "Trellis-Delivery", "Trellis-Timestamp", "Trellis-Signature", "Content-Type"] {
                    headers[name] = Self.header(request, name)
                }
                let n = received.withLock { list -> Int in
                    list.append(Received(headers: headers, body: String(buffer: body), receivedAt: Date()))
                    return list.count
                }
                return Response(status: n == 1 ? .internalServerError : .ok, body: .init(byteBuffer: ByteBuffer(string: n == 1 ? "boom" : "ok")))
            }
            let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await receiver.test(.live) { live in
                let port = try #require(live.port)
                let created = try await h.call(.post, "/v1/webhooks", json: #"{"url":"http://127.0.0.1:\#(port)/hook","events":["task.due"]}"#)
                #expect(created.status == 201, "\(created.text)")
                let webhookID = try #require(created.string("id"))
                let secret = try #require(created.string("secret"))
                #expect(secret.hasPrefix("whsec_"))

                let ping = try await h.call(.post, "/v1/webhooks/\(webhookID)/test")
                #expect(ping.status == 202, "\(ping.text)")
                let jobID = try #require(ping.json["jobId"] as? Int)

                let registry = PlatformJobs.registry(database: h.database, outbound: .localDevelopment)
                let completed = try await withWorker(h.db.app, registry, testWorkerConfiguration(queues: [WebhookDeliverJob.queue: 2]), logger: h.logger) { _ in
                    try await eventually(timeout: .seconds(20), every: .milliseconds(50)) { try await h.queue.job(JobID(jobID))?.state == .completed }
                }
                #expect(completed, "the delivery job completed")
                let job = try #require(try await h.queue.job(JobID(jobID)))
                #expect(job.attempt == 2)
                #expect(job.errors.count == 1)
                #expect(job.errors.first?.error.contains("HTTP 500") == true)

                let requests = received.withLock { $0 }
                #expect(requests.count == 2, "one failed attempt and its retry")
                for request in requests {
                    #expect(request.headers["Trellis-Event"] == "ping")
                    #expect(request.headers["Content-Type"] == "application/json")
                    let signature = try #require(WebhookSignature.parse(request.headers["Trellis-Signature"] ?? ""))
                    #expect("\(signature.timestamp)" == request.headers["Trellis-Timestamp"])
                    #expect(abs(Double(signature.timestamp) - request.receivedAt.timeIntervalSince1970) < 30)
                    // The receiver's own check: HMAC-SHA256 of "<t>.<body>" with the secret shown on create.
                    let mac = HMAC<SHA256>.authenticationCode(
                        for: Data("\(signature.timestamp).\(request.body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
                    let expected = mac.map { String(format: "%02x", $0) }.joined()
                    #expect(signature.signatures == [expected])
                    let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
                    #expect(body["type"] as? String == "ping")
                    #expect(body["id"] as? String == request.headers["Trellis-Delivery"])
                    #expect((body["data"] as? [String: Any])?["webhookId"] as? String == webhookID)
                }
                #expect(requests.first?.headers["Trellis-Delivery"] == requests.last?.headers["Trellis-Delivery"], "the same delivery id on every attempt")
                #expect(requests.first?.body == requests.last?.body)

                // Both attempts are in the log, through the API too.
                let log = try await h.call(.get, "/v1/webhooks/\(webhookID)/deliveries")
                let attempts = ((try JSONSerialization.jsonObject(with: log.data) as? [String: Any])?["items"] as? [[String: Any]]) ?? []
                #expect(attempts.count == 2)
                let byAttempt = Dictionary(uniqueKeysWithValues: attempts.map { ($0["attempt"] as? Int ?? 0, $0) })
                #expect(byAttempt[1]?["statusCode"] as? Int == 500)
                #expect(byAttempt[1]?["succeeded"] as? Bool == false)
                #expect(byAttempt[2]?["statusCode"] as? Int == 200)
                #expect(byAttempt[2]?["succeeded"] as? Bool == true)
                #expect(byAttempt[2]?["jobId"] as? Int == jobID)
                #expect(try await h.count("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = \(UUID(uuidString: webhookID)!)") == 2)
            }
        }
    }

    @Test func aDeletedWebhookCancelsItsPendingDelivery() async throws {
        try await JobsHarness.run { h in
            let created = try await h.call(.post, "/v1/webhooks", json: #"{"url":"http://127.0.0.1:9/never","events":["task.due"]}"#)
            let webhookID = try #require(created.string("id"))
            let jobID = try #require(try await h.call(.post, "/v1/webhooks/\(webhookID)/test").json["jobId"] as? Int)
            #expect(try await h.call(.delete, "/v1/webhooks/\(webhookID)").status == 204)
            let registry = PlatformJobs.registry(database: h.database)
            let cancelled = try await withWorker(h.db.app, registry, testWorkerConfiguration(queues: [WebhookDeliverJob.queue: 1]), logger: h.logger) { _ in
                try await eventually(timeout: .seconds(20), every: .milliseconds(50)) { try await h.queue.job(JobID(jobID))?.state == .cancelled }
            }
            #expect(cancelled)
        }
    }

    @Test func theSignatureIsStripeStyle() {
        let digest = WebhookDeliverJob.signature(secret: "whsec_test", timestamp: 1_700_000_000, body: #"{"a":1}"#)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(#"1700000000.{"a":1}"#.utf8), using: SymmetricKey(data: Data("whsec_test".utf8)))
        #expect(digest == mac.map { String(format: "%02x", $0) }.joined())
        #expect(digest.count == 64)
        let header = WebhookSignature.header(timestamp: 1_700_000_000, hexDigest: digest)
        #expect(header == "t=1700000000,v1=\(digest)")
        #expect(WebhookSignature.parse(header)?.timestamp == 1_700_000_000)
        #expect(WebhookSignature.parse(header)?.signatures == [digest])
        #expect(WebhookSignature.parse("garbage") == nil)
    }

    /// A receiver on this machine: `/hook` answers `answer`; `/landing` counts what reaches it.
    static func withReceiver(
        answer: @escaping @Sendable (Int) -> Response, _ body: @Sendable (Int, Hits) async throws -> Void
    ) async throws {
        let hits = Hits()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let signature = Self.header(request, "Trellis-Signature")
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let n = hits.append("hook " + signature + "\u{1}" + body)
            return answer(n)
        }
        router.post("/landing") { _, _ -> Response in
            _ = hits.append("landing")
            return Response(status: .ok)
        }
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { live in try await body(try #require(live.port), hits) }
    }

    func deliverPing(_ h: JobsHarness, url: String, policy: OutboundPolicy, until state: JobState) async throws -> (job: Int, reached: Bool) {
        let created = try await h.call(.post, "/v1/webhooks", json: #"{"url":"\#(url)","events":["task.due"]}"#)
        let webhookID = try #require(created.string("id"), "\(created.text)")
        let jobID = try #require(try await h.call(.post, "/v1/webhooks/\(webhookID)/test").json["jobId"] as? Int)
        let registry = PlatformJobs.registry(database: h.database, outbound: policy)
        let reached = try await withWorker(h.db.app, registry, testWorkerConfiguration(queues: [WebhookDeliverJob.queue: 1]), logger: h.logger) { _ in
            try await eventually(timeout: .seconds(20), every: .milliseconds(50)) {
                let job = try await h.queue.job(JobID(jobID))
                return job?.state == state || (state == .retryable && (job?.errors.isEmpty == false))
            }
        }
        return (jobID, reached)
    }

    @Test func aRedirectIsNotFollowedAndTheAnswerIsNotKept() async throws {
        try await JobsHarness.run { h in
            try await Self.withReceiver(answer: { _ in
                Response(status: .found, headers: [.location: "/landing"], body: .init(byteBuffer: ByteBuffer(string: "internal secret page")))
            }) { port, hits in
                let (jobID, failed) = try await deliverPing(h, url: "http://127.0.0.1:\(port)/hook", policy: .localDevelopment, until: .retryable)
                #expect(failed)
                #expect(hits.all.filter { $0 == "landing" }.isEmpty, "the redirect was not followed")
                let job = try #require(try await h.queue.job(JobID(jobID)))
                #expect(job.errors.first?.error == "HTTP 302")
                let logged = try await h.count("SELECT count(*) FROM webhook_deliveries WHERE error = 'HTTP 302' AND status_code = 302")
                #expect(logged == 1)
                #expect(try await h.count("SELECT count(*) FROM webhook_deliveries WHERE error LIKE '%secret%'") == 0, "no answer body is kept")
            }
        }
    }

    @Test func aDeliveryToLoopbackIsRefusedByProductionSettingsAndNeverSent() async throws {
        try await JobsHarness.run { h in
            try await Self.withReceiver(answer: { _ in Response(status: .ok) }) { port, hits in
                // Registered under local-development settings, delivered under production ones: the address is
                // checked again at delivery, after DNS.
                let (jobID, finished) = try await deliverPing(h, url: "https://localhost:\(port)/hook", policy: OutboundPolicy(), until: .discarded)
                #expect(finished)
                #expect(hits.all.isEmpty, "nothing reached the receiver")
                #expect(try await h.count("SELECT count(*) FROM webhook_deliveries WHERE error = 'internal_address'") == 1)
                _ = jobID
            }
        }
    }

    @Test func aRotatedSecretKeepsSigningBesideTheNewOneForItsGracePeriod() async throws {
        try await JobsHarness.run { h in
            try await Self.withReceiver(answer: { _ in Response(status: .ok) }) { port, hits in
                let created = try await h.call(.post, "/v1/webhooks", json: #"{"url":"http://127.0.0.1:\#(port)/hook","events":["task.due"]}"#)
                let webhookID = try #require(created.string("id"))
                let old = try #require(created.string("secret"))
                let new = try #require(try await h.call(.post, "/v1/webhooks/\(webhookID)/rotate-secret").string("secret"))
                let jobID = try #require(try await h.call(.post, "/v1/webhooks/\(webhookID)/test").json["jobId"] as? Int)
                let registry = PlatformJobs.registry(database: h.database, outbound: .localDevelopment)
                _ = try await withWorker(h.db.app, registry, testWorkerConfiguration(queues: [WebhookDeliverJob.queue: 1]), logger: h.logger) { _ in
                    try await eventually(timeout: .seconds(20), every: .milliseconds(50)) { try await h.queue.job(JobID(jobID))?.state == .completed }
                }
                let hit = try #require(hits.all.first).dropFirst("hook ".count).split(separator: "\u{1}", maxSplits: 1)
                let header = String(hit[0]), body = hit.count > 1 ? String(hit[1]) : ""
                let parsed = try #require(WebhookSignature.parse(header))
                #expect(parsed.signatures == [
                    WebhookDeliverJob.signature(secret: new, timestamp: parsed.timestamp, body: body),
                    WebhookDeliverJob.signature(secret: old, timestamp: parsed.timestamp, body: body),
                ], "the new secret and, during the grace period, the old one sign: \(header)")
                // After the grace period only the new secret signs.
                try await h.db.owner.query("UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second'", logger: h.logger)
                let target = try #require(try await h.database.withTenant(h.agency) { try await WebhookStore(logger: h.logger).target(UUID(uuidString: webhookID)!, on: $0) })
                #expect(target.secrets == [new])
            }
        }
    }
}

/// What a test receiver was sent, in order.
final class Hits: Sendable {
    private let list = Mutex<[String]>([])
    /// Appends and returns how many there are now.
    func append(_ hit: String) -> Int { list.withLock { $0.append(hit); return $0.count } }
    var all: [String] { list.withLock { $0 } }
}
