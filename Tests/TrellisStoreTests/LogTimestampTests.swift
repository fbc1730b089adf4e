import Foundation
import Testing
@testable import TrellisBootstrap

/// The JSON log's timestamp is written by hand; it must read back as RFC 3339 with milliseconds, in UTC.
@Suite("Log timestamps")
struct LogTimestampTests {
    @Test(arguments: [0.0, 1_764_601_272.345, 951_782_400.999, 4_102_444_799.5])
    func theTimestampIsRFC3339InUTCWithMilliseconds(seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let text = JSONLogHandler.timestamp(date)
        let reader = ISO8601DateFormatter()
        reader.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try #require(reader.date(from: text), "\(text)")
        #expect(abs(parsed.timeIntervalSince1970 - (seconds * 1000).rounded(.down) / 1000) < 0.0015, "\(text)")
        #expect(text.count == 24 && text.hasSuffix("Z"))
    }
}

/// The JSON log line is written by hand; it must parse as JSON with every field, whatever the text holds.
@Suite("Log lines")
struct LogLineTests {
    @Test func aLineIsOneJSONObjectWithSortedKeysAndEscapedText() throws {
        let message = "said \"hi\"\n\tthen \\left\u{01} — café"
        let bytes = JSONLogHandler.line(
            level: .warning, label: "trellis-api", message: message, handlerMetadata: ["request_id": "abc", "shared": "handler"],
            eventMetadata: ["status": .stringConvertible(422), "shared": "event", "ids": .array(["1", "2"]), "nested": .dictionary(["b": "2", "a": "1"])],
            timestamp: "2026-12-01T15:01:12.345Z")
        #expect(bytes.last == 0x0A, "one line")
        #expect(!bytes.dropLast().contains(0x0A), "no newline inside the line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["msg"] as? String == message)
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "trellis-api")
        #expect(object["ts"] as? String == "2026-12-01T15:01:12.345Z")
        #expect(object["status"] as? String == "422")
        #expect(object["shared"] as? String == "event", "the event's metadata wins over the handler's")
        #expect(object["ids"] as? [String] == ["1", "2"])
        #expect((object["nested"] as? [String: String]) == ["a": "1", "b": "2"])
        let text = String(decoding: bytes, as: UTF8.self)
        let keys = ["ids", "level", "logger", "msg", "nested", "request_id", "shared", "status", "ts"].map { "\"\($0)\":" }
        let positions = keys.compactMap { text.range(of: $0)?.lowerBound }
        #expect(positions.count == keys.count && positions == positions.sorted(), "keys in order")
    }
}
