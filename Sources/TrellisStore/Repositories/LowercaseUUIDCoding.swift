import Foundation

// Foundation writes UUIDs in upper case; RFC 9562 asks for lower case, and the exports and URLs use it.
// These overloads win over the generic `encode` in synthesized Codable conformances that see them.
extension KeyedEncodingContainer {
    public mutating func encode(_ value: UUID, forKey key: Key) throws {
        try encode(value.uuidString.lowercased(), forKey: key)
    }

    public mutating func encodeIfPresent(_ value: UUID?, forKey key: Key) throws {
        try encodeIfPresent(value?.uuidString.lowercased(), forKey: key)
    }
}
