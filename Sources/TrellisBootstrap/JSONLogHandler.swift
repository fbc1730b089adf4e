import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

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
        let line = Self.line(
            level: event.level, label: label, message: event.message.description, handlerMetadata: metadata,
            eventMetadata: event.metadata ?? [:], timestamp: Self.timestamp())
        LogOutput.standardOutput.write(line, now: event.level >= .warning)
    }

    /// One log line: a JSON object with sorted keys and a newline. Written by hand: JSONSerialization over a
    /// `[String: Any]` cost more than the request it logged.
    static func line(
        level: Logger.Level, label: String, message: String, handlerMetadata: Logger.Metadata, eventMetadata: Logger.Metadata,
        timestamp: String
    ) -> [UInt8] {
        var fields: [(String, Logger.Metadata.Value)] = []
        fields.reserveCapacity(handlerMetadata.count + eventMetadata.count + 4)
        for (key, value) in handlerMetadata where eventMetadata[key] == nil { fields.append((key, value)) }
        for (key, value) in eventMetadata { fields.append((key, value)) }
        fields.append(("level", .string(level.rawValue)))
        fields.append(("logger", .string(label)))
        fields.append(("msg", .string(message)))
        fields.append(("ts", .string(timestamp)))
        // String order is byte order for the ASCII keys logs use, and compares in one memcmp.
        fields.sort { $0.0 < $1.0 }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line.append(UInt8(ascii: "{"))
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            Self.appendString(key, to: &line)
            line.append(UInt8(ascii: ":"))
            Self.append(value, to: &line)
        }
        line.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        return line
    }

    static func append(_ value: Logger.Metadata.Value, to line: inout [UInt8]) {
        switch value {
        case .string(let s): appendString(s, to: &line)
        case .stringConvertible(let c): appendString(c.description, to: &line)
        case .array(let items):
            line.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { line.append(UInt8(ascii: ",")) }
                append(item, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let entries):
            line.append(UInt8(ascii: "{"))
            for (i, (key, item)) in entries.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { line.append(UInt8(ascii: ",")) }
                appendString(key, to: &line)
                line.append(UInt8(ascii: ":"))
                append(item, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped; everything else as UTF-8.
    static func appendString(_ text: String, to line: inout [UInt8]) {
        line.append(UInt8(ascii: "\""))
        // Most text needs no escape: copied in one go.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            line.append(contentsOf: text.utf8)
            line.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                line.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: line.append(byte)
            }
        }
        line.append(UInt8(ascii: "\""))
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
        // Digits appended in place: no array per field.
        func put(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var v = value
            while divisor > 0 {
                bytes.append(UInt8(48 + (v / divisor) % 10))
                v %= divisor
                divisor /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, 4); bytes.append(45); put(Int(parts.tm_mon) + 1, 2); bytes.append(45); put(Int(parts.tm_mday), 2)
        bytes.append(84); put(Int(parts.tm_hour), 2); bytes.append(58); put(Int(parts.tm_min), 2); bytes.append(58); put(Int(parts.tm_sec), 2)
        bytes.append(46); put(millis, 3); bytes.append(90)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Standard output, written in batches: the lines of a busy second go out in one write(2) every 20 ms (or every
/// 64 KB), not one system call per request line. A warning or worse is written at once, with every line before it;
/// what is gathered is written at exit. A crash loses at most the last 20 ms of info lines.
final class LogOutput: Sendable {
    static let standardOutput = LogOutput(descriptor: 1)

    private let descriptor: Int32
    /// Lines not yet written; held only to append or to take the batch, never across a system call, so a request
    /// logging its line does not wait (and sleep) while another thread writes.
    private let pending = Mutex<[UInt8]>([])
    /// Held while a batch is written, so batches reach the file in the order they were taken.
    private let writing = Mutex<Void>(())

    private init(descriptor: Int32) {
        self.descriptor = descriptor
        atexit { LogOutput.standardOutput.flush() }
        let thread = Thread { [self] in
            while true {
                usleep(20_000)
                flush()
            }
        }
        thread.name = "log-output"
        thread.start()
    }

    func write(_ line: [UInt8], now: Bool) {
        let full = pending.withLock { pending -> Bool in
            pending.append(contentsOf: line)
            return pending.count >= 65_536
        }
        if now {
            flush()
        } else if full {
            // A full batch is written by whoever filled it, unless a write is under way: that one takes it next.
            writing.withLockIfAvailable { _ in writeTaken() }
        }
    }

    func flush() {
        writing.withLock { _ in writeTaken() }
    }

    /// Takes what is pending and writes it; called with `writing` held.
    private func writeTaken() {
        let batch = pending.withLock { pending -> [UInt8] in
            guard !pending.isEmpty else { return [] }
            var taken: [UInt8] = []
            taken.reserveCapacity(max(4_096, pending.count))
            swap(&taken, &pending)
            return taken
        }
        batch.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, base + offset, buffer.count - offset)
                if written <= 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
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
