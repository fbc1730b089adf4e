import Foundation

/// Where a renderer writes: a growing string, optionally handed to a sink in chunks so a large
/// export can be streamed (an HTTP body, a file) without holding all of it.
public struct ExportWriter {
    // Bytes, not a String: appending UTF-8 bytes is several times faster than growing a String, and
    // every record boundary (where chunks are cut) is a character boundary, so each chunk decodes cleanly.
    private var buffer: [UInt8]
    private let chunkSize: Int
    private let sink: ((String) -> Void)?

    /// Accumulates everything; read it with `finish()`.
    public init(capacity: Int = 16 << 10) {
        buffer = []
        buffer.reserveCapacity(capacity)
        chunkSize = .max
        sink = nil
    }

    /// Hands text to `sink` in chunks of at least `chunkSize` UTF-8 bytes (the last one may be smaller).
    public init(chunkSize: Int, sink: @escaping (String) -> Void) {
        self.chunkSize = max(1, chunkSize)
        buffer = []
        buffer.reserveCapacity(self.chunkSize + 4096)
        self.sink = sink
    }

    @inline(__always)
    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }

    @inline(__always)
    public mutating func append(_ text: Substring) {
        var text = text
        text.withUTF8 { buffer.append(contentsOf: $0) }
    }

    /// A decimal integer, without going through a String.
    @inline(__always)
    public mutating func append(_ value: Int) {
        if value >= 0 && value < 10 { buffer.append(UInt8(48 + value)); return }
        appendASCII { digits in
            var v = value.magnitude, i = 24  // 20 digits and a sign fit in 24 bytes
            repeat { i -= 1; digits[i] = UInt8(48 + v % 10); v /= 10 } while v > 0
            if value < 0 { i -= 1; digits[i] = 45 }
            let count = 24 - i
            for k in 0..<count { digits[k] = digits[i + k] }
            return count
        }
    }

    /// A JSON string literal (RFC 8259 escapes; "/" left alone).
    public mutating func appendJSONString(_ value: String) {
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
            buffer.append(0x22)
            append(value)
            buffer.append(0x22)
            return
        }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        append(out + "\"")
    }

    /// An instant as RFC 3339 in UTC, whole seconds ("2026-01-05T08:00:00Z"), as `JSONEncoder`'s `.iso8601` writes it.
    public mutating func appendUTCISO8601(_ date: Date) {
        let t = ZoneClock.unix(date)
        appendASCII { ZoneClock.write(local: t, offset: 0, .utcISO, into: $0) }
    }

    /// A UUID as 36 lowercase characters (how typed ids print), without building a String.
    public mutating func appendLowercaseUUID(_ id: UUID) {
        withUnsafeBytes(of: id.uuid) { raw in
            appendASCII { out in
                let hex: StaticString = "0123456789abcdef"
                var i = 0
                for (n, byte) in raw.enumerated() {
                    if n == 4 || n == 6 || n == 8 || n == 10 { out[i] = 45; i += 1 }
                    out[i] = hex.utf8Start[Int(byte >> 4)]
                    out[i + 1] = hex.utf8Start[Int(byte & 0x0F)]
                    i += 2
                }
                return i
            }
        }
    }

    /// Up to 64 ASCII bytes written by `body`, which returns how many it wrote.
    @inline(__always)
    mutating func appendASCII(_ body: (UnsafeMutableBufferPointer<UInt8>) -> Int) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { scratch in
            let n = body(scratch)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<n]))
        }
    }

    /// Direct access to the bytes, for escapers that rewrite text byte by byte.
    @inline(__always)
    mutating func withBytes(_ body: (inout [UInt8]) -> Void) { body(&buffer) }

    /// Renderers call this between records (a task, an event); never in the middle of a line that
    /// a later step might need to edit.
    @inline(__always)
    public mutating func flushIfNeeded() {
        guard let sink, buffer.count >= chunkSize else { return }
        sink(String(decoding: buffer, as: UTF8.self))
        buffer.removeAll(keepingCapacity: true)
    }

    /// Sends the rest to the sink (returning ""), or returns the whole text when there is no sink.
    public mutating func finish() -> String {
        guard let sink else { return String(decoding: buffer, as: UTF8.self) }
        if !buffer.isEmpty { sink(String(decoding: buffer, as: UTF8.self)) }
        buffer.removeAll()
        return ""
    }
}

/// A renderer of one export format.
public protocol TimelineRenderer: Sendable {
    func write(_ export: TimelineExport, to writer: inout ExportWriter)
    /// Sizes the buffer of `render(_:)` so a large document is not copied while it grows.
    var estimatedBytesPerTask: Int { get }
}

extension TimelineRenderer {
    public var estimatedBytesPerTask: Int { 512 }

    /// The whole document as one string.
    public func render(_ export: TimelineExport) -> String {
        var writer = ExportWriter(capacity: 4096 + export.plan.tasks.count * estimatedBytesPerTask)
        write(export, to: &writer)
        return writer.finish()
    }

    /// The document in chunks of about `chunkSize` bytes, in order.
    public func render(_ export: TimelineExport, chunkSize: Int = 64 << 10, sink: (String) -> Void) {
        withoutActuallyEscaping(sink) { sink in
            var writer = ExportWriter(chunkSize: chunkSize, sink: sink)
            write(export, to: &writer)
            _ = writer.finish()
        }
    }
}
