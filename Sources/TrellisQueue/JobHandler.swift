import Foundation
import Logging
import PostgresNIO

/// What a handler decided.
public enum JobOutcome: Sendable, Hashable {
    /// Done: the job is completed.
    case completed
    /// Run again after `delay`, back in `scheduled`, without consuming an attempt.
    case snooze(Duration)
    /// Give up now: the job is discarded with this reason (no more attempts).
    case discard(reason: String)
    /// The job cancels itself: it ends cancelled with this reason.
    case cancel(reason: String)
}

/// Throw this from a handler to fail the attempt with a chosen retry delay instead of the backoff policy.
public struct RetryAfter: Error, Sendable, CustomStringConvertible {
    public var delay: Duration
    public var reason: String
    public init(_ delay: Duration, reason: String) {
        self.delay = delay
        self.reason = reason
    }
    public var description: String { reason }
}

/// What a handler sees of its job.
public struct JobContext: Sendable {
    public let id: JobID
    public let queue: String
    public let kind: String
    /// The JSON arguments.
    public let args: Data
    /// 1 on the first run.
    public let attempt: Int
    public let maxAttempts: Int
    public let agencyID: UUID?
    public let priority: Int
    /// When the job was due (its run time).
    public let runAt: Date
    public let createdAt: Date
    /// The JSON metadata (cron jobs carry `cron_schedule` and `cron_fire_time`).
    public let metadata: Data
    /// The worker's logger with `job_id`, `job_kind` and `attempt` metadata (built when asked for: most jobs
    /// never log).
    public var logger: Logger { baseLogger.forJob(id: id, kind: kind, attempt: Int64(attempt)) }
    let baseLogger: Logger
    let progressReporter: @Sendable (Data) async throws -> Void

    public init(
        id: JobID, queue: String, kind: String, args: Data, attempt: Int, maxAttempts: Int, agencyID: UUID?,
        priority: Int = 1, runAt: Date = Date(), createdAt: Date = Date(), metadata: Data = Data("{}".utf8),
        logger: Logger = Logger(label: "trellis.job"),
        progressReporter: @escaping @Sendable (Data) async throws -> Void = { _ in }
    ) {
        self.id = id
        self.queue = queue
        self.kind = kind
        self.args = args
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.agencyID = agencyID
        self.priority = priority
        self.runAt = runAt
        self.createdAt = createdAt
        self.metadata = metadata
        self.baseLogger = logger
        self.progressReporter = progressReporter
    }

    /// Decodes the arguments (`JSONDecoder`, dates as ISO 8601).
    public func decodeArgs<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JobJSON.decoder.decode(T.self, from: args)
    }

    /// True on the last allowed attempt.
    public var isLastAttempt: Bool { attempt >= maxAttempts }

    /// The cron slot that enqueued this job, if any.
    public var cronSchedule: String? { metadataObject["cron_schedule"] as? String }
    public var cronFireTime: Date? {
        (metadataObject["cron_fire_time"] as? String).flatMap(JobErrorRecordDecoding.parseTimestamp)
    }
    private var metadataObject: [String: Any] {
        ((try? JSONSerialization.jsonObject(with: metadata)) as? [String: Any]) ?? [:]
    }

    /// Stores `progress` (a JSON object) on the job, visible to the API while it runs (`progress` column).
    /// Ignored if this attempt no longer owns the job.
    public func reportProgress(json progress: Data) async throws {
        try await progressReporter(progress)
    }

    /// Stores an `Encodable` progress value on the job.
    public func reportProgress<P: Encodable>(_ progress: P) async throws {
        try await progressReporter(JobJSON.encoder.encode(progress))
    }
}

extension Logger {
    /// This logger with the job's `job_id`, `job_kind` and `attempt` metadata (handlers and the worker log alike).
    func forJob(id: JobID, kind: String, attempt: Int64) -> Logger {
        var logger = self
        logger[metadataKey: "job_id"] = "\(id)"
        logger[metadataKey: "job_kind"] = "\(kind)"
        logger[metadataKey: "attempt"] = "\(attempt)"
        return logger
    }
}

/// A handler for one kind of job.
public protocol JobHandler: Sendable {
    func run(_ context: JobContext) async throws -> JobOutcome
}

/// A closure as a handler.
public struct ClosureJobHandler: JobHandler {
    let body: @Sendable (JobContext) async throws -> JobOutcome
    public init(_ body: @escaping @Sendable (JobContext) async throws -> JobOutcome) { self.body = body }
    public func run(_ context: JobContext) async throws -> JobOutcome { try await body(context) }
}

/// Handlers by kind. A job whose kind has no handler is discarded at once, with an error saying so.
public struct JobRegistry: Sendable {
    struct Entry: Sendable {
        var handler: any JobHandler
        var timeout: Duration?
    }

    var entries: [String: Entry] = [:]

    public init() {}

    /// Registers `handler` for `kind`; `timeout` overrides the worker's handler timeout for this kind.
    public mutating func register(_ kind: String, timeout: Duration? = nil, handler: some JobHandler) {
        entries[kind] = Entry(handler: handler, timeout: timeout)
    }

    /// Registers a closure for `kind`.
    public mutating func register(
        _ kind: String, timeout: Duration? = nil,
        _ body: @escaping @Sendable (JobContext) async throws -> JobOutcome
    ) {
        register(kind, timeout: timeout, handler: ClosureJobHandler(body))
    }

    /// Registers a closure that receives its decoded arguments.
    public mutating func register<Args: Decodable & Sendable>(
        _ kind: String, arguments: Args.Type, timeout: Duration? = nil,
        _ body: @escaping @Sendable (Args, JobContext) async throws -> JobOutcome
    ) {
        register(kind, timeout: timeout) { context in
            let args: Args
            do {
                args = try context.decodeArgs(Args.self)
            } catch {
                return .discard(reason: "arguments of \(kind) do not decode as \(Args.self): \(error)")
            }
            return try await body(args, context)
        }
    }

    public var kinds: [String] { entries.keys.sorted() }

    func entry(for kind: String) -> Entry? { entries[kind] }
}

/// Delay before retrying a failed attempt: exponential (`base × 2^(attempt−1)`, or `attempt^4` seconds like
/// Oban/River with `.polynomial`), capped, with ± `jitter` proportional randomness.
public struct RetryPolicy: Sendable, Hashable {
    public enum Curve: Sendable, Hashable {
        /// base × 2^(attempt−1)
        case exponential(base: Duration)
        /// attempt^4 seconds (River's default shape)
        case polynomial
    }

    public var curve: Curve
    public var maximum: Duration
    /// 0…1: the delay is multiplied by a random factor in [1 − jitter, 1 + jitter].
    public var jitter: Double

    public init(curve: Curve = .polynomial, maximum: Duration = .seconds(24 * 3600), jitter: Double = 0.1) {
        self.curve = curve
        self.maximum = maximum
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay in seconds after attempt `attempt` (1-based) failed.
    public func delay(afterAttempt attempt: Int) -> Double {
        let n = Double(max(attempt, 1))
        let raw: Double
        switch curve {
        case .exponential(let base): raw = base.seconds * pow(2, min(n - 1, 60))
        case .polynomial: raw = pow(n, 4)
        }
        let capped = min(raw, maximum.seconds)
        let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter)) : 1
        return max(0, min(capped * factor, maximum.seconds))
    }
}
