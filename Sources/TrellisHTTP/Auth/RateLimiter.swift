import Foundation
import Synchronization

/// Token buckets by key, in this process's memory: each replica limits what reaches it (with N replicas the
/// agency-wide ceiling is N times the figure). The clock is injected so tests do not wait.
public final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    /// Requests allowed in a burst, and refilled over `per`.
    public let capacity: Double
    public let per: Duration
    private let buckets = Mutex<[String: Bucket]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(capacity: Int, per: Duration, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.capacity = Double(max(1, capacity))
        self.per = per
        self.now = now
    }

    var refillPerSecond: Double { capacity / (Double(per.components.seconds) + Double(per.components.attoseconds) / 1e18) }

    /// Takes one token for `key`: nil when allowed, else the whole seconds until one is back.
    public func take(_ key: String) -> Int? {
        let now = self.now()
        return buckets.withLock { buckets -> Int? in
            if buckets.count > 100_000 { buckets = buckets.filter { $0.value.tokens < capacity } }
            var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(capacity, bucket.tokens + seconds * refillPerSecond)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / refillPerSecond).rounded(.up)))
        }
    }
}

/// Repeated failed sign-ins for one account wait longer each time (1 s, 2 s, 4 s … up to 15 min after the
/// fifth failure); a success clears it.
public final class SignInBackoff: Sendable {
    struct Failures {
        var count: Int
        var lockedUntil: ContinuousClock.Instant
    }

    private let failures = Mutex<[String: Failures]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant
    let freeFailures = 5

    public init(now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) { self.now = now }

    /// Seconds to wait before this account may try again, or nil.
    public func wait(_ key: String) -> Int? {
        let now = self.now()
        return failures.withLock { failures -> Int? in
            guard let entry = failures[key], entry.lockedUntil > now else { return nil }
            let left = entry.lockedUntil - now
            return max(1, Int(left.components.seconds) + (left.components.attoseconds > 0 ? 1 : 0))
        }
    }

    public func failed(_ key: String) {
        let now = self.now()
        failures.withLock { failures in
            if failures.count > 100_000 { failures = failures.filter { $0.value.lockedUntil > now } }
            var entry = failures[key] ?? Failures(count: 0, lockedUntil: now)
            entry.count += 1
            if entry.count >= freeFailures {
                let seconds = min(900, 1 << min(entry.count - freeFailures, 10))
                entry.lockedUntil = now + .seconds(seconds)
            }
            failures[key] = entry
        }
    }

    public func succeeded(_ key: String) { failures.withLock { _ = $0.removeValue(forKey: key) } }
}

/// The limits of one API process; every figure has an environment variable in `trellis-api`.
public struct APILimits: Sendable {
    /// Sign-in attempts per minute from one address, and for one (agency, email).
    public var signInsPerMinute = 10
    /// Requests per minute of one API token (or one session).
    public var requestsPerMinutePerCredential = 1_200
    /// Test deliveries per minute of one webhook.
    public var webhookTestsPerMinute = 5
    /// Tasks in one plan: above it, adding tasks is refused (422).
    public var maxTasksPerPlan = 5_000
    /// Export bundles an agency may have queued or running at once, and start in one day.
    public var concurrentExportsPerAgency = 3
    public var dailyExportsPerAgency = 200

    public init() {}
}
