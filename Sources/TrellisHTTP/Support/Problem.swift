import Foundation
import Hummingbird
import PostgresNIO
import TrellisApplication
import TrellisDomain
import TrellisStore

/// An RFC 9457 problem: every error the API returns, with a stable `type` per kind of error.
public struct Problem: Error, HTTPResponseError, Codable, Sendable {
    public var type: String
    public var title: String
    public var statusCode: Int
    public var detail: String?
    /// Failing fields, for validation problems (422).
    public var errors: [FieldError]?
    /// For unknown export formats and the like: the values that would have been accepted.
    public var allowed: [String]?
    /// Seconds until a retry may succeed: sent as `Retry-After` (429, 503), not in the body.
    public var retryAfterSeconds: Int?
    /// Methods the path does answer: sent as `Allow` (405), not in the body.
    public var allowMethods: [String]?

    public init(_ kind: Kind, detail: String? = nil, errors: [FieldError]? = nil, allowed: [String]? = nil) {
        self.type = "https://trellis.app/problems/\(kind.rawValue)"
        self.title = kind.title
        self.statusCode = kind.status
        self.detail = detail
        self.errors = errors
        self.allowed = allowed
    }

    public enum Kind: String, Sendable, CaseIterable {
        case malformedRequest = "malformed-request"
        case unauthenticated
        case forbidden
        case notFound = "not-found"
        case methodNotAllowed = "method-not-allowed"
        case versionConflict = "version-conflict"
        case conflict
        case preconditionRequired = "precondition-required"
        case validation
        case payloadTooLarge = "payload-too-large"
        case tooManyRequests = "too-many-requests"
        case gone
        case unavailable
        case internalError = "internal-error"

        var status: Int {
            switch self {
            case .malformedRequest: 400
            case .unauthenticated: 401
            case .forbidden: 403
            case .notFound: 404
            case .methodNotAllowed: 405
            case .versionConflict, .conflict: 409
            case .payloadTooLarge: 413
            case .tooManyRequests: 429
            case .gone: 410
            case .preconditionRequired: 428
            case .validation: 422
            case .unavailable: 503
            case .internalError: 500
            }
        }

        var title: String {
            switch self {
            case .malformedRequest: "The request is malformed"
            case .unauthenticated: "Authentication required"
            case .forbidden: "Your role may not do this"
            case .notFound: "Not found"
            case .methodNotAllowed: "Method not allowed"
            case .versionConflict: "The resource changed since you read it"
            case .conflict: "Conflicts with an existing resource"
            case .payloadTooLarge: "The request body is too large"
            case .tooManyRequests: "Too many requests"
            case .gone: "No longer available"
            case .preconditionRequired: "An If-Match header is required"
            case .validation: "Validation failed"
            case .unavailable: "Not ready"
            case .internalError: "Internal error"
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case type, title, statusCode = "status", detail, errors, allowed
    }

    public var status: HTTPResponse.Status { .init(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body = self
        if body.detail == nil { body.detail = body.title }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(body)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if statusCode == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"trellis\"" }
        if let retryAfterSeconds { headers[.retryAfter] = "\(max(1, retryAfterSeconds))" }
        if let allowMethods { headers[.allow] = allowMethods.joined(separator: ", ") }
        return Response(status: .init(code: statusCode), headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    static func notFound(_ what: String) -> Problem { Problem(.notFound, detail: "\(what) not found") }

    /// The database is down, restarting or refusing connections: a retry soon may succeed.
    static func unavailable(retryAfter seconds: Int = 5) -> Problem {
        var problem = Problem(.unavailable, detail: "the database is unavailable; retry shortly")
        problem.retryAfterSeconds = seconds
        return problem
    }

    static func tooManyRequests(retryAfter seconds: Int, detail: String) -> Problem {
        var problem = Problem(.tooManyRequests, detail: detail)
        problem.retryAfterSeconds = seconds
        return problem
    }

    /// What a database failure means for the client; nil for a fault of ours (which stays a 500).
    static func databaseProblem(sqlState: String?, code: PSQLError.Code) -> Problem? {
        switch code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return unavailable()
        default:
            break
        }
        guard let sqlState else { return nil }
        // 08: connection exception; 57P01-57P03: shutdown, crash recovery, not yet accepting; 53300: too many connections;
        // 25006: a write reached a server that is read-only now (a standby, or a primary demoted during a switchover).
        if sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300", "40001", "40P01", "25006"].contains(sqlState) {
            return unavailable(retryAfter: sqlState.hasPrefix("40") ? 1 : 5)
        }
        // 22: a value PostgreSQL cannot store (out of range, bad encoding); 23514: a CHECK the input broke.
        if sqlState.hasPrefix("22") || sqlState == "23514" {
            return Problem(.validation, detail: "a value is out of the range this field can store", errors: [FieldError("body", "a value is out of range")])
        }
        return nil
    }

    static func validation(_ errors: [FieldError]) -> Problem {
        Problem(.validation, detail: errors.map { "\($0.field): \($0.message)" }.joined(separator: "; "), errors: errors)
    }

    /// Maps whatever a handler threw onto a problem; unknown errors become a 500 without internals.
    static func from(_ error: any Error, logger: Logger) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as ValidationError:
            return .validation(error.errors)
        case let error as StoreError:
            switch error {
            case .notFound(let what): return .notFound(what)
            case .versionConflict(let expected, let actual):
                return Problem(.versionConflict, detail: "you sent version \(expected); the current version is \(actual)")
            case .duplicate(let field):
                return Problem(.conflict, detail: "\(field) is already taken", errors: [FieldError(field, "is already taken")])
            case .unavailable:
                return unavailable()
            case .missingReference(let field):
                // The body names something that is not there (or is another agency's): not found, naming the field.
                return Problem(.notFound, detail: "\(field): does not exist", errors: [FieldError(field, "does not exist")])
            case .invalid(let field, let message):
                return .validation([FieldError(field, message)])
            }
        case let error as PSQLError:
            if let problem = databaseProblem(sqlState: error.serverInfo?[.sqlState], code: error.code) { return problem }
        case let error where String(describing: Swift.type(of: error)) == "ConnectionPoolError":
            // PostgresNIO's pool could not hand out a connection (the server is down or the pool is closing).
            return unavailable()
        case let failure as PlanNotSchedulable:
            return .validation(failure.fieldErrors)
        case let error as PlanChangeError:
            switch error {
            case .invalid(let errors): return .validation(errors)
            case .unknownTask: return .notFound("task")
            case .unknownLink: return .notFound("dependency")
            case .unknownReference(let field):
                return Problem(.notFound, detail: "\(field): does not exist", errors: [FieldError(field, "does not exist")])
            case .duplicateLink:
                return Problem(.conflict, detail: "successorId is already taken", errors: [FieldError("successorId", "is already taken")])
            case .notWaitingOnClient:
                return Problem(.conflict, detail: "this task is not waiting on the client, or the client already marked it done")
            }
        case let denied as AccessDenied:
            return Problem(.forbidden, detail: "your role may not \(denied.action)")
        case let missing as BaselineNotFound:
            return Problem(.notFound, detail: "no baseline named \(missing.name)", errors: [FieldError("baseline", "no baseline has this name")])
        case let error as HTTPError:
            switch error.status.code {
            case 404: return Problem(.notFound, detail: "no such route")
            case 405: return Problem(.methodNotAllowed)
            case 413: return Problem(.payloadTooLarge)
            case 400..<500: return Problem(.malformedRequest, detail: error.body)
            default: break
            }
        default:
            break
        }
        logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
        return Problem(.internalError, detail: "something went wrong; the request id is in the logs")
    }
}
