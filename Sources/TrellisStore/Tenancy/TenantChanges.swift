import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TrellisDomain

/// Which agencies' data changed, as far as this process knows: what lets a process serve a read from memory and
/// drop it the moment the agency's data changes, wherever the change was made.
///
/// Every write to an agency's tables announces the agency (`sql/0014`: a statement trigger, NOTIFY on commit), and
/// `TenantChangeListener` turns each announcement into a new `Stamp` for that agency; this process's own writes
/// change the stamp as soon as they commit (`TenantDatabase.withTenant`), so whoever wrote reads what they wrote.
/// An entry is served only while the agency's stamp is the one it was read under, taken *before* the read: a change
/// that lands during the read makes the entry stale at once. While the listener is not connected (starting, or the
/// connection dropped) there is no stamp, and nothing may be served from memory.
public final class TenantChanges: Sendable {
    /// An agency's data as of one moment; equal stamps mean no change was announced in between.
    public struct Stamp: Hashable, Sendable {
        let epoch: UInt64
        let generation: UInt64
    }

    private struct State {
        var listening = false
        /// Bumped whenever announcements may have been missed (the listener connected or lost its connection).
        var epoch: UInt64 = 0
        var generations: [AgencyID: UInt64] = [:]
        var announcements = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// The agency's stamp now; nil while announcements cannot be heard.
    public func stamp(_ agency: AgencyID) -> Stamp? {
        state.withLock { state in
            state.listening ? Stamp(epoch: state.epoch, generation: state.generations[agency, default: 0]) : nil
        }
    }

    /// The agency's data changed: every stamp taken before is stale.
    public func changed(_ agency: AgencyID) {
        state.withLock { $0.generations[agency, default: 0] &+= 1 }
    }

    public var isListening: Bool { state.withLock { $0.listening } }
    /// Announcements heard from the database (tests wait on it).
    public var announcementsHeard: Int { state.withLock { $0.announcements } }

    func heard(_ payload: String) {
        guard let uuid = UUID(uuidString: payload) else { return }
        state.withLock {
            $0.generations[AgencyID(uuid), default: 0] &+= 1
            $0.announcements += 1
        }
    }

    /// Listening (again): whatever was announced meanwhile is unknown, so every earlier stamp is stale.
    func listening(_ on: Bool) {
        state.withLock { state in
            state.listening = on
            state.epoch &+= 1
            state.generations.removeAll(keepingCapacity: true)
        }
    }
}

/// LISTEN for the agencies' change announcements on a connection of its own, re-established with backoff when it
/// drops; meanwhile `TenantChanges` has no stamps. On Citus the announcements cannot reach the coordinator (the
/// triggers would fire on the workers; `deploy/citus-distribute.sql` drops them), so it never listens there.
public struct TenantChangeListener: Service {
    public static let channel = "trellis_tenant_changes"

    let client: PostgresClient
    let changes: TenantChanges
    let logger: Logger

    public init(client: PostgresClient, changes: TenantChanges, logger: Logger) {
        self.client = client
        self.changes = changes
        self.logger = logger
    }

    /// Ends with the service group's graceful shutdown.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { await listen() }
    }

    private func listen() async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    let citus = try await connection.query(
                        "SELECT count(*)::int8 FROM pg_extension WHERE extname = 'citus'", logger: logger
                    ).collect().first?.decode(Int.self) ?? 0
                    if citus > 0 { throw OnCitus() }
                    try await connection.listen(on: Self.channel) { announcements in
                        changes.listening(true)
                        delay = .milliseconds(100)
                        for try await announcement in announcements { changes.heard(announcement.payload) }
                    }
                }
            } catch is OnCitus {
                logger.notice("Citus: no change announcements reach the coordinator; nothing is served from memory")
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                return
            } catch {
                changes.listening(false)
                if Task.isCancelled { break }
                logger.warning("change announcements: LISTEN connection lost; reads go to the database until it is back",
                               metadata: ["error": "\(String(reflecting: error))"])
            }
            changes.listening(false)
            if Task.isCancelled { break }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(10))
        }
        changes.listening(false)
    }

    private struct OnCitus: Error {}
}
