/// A value in the database that this build does not know (a newer migration's enum case, a hand edit):
/// reading it is an error, never a quiet default that would then be written back.
public struct UnknownStoredValue: Error, CustomStringConvertible, Sendable, Equatable {
    public var column: String
    public var value: String

    public init(column: String, value: String) {
        self.column = column
        self.value = value
    }

    public var description: String { "the database holds \(column) = '\(value)', which this build does not know" }
}

/// Reads an enum from its stored text, or throws `UnknownStoredValue`.
func stored<E: RawRepresentable>(_ type: E.Type, _ raw: String, column: String) throws -> E where E.RawValue == String {
    guard let value = E(rawValue: raw) else { throw UnknownStoredValue(column: column, value: raw) }
    return value
}
