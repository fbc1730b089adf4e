import Foundation

/// A job's identifier (`trellis_jobs.id`).
public typealias JobID = Int64

/// The life cycle of a job: `scheduled → available → running → completed`;
/// `running → retryable (backoff) → available`; `→ discarded` after the last attempt; `→ cancelled`.
public enum JobState: String, Sendable, Hashable, CaseIterable, Codable {
    case scheduled, available, running, retryable, completed, discarded, cancelled

    /// A state read from the table; one this build does not know is an error, not a guess.
    static func stored(_ raw: String) throws -> JobState {
        guard let state = JobState(rawValue: raw) else { throw UnknownJobValue(column: "trellis_jobs.state", value: raw) }
        return state
    }

    /// States in which a job still holds its unique key.
    public static let pending: [JobState] = [.scheduled, .available, .running, .retryable]
    /// States a job never leaves (until retention pruning deletes it).
    public var isFinal: Bool { self == .completed || self == .discarded || self == .cancelled }
}

/// A job to insert. `JobSpec` is the same type.
public struct NewJob: Sendable, Hashable {
    /// The queue the job goes to; each worker serves some queues, with a concurrency each.
    public var queue: String
    /// What to run: the key of a handler in a `JobRegistry`.
    public var kind: String
    /// The arguments, a JSON object (UTF-8).
    public var args: Data
    /// The tenant the job belongs to; `nil` for system jobs. Used to share fetches fairly between tenants.
    public var agencyID: UUID?
    /// 1 (highest, the default) to 4 (lowest), like River.
    public var priority: Int
    /// When to run it; `nil` means now (the database's clock).
    public var runAt: Date?
    /// How many times the job may run before it is discarded.
    public var maxAttempts: Int
    /// At most one scheduled, available, running or retryable job holds a unique key.
    public var uniqueKey: String?
    /// Free-form JSON object stored with the job (not interpreted by the queue, except `cron_*` keys it adds).
    public var metadata: Data

    public static let defaultQueue = "default"
    public static let defaultMaxAttempts = 20
    public static let priorities: ClosedRange<Int> = 1...4

    public init(
        kind: String,
        queue: String = NewJob.defaultQueue,
        args: Data = Data("{}".utf8),
        agencyID: UUID? = nil,
        priority: Int = 1,
        runAt: Date? = nil,
        maxAttempts: Int = NewJob.defaultMaxAttempts,
        uniqueKey: String? = nil,
        metadata: Data = Data("{}".utf8)
    ) {
        self.queue = queue
        self.kind = kind
        self.args = args
        self.agencyID = agencyID
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.uniqueKey = uniqueKey
        self.metadata = metadata
    }

    /// A job whose arguments are a `Codable` value (encoded with `JSONEncoder`, dates as ISO 8601).
    public init<Args: Encodable>(
        kind: String,
        queue: String = NewJob.defaultQueue,
        arguments: Args,
        agencyID: UUID? = nil,
        priority: Int = 1,
        runAt: Date? = nil,
        maxAttempts: Int = NewJob.defaultMaxAttempts,
        uniqueKey: String? = nil
    ) throws {
        self.init(
            kind: kind, queue: queue, args: try JobJSON.encoder.encode(arguments), agencyID: agencyID,
            priority: priority, runAt: runAt, maxAttempts: maxAttempts, uniqueKey: uniqueKey
        )
    }

    func validate() throws {
        guard !queue.isEmpty, queue.utf8.count <= 128 else { throw JobQueueError.invalidJob("queue must be 1 to 128 bytes") }
        guard !kind.isEmpty, kind.utf8.count <= 128 else { throw JobQueueError.invalidJob("kind must be 1 to 128 bytes") }
        guard Self.priorities.contains(priority) else {
            throw JobQueueError.invalidJob("priority \(priority) is outside 1...4")
        }
        guard maxAttempts > 0 else { throw JobQueueError.invalidJob("maxAttempts must be positive") }
        if let uniqueKey, uniqueKey.isEmpty { throw JobQueueError.invalidJob("uniqueKey must not be empty") }
        guard JobJSON.isObject(args) else { throw JobQueueError.invalidJob("args of \(kind) must be a JSON object") }
        guard JobJSON.isObject(metadata) else { throw JobQueueError.invalidJob("metadata of \(kind) must be a JSON object") }
    }
}

public typealias JobSpec = NewJob

/// What became of one `NewJob` of a batch.
public enum EnqueueResult: Sendable, Hashable {
    /// Inserted with this id, in this state (`available` or `scheduled`).
    case enqueued(JobID, state: JobState)
    /// Not inserted: a pending or running job already holds the unique key.
    case duplicate(uniqueKey: String, existingJobID: JobID)

    /// The new job's id, or the id of the job that holds the unique key.
    public var jobID: JobID {
        switch self {
        case .enqueued(let id, _): return id
        case .duplicate(_, let id): return id
        }
    }

    public var isDuplicate: Bool {
        if case .duplicate = self { return true }
        return false
    }
}

/// One entry of a job's error history.
public struct JobErrorRecord: Sendable, Hashable, Codable {
    public var attempt: Int
    public var at: Date
    public var error: String
}

/// A job as stored, for inspection (API, tests, operators).
public struct JobRecord: Sendable, Hashable {
    public var id: JobID
    public var agencyID: UUID?
    public var queue: String
    public var kind: String
    public var args: Data
    public var priority: Int
    public var state: JobState
    public var attempt: Int
    public var maxAttempts: Int
    public var runAt: Date
    public var attemptedAt: Date?
    public var finalizedAt: Date?
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var uniqueKey: String?
    public var errors: [JobErrorRecord]
    public var cancelRequested: Bool
    public var progress: Data?
    public var metadata: Data
    public var createdAt: Date
}

/// What `JobQueue.cancel(_:)` did.
public enum CancelResult: Sendable, Hashable {
    /// The job was pending and is now cancelled.
    case cancelled
    /// The job is running: cancellation was requested; its worker cancels the handler at its next lease renewal.
    case cancelRequested
    /// The job had already finished in this state; nothing changed.
    case alreadyFinalized(JobState)
    case notFound
}

public enum JobQueueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `enqueue` refused a job because a pending or running job holds its unique key.
    case duplicateJob(uniqueKey: String, existingJobID: JobID)
    case invalidJob(String)

    public var description: String {
        switch self {
        case .duplicateJob(let key, let id):
            return "a pending or running job (id \(id)) already holds unique key '\(key)'"
        case .invalidJob(let message):
            return "invalid job: \(message)"
        }
    }
}

enum JobJSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()

    private static let emptyObject = Data("{}".utf8)

    static func isObject(_ data: Data) -> Bool {
        if data == emptyObject { return true }
        return (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
    }

    /// `data` as a String for a `::jsonb` bind.
    static func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    static func object(_ dictionary: [String: String]) -> Data {
        (try? encoder.encode(dictionary)) ?? Data("{}".utf8)
    }

    /// Merges the keys of `extra` into the JSON object `base`.
    static func merging(_ base: Data, _ extra: [String: String]) -> Data {
        var object = ((try? JSONSerialization.jsonObject(with: base)) as? [String: Any]) ?? [:]
        for (k, v) in extra { object[k] = v }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? base
    }
}

/// A value in the queue's tables that this build does not know.
public struct UnknownJobValue: Error, CustomStringConvertible, Sendable, Equatable {
    public var column: String
    public var value: String

    public init(column: String, value: String) {
        self.column = column
        self.value = value
    }

    public var description: String { "the queue holds \(column) = '\(value)', which this build does not know" }
}
