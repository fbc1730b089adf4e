import Foundation

/// A kind of job: its name in the queue and the type of its arguments, declared together, so that what is
/// enqueued under a name is what the handler of that name decodes (River's `JobArgs.Kind()`).
public protocol JobKind: Sendable {
    associatedtype Arguments: Codable & Sendable
    /// The name stored in `trellis_jobs.kind`.
    static var kind: String { get }
    func run(_ arguments: Arguments, _ context: JobContext) async throws -> JobOutcome
}

/// Arguments that name their kind (River's `JobArgs`): code that only enqueues a job (an application
/// operation) needs this type, not the handler that runs it.
public protocol JobArguments: Codable, Sendable {
    static var kind: String { get }
}

extension JobKind where Arguments: JobArguments {
    public static var kind: String { Arguments.kind }
}

/// The arguments of a job that takes none (`{}` in the table).
public struct NoArguments: Codable, Sendable, Hashable {
    public init() {}
}

/// A kind whose jobs take no arguments.
public protocol JobKindWithoutArguments: JobKind where Arguments == NoArguments {
    func run(_ context: JobContext) async throws -> JobOutcome
}

extension JobKindWithoutArguments {
    public func run(_ arguments: NoArguments, _ context: JobContext) async throws -> JobOutcome { try await run(context) }
}

extension JobRegistry {
    /// Registers `job` under its kind's name; its arguments are decoded as its `Arguments`.
    public mutating func register<K: JobKind>(_ job: K, timeout: Duration? = nil) {
        register(K.kind, arguments: K.Arguments.self, timeout: timeout) { arguments, context in try await job.run(arguments, context) }
    }
}

extension NewJob {
    /// A job of kind `K` with its arguments: the name and the arguments' type cannot disagree.
    public init<K: JobKind>(
        _ kind: K.Type, _ arguments: K.Arguments, queue: String = NewJob.defaultQueue, agencyID: UUID? = nil, priority: Int = 1,
        runAt: Date? = nil, maxAttempts: Int = NewJob.defaultMaxAttempts, uniqueKey: String? = nil
    ) throws {
        try self.init(
            kind: K.kind, queue: queue, arguments: arguments, agencyID: agencyID, priority: priority, runAt: runAt,
            maxAttempts: maxAttempts, uniqueKey: uniqueKey)
    }

    /// A job with arguments that name their kind.
    public init<A: JobArguments>(
        _ arguments: A, queue: String = NewJob.defaultQueue, agencyID: UUID? = nil, priority: Int = 1, runAt: Date? = nil,
        maxAttempts: Int = NewJob.defaultMaxAttempts, uniqueKey: String? = nil
    ) throws {
        try self.init(
            kind: A.kind, queue: queue, arguments: arguments, agencyID: agencyID, priority: priority, runAt: runAt,
            maxAttempts: maxAttempts, uniqueKey: uniqueKey)
    }

    /// A job of a kind that takes no arguments.
    public init<K: JobKindWithoutArguments>(
        _ kind: K.Type, queue: String = NewJob.defaultQueue, agencyID: UUID? = nil, maxAttempts: Int = NewJob.defaultMaxAttempts,
        uniqueKey: String? = nil
    ) {
        self.init(kind: K.kind, queue: queue, agencyID: agencyID, maxAttempts: maxAttempts, uniqueKey: uniqueKey)
    }
}
