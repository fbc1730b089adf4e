import Foundation
import Hummingbird
import TrellisDomain

/// A parsed JSON value; requests are read into this first so that unknown fields and wrong types
/// are all reported together, before anything reaches the domain or the database.
indirect enum JSONValue: Sendable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let n = try? container.decode(Double.self) { self = .number(n) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

extension Request {
    /// Reads the body as a JSON object; malformed JSON is a 400 that says where it broke.
    func jsonObject(context: some RequestContext) async throws -> [String: JSONValue] {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch {
            throw Problem(.payloadTooLarge, detail: "the body is larger than \(context.maxUploadSize) bytes")
        }
        if let contentType = headers[.contentType], !contentType.lowercased().hasPrefix("application/json"),
           !contentType.lowercased().hasPrefix("application/merge-patch+json") {
            throw Problem(.malformedRequest, detail: "expected Content-Type application/json, got \(contentType)")
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: buffer))
        } catch {
            throw Problem(.malformedRequest, detail: "the body is not valid JSON")
        }
        guard case .object(let object) = value else {
            throw Problem(.malformedRequest, detail: "the body must be a JSON object, not \(value.typeName)")
        }
        // PostgreSQL text cannot hold U+0000: refuse it here, naming the field, rather than fail in the store.
        var errors = FieldErrors()
        value.findNULs(path: "", into: &errors)
        if !errors.errors.isEmpty { throw Problem.validation(errors.errors) }
        return object
    }
}

extension JSONValue {
    /// Every string or key holding a NUL character, by its JSON path.
    func findNULs(path: String, into errors: inout FieldErrors) {
        switch self {
        case .string(let s):
            if s.utf8.contains(0) { errors.add(path.isEmpty ? "body" : path, "must not contain NUL characters") }
        case .array(let items):
            for (index, item) in items.enumerated() { item.findNULs(path: "\(path)[\(index)]", into: &errors) }
        case .object(let object):
            for key in object.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if key.utf8.contains(0) { errors.add(child, "must not contain NUL characters") }
                object[key]?.findNULs(path: child, into: &errors)
            }
        case .null, .bool, .number:
            break
        }
    }
}

/// Reads fields of one JSON object, collecting every problem (unknown field, missing, wrong type).
struct FieldReader {
    let object: [String: JSONValue]
    let prefix: String
    var errors = FieldErrors()

    init(_ object: [String: JSONValue], allowed: Set<String>, prefix: String = "") {
        self.object = object
        self.prefix = prefix
        for key in object.keys.sorted() where !allowed.contains(key) {
            errors.add(path(key), "is not a known field")
        }
    }

    func path(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    func has(_ key: String) -> Bool { object[key] != nil }

    /// True when the field is present and explicitly null (PATCH: clear it).
    func isNull(_ key: String) -> Bool {
        if case .null = object[key] { return true }
        return false
    }

    private mutating func value(_ key: String, required: Bool) -> JSONValue? {
        switch object[key] {
        case nil:
            if required { errors.add(path(key), "is required") }
            return nil
        case .null:
            if required { errors.add(path(key), "must not be null") }
            return nil
        case let value?:
            return value
        }
    }

    mutating func string(_ key: String, required: Bool = false, maxLength: Int = 10_000) -> String? {
        guard let value = value(key, required: required) else { return nil }
        guard case .string(let s) = value else {
            errors.add(path(key), "must be a string, not \(value.typeName)")
            return nil
        }
        // Counted in Unicode code points, as JSON Schema's maxLength counts them.
        if s.unicodeScalars.count > maxLength {
            errors.add(path(key), "must be at most \(maxLength) characters")
            return nil
        }
        return s
    }

    mutating func double(_ key: String, required: Bool = false) -> Double? {
        guard let value = value(key, required: required) else { return nil }
        guard case .number(let n) = value, n.isFinite else {
            errors.add(path(key), "must be a number, not \(value.typeName)")
            return nil
        }
        return n
    }

    mutating func int(_ key: String, required: Bool = false) -> Int? {
        guard let n = double(key, required: required) else { return nil }
        guard n == n.rounded(), abs(n) < 9e15 else {
            errors.add(path(key), "must be a whole number")
            return nil
        }
        return Int(n)
    }

    mutating func bool(_ key: String, required: Bool = false) -> Bool? {
        guard let value = value(key, required: required) else { return nil }
        guard case .bool(let b) = value else {
            errors.add(path(key), "must be true or false, not \(value.typeName)")
            return nil
        }
        return b
    }

    mutating func uuid(_ key: String, required: Bool = false) -> UUID? {
        guard let s = string(key, required: required) else { return nil }
        guard let id = UUID(uuidString: s) else {
            errors.add(path(key), "must be a UUID")
            return nil
        }
        return id
    }

    mutating func date(_ key: String, required: Bool = false) -> LocalDate? {
        guard let s = string(key, required: required) else { return nil }
        guard let date = LocalDate(String(s)) else {
            errors.add(path(key), "must be a date as YYYY-MM-DD")
            return nil
        }
        return date
    }

    mutating func instant(_ key: String, required: Bool = false) -> Date? {
        guard let s = string(key, required: required) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: s) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: s) { return date }
        errors.add(path(key), "must be a date-time as RFC 3339 (2026-03-02T09:00:00+01:00)")
        return nil
    }

    mutating func oneOf<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, required: Bool = false) -> E? where E.RawValue == String {
        guard let s = string(key, required: required) else { return nil }
        guard let value = E(rawValue: s) else {
            errors.add(path(key), "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return value
    }

    mutating func strings(_ key: String, required: Bool = false) -> [String]? {
        guard let value = value(key, required: required) else { return nil }
        guard case .array(let items) = value else {
            errors.add(path(key), "must be an array, not \(value.typeName)")
            return nil
        }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let s) = item else {
                errors.add("\(path(key))[\(index)]", "must be a string")
                continue
            }
            result.append(s)
        }
        return result
    }

    /// An array of objects, each read by `read` with its own allowed fields.
    mutating func objects<T>(
        _ key: String, allowed: Set<String>, required: Bool = false, _ read: (inout FieldReader) -> T?
    ) -> [T]? {
        guard let value = value(key, required: required) else { return nil }
        guard case .array(let items) = value else {
            errors.add(path(key), "must be an array, not \(value.typeName)")
            return nil
        }
        var result: [T] = []
        for (index, item) in items.enumerated() {
            guard case .object(let object) = item else {
                errors.add("\(path(key))[\(index)]", "must be an object")
                continue
            }
            var nested = FieldReader(object, allowed: allowed, prefix: "\(path(key))[\(index)]")
            let parsed = read(&nested)
            errors.merge(nested.errors, prefix: "")
            if let parsed, nested.errors.errors.isEmpty { result.append(parsed) }
        }
        return result
    }

    mutating func object<T>(_ key: String, allowed: Set<String>, required: Bool = false, _ read: (inout FieldReader) -> T?) -> T? {
        guard let value = value(key, required: required) else { return nil }
        guard case .object(let object) = value else {
            errors.add(path(key), "must be an object, not \(value.typeName)")
            return nil
        }
        var nested = FieldReader(object, allowed: allowed, prefix: path(key))
        let parsed = read(&nested)
        errors.merge(nested.errors, prefix: "")
        return nested.errors.errors.isEmpty ? parsed : nil
    }

    func check() throws {
        if !errors.errors.isEmpty { throw Problem.validation(errors.errors) }
    }
}
