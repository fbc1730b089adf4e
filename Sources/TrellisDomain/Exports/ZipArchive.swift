import Foundation

/// A ZIP archive of stored (uncompressed) entries: what a bundle of plan exports needs, in ~80 lines,
/// where a compression library would add a dependency for files that are mostly small text.
/// Every unzip tool, Finder and Explorer open it.
public struct ZipArchive: Sendable {
    private var body = Data()
    private var central = Data()
    private var count = 0

    public init() {}

    /// Adds a file; `modified` becomes the entry's DOS time (UTC).
    public mutating func add(name: String, contents: Data, modified: Date) {
        let nameBytes = Data(name.utf8)
        let crc = Self.crc32(contents)
        let (time, date) = Self.dosTime(modified)
        let offset = UInt32(body.count)
        var local = Data()
        local.append(le32: 0x0403_4b50)
        local.append(le16: 20)  // version needed
        local.append(le16: 0x0800)  // UTF-8 names
        local.append(le16: 0)  // stored
        local.append(le16: time); local.append(le16: date)
        local.append(le32: crc)
        local.append(le32: UInt32(contents.count)); local.append(le32: UInt32(contents.count))
        local.append(le16: UInt16(nameBytes.count)); local.append(le16: 0)
        body.append(local); body.append(nameBytes); body.append(contents)

        central.append(le32: 0x0201_4b50)
        central.append(le16: 20); central.append(le16: 20)
        central.append(le16: 0x0800); central.append(le16: 0)
        central.append(le16: time); central.append(le16: date)
        central.append(le32: crc)
        central.append(le32: UInt32(contents.count)); central.append(le32: UInt32(contents.count))
        central.append(le16: UInt16(nameBytes.count))
        central.append(le16: 0); central.append(le16: 0); central.append(le16: 0); central.append(le16: 0)
        central.append(le32: 0)
        central.append(le32: offset)
        central.append(nameBytes)
        count += 1
    }

    /// The finished archive.
    public var data: Data {
        var out = body
        out.append(central)
        out.append(le32: 0x0605_4b50)
        out.append(le16: 0); out.append(le16: 0)
        out.append(le16: UInt16(count)); out.append(le16: UInt16(count))
        out.append(le32: UInt32(central.count)); out.append(le32: UInt32(body.count))
        out.append(le16: 0)
        return out
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func crc32(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func dosTime(_ date: Date) -> (UInt16, UInt16) {
        let day = LocalDate(dayNumber: Int((date.timeIntervalSince1970 / 86_400).rounded(.down)))
        let seconds = Int(date.timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400))
        let time = UInt16((seconds / 3600) << 11 | ((seconds % 3600) / 60) << 5 | (seconds % 60) / 2)
        let dosDate = UInt16(max(0, day.year - 1980) << 9 | day.month << 5 | day.day)
        return (time, dosDate)
    }
}

extension Data {
    fileprivate mutating func append(le16 value: UInt16) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
    fileprivate mutating func append(le32 value: UInt32) { Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) } }
}
