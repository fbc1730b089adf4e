import Foundation
import PostgresNIO
import TrellisDomain

/// A webhook as the API shows it: never its secret (that is shown once, on create and rotate).
public struct WebhookRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var url: String
    public var events: [String]
    public var active: Bool
    public var description: String?
    public var createdAt: Date
    public var updatedAt: Date
}

public struct WebhookDeliveryRecord: Sendable, Codable, Hashable {
    public var id: UUID
    public var webhookId: UUID
    public var deliveryId: UUID
    public var jobId: Int64?
    public var event: String
    public var attempt: Int
    public var statusCode: Int?
    public var error: String?
    public var durationMs: Int
    public var succeeded: Bool
    public var attemptedAt: Date
}

/// Webhooks of an agency and the log of every delivery attempt.
public struct WebhookStore: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    static let columns = "id, url, events, active, description, created_at, updated_at"

    public func create(url: String, events: [String], description: String?, on connection: TenantConnection) async throws -> (WebhookRecord, secret: String) {
        let secret = CredentialStore.newSecret(prefix: "whsec_")
        let record = try await Self.one(try await connection.query("""
            INSERT INTO webhooks (agency_id, id, url, secret, events, description)
            VALUES (\(connection.agencyID), \(UUID()), \(url), \(secret), \(events), \(description))
            RETURNING \(unescaped: Self.columns)
            """, logger: logger))
        return (record, secret)
    }

    public func list(on connection: TenantConnection) async throws -> [WebhookRecord] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM webhooks WHERE agency_id = \(connection.agencyID) ORDER BY created_at, id
            """, logger: logger)
        var records: [WebhookRecord] = []
        for try await row in rows { records.append(try Self.decode(row)) }
        return records
    }

    public func get(_ id: UUID, on connection: TenantConnection) async throws -> WebhookRecord {
        try await Self.one(try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM webhooks WHERE agency_id = \(connection.agencyID) AND id = \(id)
            """, logger: logger))
    }

    /// Changes the given fields (nil: unchanged; `clearDescription` sets it null).
    public func update(_ id: UUID, url: String?, events: [String]?, active: Bool?, description: String?, clearDescription: Bool,
                       on connection: TenantConnection) async throws -> WebhookRecord {
        try await Self.one(try await connection.query("""
            UPDATE webhooks SET url = coalesce(\(url), url), events = coalesce(\(events)::text[], events), active = coalesce(\(active), active),
                description = CASE WHEN \(clearDescription) THEN NULL ELSE coalesce(\(description), description) END, updated_at = now()
            WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING \(unescaped: Self.columns)
            """, logger: logger))
    }

    public func delete(_ id: UUID, on connection: TenantConnection) async throws {
        let rows = try await connection.query("""
            DELETE FROM webhooks WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING id
            """, logger: logger)
        for try await _ in rows { return }
        throw StoreError.notFound("webhook")
    }

    /// A new secret; the old one keeps signing beside it for `overlap`, so receivers can switch without a gap.
    public func rotateSecret(_ id: UUID, overlap: Duration = .seconds(24 * 3600), on connection: TenantConnection) async throws -> (WebhookRecord, secret: String) {
        let secret = CredentialStore.newSecret(prefix: "whsec_")
        let record = try await Self.one(try await connection.query("""
            UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = now() + \(Double(overlap.components.seconds)) * interval '1 second',
                secret = \(secret), updated_at = now()
            WHERE agency_id = \(connection.agencyID) AND id = \(id) RETURNING \(unescaped: Self.columns)
            """, logger: logger))
        return (record, secret)
    }

    /// What the delivery job needs: where to post and the secret to sign with.
    public struct Target: Sendable {
        public var url: String
        /// The current secret first, then the previous one while its rotation's grace period lasts.
        public var secrets: [String]
        public var active: Bool
    }

    public func target(_ id: UUID, on connection: TenantConnection) async throws -> Target? {
        let rows = try await connection.query("""
            SELECT url, secret, CASE WHEN previous_secret_expires_at > now() THEN previous_secret END, active FROM webhooks WHERE agency_id = \(connection.agencyID)
              AND id = \(id)
            """, logger: logger)
        for try await (url, secret, previous, active) in rows.decode((String, String, String?, Bool).self) {
            return Target(url: url, secrets: [secret] + (previous.map { [$0] } ?? []), active: active)
        }
        return nil
    }

    /// Active webhooks subscribed to `event`.
    public func subscribers(event: String, on connection: TenantConnection) async throws -> [UUID] {
        let rows = try await connection.query(
            "SELECT id FROM webhooks WHERE agency_id = \(connection.agencyID) AND active AND \(event) = ANY (events) ORDER BY id", logger: logger)
        var ids: [UUID] = []
        for try await id in rows.decode(UUID.self) { ids.append(id) }
        return ids
    }

    // MARK: Deliveries

    public struct Attempt: Sendable {
        public var webhookId: UUID
        public var deliveryId: UUID
        public var jobId: Int64?
        public var event: String
        public var payload: String
        public var attempt: Int
        public var statusCode: Int?
        public var error: String?
        public var durationMs: Int
        public var succeeded: Bool

        public init(webhookId: UUID, deliveryId: UUID, jobId: Int64?, event: String, payload: String, attempt: Int, statusCode: Int?,
                    error: String?, durationMs: Int, succeeded: Bool) {
            self.webhookId = webhookId
            self.deliveryId = deliveryId
            self.jobId = jobId
            self.event = event
            self.payload = payload
            self.attempt = attempt
            self.statusCode = statusCode
            self.error = error
            self.durationMs = durationMs
            self.succeeded = succeeded
        }
    }

    public func recordAttempt(_ a: Attempt, on connection: TenantConnection) async throws {
        try await connection.query("""
            INSERT INTO webhook_deliveries (agency_id, id, webhook_id, delivery_id, job_id, event, payload, attempt, status_code, error, duration_ms, succeeded)
            VALUES (\(connection.agencyID), \(UUID()), \(a.webhookId), \(a.deliveryId), \(a.jobId), \(a.event), \(a.payload)::jsonb, \(a.attempt),
                    \(a.statusCode), \(a.error), \(a.durationMs), \(a.succeeded))
            """, logger: logger)
    }

    public func deliveries(webhook: UUID, limit: Int, on connection: TenantConnection) async throws -> [WebhookDeliveryRecord] {
        let rows = try await connection.query("""
            SELECT id, webhook_id, delivery_id, job_id, event, attempt, status_code, error, duration_ms, succeeded, attempted_at
            FROM webhook_deliveries WHERE agency_id = \(connection.agencyID)
              AND webhook_id = \(webhook) ORDER BY attempted_at DESC, attempt DESC LIMIT \(limit)
            """, logger: logger)
        var records: [WebhookDeliveryRecord] = []
        for try await (id, hook, delivery, job, event, attempt, status, error, duration, succeeded, at) in rows.decode(
            (UUID, UUID, UUID, Int64?, String, Int, Int?, String?, Int, Bool, Date).self)
        {
            records.append(WebhookDeliveryRecord(
                id: id, webhookId: hook, deliveryId: delivery, jobId: job, event: event, attempt: attempt, statusCode: status,
                error: error, durationMs: duration, succeeded: succeeded, attemptedAt: at))
        }
        return records
    }

    public func pruneDeliveries(olderThan age: Duration, on connection: TenantConnection) async throws -> Int {
        let rows = try await connection.query("""
            DELETE FROM webhook_deliveries WHERE agency_id = \(connection.agencyID)
              AND attempted_at < now() - \(Double(age.components.seconds)) * interval '1 second' RETURNING id
            """, logger: logger)
        var n = 0
        for try await _ in rows { n += 1 }
        return n
    }

    static func one(_ rows: PostgresRowSequence) async throws -> WebhookRecord {
        for try await row in rows { return try decode(row) }
        throw StoreError.notFound("webhook")
    }

    static func decode(_ row: PostgresRow) throws -> WebhookRecord {
        let (id, url, events, active, description, createdAt, updatedAt) =
            try row.decode((UUID, String, [String], Bool, String?, Date, Date).self)
        return WebhookRecord(id: id, url: url, events: events, active: active, description: description, createdAt: createdAt, updatedAt: updatedAt)
    }
}
