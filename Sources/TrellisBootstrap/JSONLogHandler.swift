import Foundation
import Logging

/// One JSON object per line on stdout: what log shippers (journald, Loki, CloudWatch) parse without rules.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": Self.timestamp(),
            "level": event.level.rawValue,
            "logger": label,
            "msg": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = Self.plain(value)
        }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let a): return a.map(plain)
        case .dictionary(let d): return d.mapValues(plain)
        }
    }

    /// `2026-12-01T15:01:12.345Z`, written by hand: building an ISO8601DateFormatter (ICU) for every line
    /// cost more than the rest of a request.
    static func timestamp(_ date: Date = Date()) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        let millis = Int((interval - Double(seconds)) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func put(_ value: Int, _ width: Int) {
            var digits = [UInt8](repeating: 48, count: width)
            var v = value
            for i in stride(from: width - 1, through: 0, by: -1) { digits[i] = UInt8(48 + v % 10); v /= 10 }
            bytes.append(contentsOf: digits)
        }
        put(Int(parts.tm_year) + 1900, 4); bytes.append(45); put(Int(parts.tm_mon) + 1, 2); bytes.append(45); put(Int(parts.tm_mday), 2)
        bytes.append(84); put(Int(parts.tm_hour), 2); bytes.append(58); put(Int(parts.tm_min), 2); bytes.append(58); put(Int(parts.tm_sec), 2)
        bytes.append(46); put(millis, 3); bytes.append(90)
        return String(decoding: bytes, as: UTF8.self)
    }
}

public enum LogSetup {
    /// Installs the JSON handler process-wide (`LOG_FORMAT=text` keeps swift-log's plain lines, handy in a terminal).
    public static func bootstrap(level: Logger.Level, format: String?) {
        let text = format == "text"
        LoggingSystem.bootstrap { label in
            if text {
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = level
                return handler
            }
            return JSONLogHandler(label: label, level: level)
        }
    }
}
