import Foundation

/// The formats a timeline exports to, with what HTTP and file names need.
public enum ExportFormat: String, Sendable, Hashable, Codable, CaseIterable {
    case mspdi, ical, csv, svg, mermaid, json

    public var fileExtension: String {
        switch self {
        case .mspdi: "xml"
        case .ical: "ics"
        case .csv: "csv"
        case .svg: "svg"
        case .mermaid: "mmd"
        case .json: "json"
        }
    }

    /// The Content-Type to serve it with.
    public var contentType: String {
        switch self {
        case .mspdi: "application/xml"  // MS Project registers no type of its own for MSPDI
        case .ical: "text/calendar; charset=utf-8"
        case .csv: "text/csv; charset=utf-8"
        case .svg: "image/svg+xml"
        case .mermaid: "text/plain; charset=utf-8"
        case .json: "application/json"
        }
    }

    /// The renderer, with the options that apply to it.
    public func renderer(today: Date? = nil, csvByteOrderMark: Bool = false) -> any TimelineRenderer {
        switch self {
        case .mspdi: MSPDIExporter()
        case .ical: ICalendarExporter()
        case .csv: CSVExporter(byteOrderMark: csvByteOrderMark)
        case .svg: SVGGanttExporter(today: today)
        case .mermaid: MermaidExporter()
        case .json: JSONTimelineExporter()
        }
    }

    /// The whole document. `today` only draws the SVG's today line; `csvByteOrderMark` helps Excel.
    public func render(_ export: TimelineExport, today: Date? = nil, csvByteOrderMark: Bool = false) -> String {
        renderer(today: today, csvByteOrderMark: csvByteOrderMark).render(export)
    }

    /// The document in chunks of about `chunkSize` UTF-8 bytes, for streaming responses.
    public func render(_ export: TimelineExport, today: Date? = nil, csvByteOrderMark: Bool = false,
                       chunkSize: Int = 64 << 10, sink: (String) -> Void) {
        renderer(today: today, csvByteOrderMark: csvByteOrderMark).render(export, chunkSize: chunkSize, sink: sink)
    }
}
