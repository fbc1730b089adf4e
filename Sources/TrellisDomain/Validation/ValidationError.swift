/// One failing field of a request, named by its JSON path (`channels[1].audienceSize`).
public struct FieldError: Error, Sendable, Hashable, Codable {
    public var field: String
    public var message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}

/// Every failing field of one input, collected rather than stopping at the first,
/// so a client can fix a form in one round trip.
public struct ValidationError: Error, Sendable, Hashable {
    public var errors: [FieldError]

    public init(_ errors: [FieldError]) {
        self.errors = errors
    }
}

/// Collects field errors while validating an input.
public struct FieldErrors: Sendable {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func add(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    public mutating func merge(_ other: FieldErrors, prefix: String) {
        for error in other.errors {
            let field = prefix.isEmpty ? error.field : prefix + (error.field.isEmpty ? "" : "." + error.field)
            errors.append(FieldError(field, error.message))
        }
    }

    /// Throws a `ValidationError` when anything was collected.
    public func check() throws(ValidationError) {
        if !errors.isEmpty { throw ValidationError(errors) }
    }
}
