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
