import Foundation
import Hummingbird
import PostgresNIO
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
        return Response(status: .init(code: statusCode), headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    static func notFound(_ what: String) -> Problem { Problem(.notFound, detail: "\(what) not found") }

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
            case .missingReference(let field):
                return .validation([FieldError(field, "does not exist")])
            case .invalid(let field, let message):
                return .validation([FieldError(field, message)])
            }
        case let failure as SchedulingFailure:
            return PlanRoutes.problem(failure.error, names: failure.taskNames)
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
