import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// Passwords of people, hashed with bcrypt (cost 10: about 50 ms here, slow enough against guessing).
public enum PasswordHashing {
    public static func hash(_ password: String) -> String { Bcrypt.hash(password, cost: 10) }
    public static func verify(_ password: String, hash: String) -> Bool { Bcrypt.verify(password, hash: hash) }
}

/// Bcrypt on a small thread pool of its own, with a bounded queue: a burst of sign-ins waits its turn or is
/// told to come back (429), and never takes the threads that the rest of the server runs on.
public final class PasswordHasher: Sendable {
    let pool: NIOThreadPool
    let maxWaiting: Int
    private let inFlight = Mutex(0)

    public init(threads: Int = 2, maxWaiting: Int = 32) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        self.maxWaiting = maxWaiting
    }

    deinit { pool.shutdownGracefully { _ in } }

    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        let admitted = inFlight.withLock { n -> Bool in
            guard n < maxWaiting else { return false }
            n += 1
            return true
        }
        guard admitted else { throw Problem.tooManyRequests(retryAfter: 1, detail: "too many sign-ins at once; retry in a second") }
        defer { inFlight.withLock { $0 -= 1 } }
        return try await pool.runIfActive(work)
    }

    func hash(_ password: String) async throws -> String { try await run { PasswordHashing.hash(password) } }
    func verify(_ password: String, hash: String) async throws -> Bool { try await run { PasswordHashing.verify(password, hash: hash) } }
}
