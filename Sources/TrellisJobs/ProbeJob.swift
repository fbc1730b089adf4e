import Foundation
import TrellisQueue
import TrellisStore

/// `system.probe`: optionally works for `sleepMs`, then records that it ran. Operators enqueue one to
/// check the pipeline end to end; the crash test and the queue benchmark count runs per job with it.
public struct ProbeJob: JobKind {
    public static let kind = "system.probe"

    public struct Arguments: Codable, Sendable {
        public var sleepMs: Int?
        /// Skip the insert: a pure no-op, for measuring the queue alone.
        public var noRecord: Bool?
        public init(sleepMs: Int? = nil, noRecord: Bool? = nil) {
            self.sleepMs = sleepMs
            self.noRecord = noRecord
        }
    }

    let database: TenantDatabase

    public init(database: TenantDatabase) { self.database = database }

    public func run(_ arguments: Arguments, _ context: JobContext) async throws -> JobOutcome {
        if let ms = arguments.sleepMs, ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
        if arguments.noRecord != true {
            let store = ProbeStore(logger: context.logger)
            let worker = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
            try await database.withSystem { try await store.record(job: context.id, attempt: context.attempt, worker: worker, on: $0) }
        }
        return .completed
    }
}
