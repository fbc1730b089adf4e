import Foundation
import Hummingbird
import NIOCore
import TrellisDomain

/// Per-request state: who is acting, resolved by `AuthenticationMiddleware`.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// Set when the principal came from a session cookie: unsafe methods must echo it (CSRF).
    public var sessionCSRFToken: String?
    /// The credential that authenticated this request (a password change ends every other one).
    public var sessionID: UUID?
    public var tokenID: UUID?
    private let channel: any NIOCore.Channel
    /// The peer's address, for per-address limits (sign-in); looked up when asked, as few requests need it.
    public var remoteAddress: String? { channel.remoteAddress?.ipAddress }

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    public var maxUploadSize: Int { 1 << 20 }

    /// The acting principal, or 401.
    func authenticated() throws -> Principal {
        guard let principal else { throw Problem(.unauthenticated, detail: "send a bearer token or sign in") }
        return principal
    }

    /// The acting principal if its role may take `action`, else 403.
    func require(_ action: Action) throws -> Principal {
        let principal = try authenticated()
        guard TenantPolicy.allows(principal.role, action) else {
            throw Problem(.forbidden, detail: "a \(principal.role.rawValue) may not do this")
        }
        return principal
    }

    func uuidParameter(_ name: String) throws -> UUID {
        // An id that is not a UUID can name nothing: same answer as a missing resource.
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else { throw Problem.notFound(name) }
        return id
    }
}

extension Request {
    /// The version in `If-Match` (`"3"` or `W/"3"`), if any. `*` (any current version, RFC 9110) reads as nil:
    /// the edit applies to whatever is current.
    func ifMatchVersion() throws -> Int? {
        guard let raw = headers[.ifMatch] else { return nil }
        let value = raw.trimmingCharacters(in: .whitespaces)
        if value == "*" { return nil }
        // A bare version (`3`) is taken as the ETag `"3"`.
        if !value.isEmpty, value.count <= 9, value.allSatisfy({ $0.isASCII && $0.isNumber }), let version = Int(value) { return version }
        var tag = Substring(value)
        if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
        guard tag.count >= 3, tag.first == "\"", tag.last == "\"", let version = Int(tag.dropFirst().dropLast()), version >= 0,
              tag.dropFirst().dropLast().allSatisfy(\.isASCII) else {
            throw Problem(.malformedRequest, detail: "If-Match must be an ETag this API returned, like \"3\", or *")
        }
        return version
    }

    /// Whether `If-Match` is present at all (edits of plans require it: 428 without).
    var hasIfMatch: Bool { headers[.ifMatch] != nil }

    func query(_ name: String) -> String? { uri.queryParameters.get(name) }
}

/// JSON responses with an ETag for versioned resources.
struct Versioned<Body: Encodable & Sendable>: ResponseGenerator {
    var body: Body
    var version: Int
    var status: HTTPResponse.Status = .ok
    var extraHeaders: HTTPFields = [:]

    /// A 201 naming where the created resource lives.
    static func created(_ body: Body, version: Int, at location: String) -> Versioned {
        Versioned(body: body, version: version, status: .created, extraHeaders: [.location: location])
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONBody(body, status: status).response(from: request, context: context)
        response.headers[.eTag] = "\"\(version)\""
        response.headers.append(contentsOf: extraHeaders)
        return response
    }
}

struct JSONBody<Body: Encodable & Sendable>: ResponseGenerator {
    var body: Body
    var status: HTTPResponse.Status
    var extraHeaders: HTTPFields = [:]

    init(_ body: Body, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.status = status
    }

    /// A 201 naming where the created resource lives.
    static func created(_ body: Body, at location: String) -> JSONBody {
        var reply = JSONBody(body, status: .created)
        reply.extraHeaders[.location] = location
        return reply
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try kept().response(from: request, context: context)
    }
}
