import CLibPQ
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Several hosts in `DATABASE_URL`, chosen as libpq chooses them. PostgresNIO connects to one host; with a host list
/// (or `target_session_attrs`) the client connects instead to this router on loopback, which opens each session on
/// the server libpq itself picks — it asks libpq (`PQconnectdb` with the whole host list, `target_session_attrs` and
/// `connect_timeout`) which host matches, then splices the bytes. Every `recheck` it asks again; when the answer
/// changes (the primary went away, or became read-only after a switchover) it closes the sessions on the old server,
/// so the pool reconnects, through here, to the one that now matches. No restart; jobs stay fenced by their leases.
public final class SessionRouter: Sendable {
    /// Where the client connects: 127.0.0.1 and this port.
    public let port: Int
    private let probeConninfo: String
    private let logger: Logger
    private let serverChannel: any Channel
    private let state = RouterState()

    struct Session: Sendable {
        var backend: String
        var channels: [any Channel]
    }

    /// What the event loops and the recheck loop share: the open sessions and the server chosen last.
    final class RouterState: Sendable {
        let sessions = Mutex<[ObjectIdentifier: Session]>([:])
        let current = Mutex<String?>(nil)
    }

    /// Binds the router and starts its recheck loop (which runs for the life of the process).
    public static func start(_ settings: ConnectionSettings, recheck: Duration = .seconds(2), logger: Logger) throws -> SessionRouter {
        let router = try SessionRouter(settings, logger: logger)
        Task.detached { [router] in await router.recheckLoop(every: recheck) }
        return router
    }

    private init(_ settings: ConnectionSettings, logger: Logger) throws {
        self.probeConninfo = settings.probeConninfo
        self.logger = logger
        let state = self.state
        let probe = settings.probeConninfo
        // Bound before the client needs it: start-up is not on an event loop, so waiting here is allowed.
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                Self.route(inbound, probe: probe, state: state, logger: logger)
                return inbound.eventLoop.makeSucceededVoidFuture()
            }
        self.serverChannel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        guard let port = serverChannel.localAddress?.port else { throw SessionRouterError(message: "the router bound no port") }
        self.port = port
    }

    /// The host (as `host:port`) libpq picks now for the URL, or why none matches.
    static func probe(_ conninfo: String) throws -> (host: String, port: Int) {
        guard let handle = PQconnectdb(conninfo) else { throw SessionRouterError(message: "out of memory") }
        defer { PQfinish(handle) }
        guard PQstatus(handle) == CONNECTION_OK else {
            throw SessionRouterError(message: String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let host = PQhost(handle), let port = PQport(handle), let number = Int(String(cString: port)) else {
            throw SessionRouterError(message: "libpq connected but named no host")
        }
        return (String(cString: host), number)
    }

    /// One client session: ask libpq which server matches, connect to it, splice.
    private static func route(
        _ inbound: any Channel, probe: String, state: RouterState, logger: Logger
    ) {
        let loop = inbound.eventLoop
        NIOThreadPool.singleton.runIfActive(eventLoop: loop) { try Self.probe(probe) }
            .flatMap { target -> EventLoopFuture<(any Channel, String)> in
                let backend = "\(target.host):\(target.port)"
                state.current.withLock { $0 = backend }
                return ClientBootstrap(group: loop).connect(host: target.host, port: target.port).map { ($0, backend) }
            }
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    logger.warning("no database server matches; closing the session", metadata: ["error": "\(error)"])
                    inbound.close(promise: nil)
                case .success(let (outbound, backend)):
                    do {
                        let (a, b) = GlueHandler.matchedPair()
                        try inbound.pipeline.syncOperations.addHandler(a)
                        try outbound.pipeline.syncOperations.addHandler(b)
                    } catch {
                        inbound.close(promise: nil)
                        outbound.close(promise: nil)
                        return
                    }
                    let key = ObjectIdentifier(inbound)
                    state.sessions.withLock { $0[key] = Session(backend: backend, channels: [inbound, outbound]) }
                    inbound.closeFuture.whenComplete { _ in
                        state.sessions.withLock { _ = $0.removeValue(forKey: key) }
                        outbound.close(promise: nil)
                    }
                    outbound.closeFuture.whenComplete { _ in inbound.close(promise: nil) }
                    // Reads were held until the far side was connected; from now on they follow the glue's back-pressure.
                    _ = try? inbound.syncOptions?.setOption(.autoRead, value: true)
                }
            }
    }

    /// Every `interval`: which server matches now? Sessions on any other are closed (the pool opens new ones here).
    private func recheckLoop(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            // No session open, nothing to move: the next one asks libpq anyway.
            if state.sessions.withLock({ $0.isEmpty }) { continue }
            let conninfo = probeConninfo
            guard let target = try? await NIOThreadPool.singleton.runIfActive({ try Self.probe(conninfo) }) else { continue }
            let backend = "\(target.host):\(target.port)"
            let previous = state.current.withLock { value -> String? in
                defer { value = backend }
                return value
            }
            if let previous, previous != backend {
                logger.notice("the database server that matches changed", metadata: ["from": "\(previous)", "to": "\(backend)"])
            }
            let stale = state.sessions.withLock { $0.values.filter { $0.backend != backend } }
            for session in stale { for channel in session.channels { channel.close(promise: nil) } }
        }
    }

    /// The server sessions are opened on now (`host:port`), once one was chosen; for tests and logs.
    public var currentBackend: String? { state.current.withLock { $0 } }
}

public struct SessionRouterError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Two channels' handlers that forward each other's bytes, with back-pressure (a read waits while the partner cannot
/// write); both channels live on one event loop. After swift-nio's connect-proxy example.
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let (a, b) = (GlueHandler(), GlueHandler())
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    private func partnerWriteEOF() { context?.close(mode: .output, promise: nil) }
    private func partnerCloseFull() { context?.close(promise: nil) }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.partnerWrite(data) }
    func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }
    func channelInactive(context: ChannelHandlerContext) { partner?.partnerCloseFull() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event { partner?.partnerWriteEOF() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        partner?.partnerCloseFull()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
