import CompressNIO
import Foundation
import Hummingbird
import Synchronization
import TrellisDomain
import TrellisStore

/// Reads this API process serves from memory: an entry is served only while its agency's data is unchanged since it
/// was read (`TenantChanges`: the database announces every write, this process's own writes count at once), and for
/// no longer than its time to live, which bounds what no write announces (the clock: "today", a token's expiry).
/// Without a listening `TenantChanges` (tests that do not start one, Citus) every read goes to the database.
///
/// Entries are kept up to a budget (bytes, roughly), the oldest dropped first.
final class ReadCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var agency: AgencyID
        var stamp: TenantChanges.Stamp
        var value: Value
        var expires: ContinuousClock.Instant
        var cost: Int
        var sequence: UInt64
    }

    /// A read under way: callers that arrive for the same key under the same stamp wait for it instead of reading too.
    private final class Flight: Sendable {
        let stamp: TenantChanges.Stamp
        private let outcome = Mutex<(value: Value?, failed: Bool, waiters: [CheckedContinuation<Value?, Never>])>((nil, false, []))

        init(stamp: TenantChanges.Stamp) { self.stamp = stamp }

        /// The leader's value; nil when its read failed (the waiter then reads for itself).
        func wait() async -> Value? {
            await withCheckedContinuation { continuation in
                let done = outcome.withLock { outcome -> (Bool, Value?) in
                    if outcome.value != nil || outcome.failed { return (true, outcome.value) }
                    outcome.waiters.append(continuation)
                    return (false, nil)
                }
                if done.0 { continuation.resume(returning: done.1) }
            }
        }

        func finish(_ value: Value?) {
            let waiters = outcome.withLock { outcome in
                outcome.value = value
                outcome.failed = value == nil
                defer { outcome.waiters = [] }
                return outcome.waiters
            }
            for waiter in waiters { waiter.resume(returning: value) }
        }
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var flights: [Key: Flight] = [:]
        /// Insertion order, for dropping the oldest; an item whose sequence no longer matches its entry is skipped.
        var order: [(key: Key, sequence: UInt64)] = []
        var head = 0
        var cost = 0
        var sequence: UInt64 = 0
    }

    private let state = Mutex(State())
    let changes: TenantChanges?
    let budget: Int

    init(changes: TenantChanges?, budget: Int) {
        self.changes = changes
        self.budget = budget
    }

    /// The agency's stamp to read under, taken before the read; nil: the read may not be kept.
    func stamp(_ agency: AgencyID) -> TenantChanges.Stamp? { changes?.stamp(agency) }

    /// The value kept for `key`, if its agency has not changed since and it has not expired.
    func value(_ key: Key) -> Value? {
        guard let changes else { return nil }
        let now = ContinuousClock.now
        return state.withLock { state -> Value? in
            guard let entry = state.entries[key] else { return nil }
            guard entry.expires > now, changes.stamp(entry.agency) == entry.stamp else {
                state.entries[key] = nil
                state.cost -= entry.cost
                return nil
            }
            return entry.value
        }
    }

    /// Keeps `value`, read under `stamp`, for at most `ttl`.
    func keep(_ value: Value, for key: Key, agency: AgencyID, stamp: TenantChanges.Stamp, ttl: Duration, cost: Int) {
        // Read under a stamp already stale: nothing to keep, and a newer entry of the key stays.
        guard let changes, cost <= budget / 4, changes.stamp(agency) == stamp else { return }
        let expires = ContinuousClock.now + ttl
        state.withLock { state in
            state.sequence &+= 1
            if let old = state.entries[key] { state.cost -= old.cost }
            state.entries[key] = Entry(agency: agency, stamp: stamp, value: value, expires: expires, cost: cost, sequence: state.sequence)
            state.order.append((key, state.sequence))
            state.cost += cost
            while state.cost > budget, state.head < state.order.count {
                let (oldest, sequence) = state.order[state.head]
                state.head += 1
                if let entry = state.entries[oldest], entry.sequence == sequence {
                    state.entries[oldest] = nil
                    state.cost -= entry.cost
                }
            }
            // The order list also holds keys kept again or dropped as stale since: rebuilt from the live entries
            // when it is more than twice their number, so it never outgrows them.
            if state.order.count - state.head > 2 * state.entries.count + 1_024 {
                state.order = state.entries.map { ($0.key, $0.value.sequence) }.sorted { $0.1 < $1.1 }
                state.head = 0
            } else if state.head > 1_024, state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// The kept value, or `read()`'s, kept when the agency is listened for. When an entry goes stale, the callers
    /// that want it at once share one read (under the same stamp, so no newer write is missed): without this, 16
    /// connections asking for a 500-task timeline the moment it changed made 16 reads of it together, and a p99 of
    /// a tenth of a second.
    /// `keeping` prepares a value read to be kept (and shared): it runs once per read kept, never for a read that
    /// cannot be kept.
    func through(
        _ key: Key, agency: AgencyID, ttl: Duration, cost: (Value) -> Int, keeping: (Value) -> Value = { $0 },
        _ read: () async throws -> Value
    ) async throws -> Value {
        if let kept = value(key) { return kept }
        guard let stamp = stamp(agency) else { return try await read() }
        let (flight, leads) = state.withLock { state -> (Flight, Bool) in
            if let flight = state.flights[key], flight.stamp == stamp { return (flight, false) }
            let flight = Flight(stamp: stamp)
            state.flights[key] = flight
            return (flight, true)
        }
        guard leads else {
            if let shared = await flight.wait() { return shared }
            return try await read()  // the leader's read failed (or was cancelled with its request): one's own
        }
        defer { state.withLock { state in if state.flights[key] === flight { state.flights[key] = nil } } }
        do {
            let value = keeping(try await read())
            keep(value, for: key, agency: agency, stamp: stamp, ttl: ttl, cost: cost(value))
            flight.finish(value)
            return value
        } catch {
            flight.finish(nil)
            throw error
        }
    }

    /// Reads under way (tests).
    var flightsUnderWay: Int { state.withLock { $0.flights.count } }

    /// How many entries are kept, and how long the insertion-order list is (tests).
    var bookkeeping: (entries: Int, order: Int) { state.withLock { ($0.entries.count, $0.order.count - $0.head) } }
}

/// A response kept whole, to answer the same read again without the database.
struct KeptResponse: Sendable, ResponseGenerator {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer
    /// The body gzipped, made once when the response is kept (`gzipped()`), for clients that accept it: every browser.
    var gzippedBody: ByteBuffer?

    init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    var cost: Int { body.readableBytes + (gzippedBody?.readableBytes ?? 0) + 512 }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        guard let gzippedBody else { return Response(status: status, headers: headers, body: .init(byteBuffer: body)) }
        var headers = headers
        headers[.vary] = "Accept-Encoding"
        guard Self.acceptsGzip(request.headers[values: .acceptEncoding]) else {
            return Response(status: status, headers: headers, body: .init(byteBuffer: body))
        }
        headers[.contentEncoding] = "gzip"
        return Response(status: status, headers: headers, body: .init(byteBuffer: gzippedBody))
    }

    /// This response with its gzipped body, when that is worth it: a body of a few kilobytes or more, not yet encoded.
    /// Gzip runs once per kept response (its readers share one read), not per request. The pages kept carry the
    /// session's CSRF token, but none reflects what a request sends (query and form values are not kept), so an
    /// attacker has no way to probe the compressed length for it (BREACH).
    func gzipped() -> KeptResponse {
        guard gzippedBody == nil, body.readableBytes >= 2_048, headers[.contentEncoding] == nil else { return self }
        var input = body
        guard let compressed = try? input.compress(with: .gzip()), compressed.readableBytes < body.readableBytes else { return self }
        var kept = self
        kept.gzippedBody = compressed
        return kept
    }

    /// Whether `Accept-Encoding` allows gzip: named with a q above 0, or not named and `*` allowed.
    static func acceptsGzip(_ values: [String]) -> Bool {
        var gzip: Double?, any: Double?
        for value in values {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                guard let coding = parts.first else { continue }
                let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
                if coding == "gzip" || coding == "x-gzip" { gzip = max(gzip ?? 0, q) } else if coding == "*" { any = q }
            }
        }
        return (gzip ?? any ?? 0) > 0
    }
}

/// A checked credential, kept until its agency changes or it expires.
enum CheckedCredential: Sendable {
    case token(Principal, tokenID: UUID)
    case session(Principal, csrfToken: String, sessionID: UUID)

    var principal: Principal {
        switch self {
        case .token(let principal, _), .session(let principal, _, _): principal
        }
    }
}

/// What one API process serves from memory: checked credentials (by the hash of the secret) and whole responses of
/// the reads people repeat most (by route, reader and query).
struct ReadCaches: Sendable {
    let credentials: ReadCache<Data, CheckedCredential>
    let responses: ReadCache<String, KeptResponse>

    /// How long a kept read may be served at most; a credential also no longer than it is valid.
    static let credentialLife = Duration.seconds(30)
    static let responseLife = Duration.seconds(30)

    init(changes: TenantChanges?, responseBudget: Int = 64 << 20) {
        credentials = ReadCache(changes: changes, budget: 8 << 20)
        responses = ReadCache(changes: changes, budget: responseBudget)
    }

    /// The kept response for `key`, or `read()`'s, kept for `life`.
    func response(
        _ key: String, agency: AgencyID, life: Duration = responseLife, _ read: () async throws -> KeptResponse
    ) async throws -> KeptResponse {
        // Gzipped once, when kept; a response that cannot be kept is sent as it is rather than compressed per request.
        try await responses.through(key, agency: agency, ttl: life, cost: \.cost, keeping: { $0.gzipped() }, read)
    }
}

extension JSONBody {
    /// The encoded body as a response to keep (`ReadCaches`), or to send at once.
    func kept() throws -> KeptResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extraHeaders)
        return KeptResponse(status: status, headers: headers, body: ByteBuffer(data: try Self.encoder.encode(body)))
    }
}
