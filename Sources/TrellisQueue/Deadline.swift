import Synchronization

/// Thrown by `withDeadline` when the operation did not finish in time.
public struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var timeout: Duration
    public var description: String { "\(operation) did not finish within \(timeout)" }
}

/// Runs `operation`, but stops waiting for it after `timeout`: the operation is then cancelled and left to
/// finish on its own, and `DeadlineExceeded` is thrown. The worker uses it around its database calls so that a
/// call stuck on a broken connection can neither freeze a loop nor block a graceful shutdown.
func withDeadline<T: Sendable>(
    _ timeout: Duration, _ name: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let work = Task { try await operation() }
    let outcome = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let resume: @Sendable (Result<T, any Error>) -> Void = { result in
        outcome.withLock { continuation in
            continuation?.resume(with: result)
            continuation = nil
        }
    }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            outcome.withLock { $0 = continuation }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if Task.isCancelled { return }
                work.cancel()
                resume(.failure(DeadlineExceeded(operation: name, timeout: timeout)))
            }
            Task {
                let result = await work.result
                timer.cancel()
                resume(result)
            }
        }
    } onCancel: {
        work.cancel()
    }
}
