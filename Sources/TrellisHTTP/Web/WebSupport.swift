import Foundation
import Hummingbird
import Mustache
import TrellisDomain
import TrellisStore

/// The web app's templates (`web/templates/*.mustache`), loaded once when the router is built.
struct WebTemplates: Sendable {
    let library: MustacheLibrary

    static func load(from directory: URL = ProjectFiles.root().appendingPathComponent("web/templates")) throws -> WebTemplates {
        var library = MustacheLibrary()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            try library.register(text, named: String(name.dropLast(".mustache".count)))
        }
        return WebTemplates(library: library)
    }

    func render(_ name: String, _ context: some Any) throws -> String {
        guard let html = library.render(MustacheValues.tree(context) ?? [String: Any](), withTemplate: name) else {
            throw Problem(.internalError, detail: "the page template \(name) is missing")
        }
        return html
    }
}

/// A page's view value as swift-mustache reads it, reflected lazily and once per value. swift-mustache reflects a struct
/// again, every property of it, for each name a template looks up (and for each level of the context stack it searches):
/// on a page of a few hundred lines that was most of the page's time. Here a struct becomes a node that reflects it the
/// first time a template asks it for a name and keeps what it found; properties a template never reads (the lists
/// a page pre-renders to HTML) are never converted.
enum MustacheValues {
    static func tree(_ value: Any) -> Any? {
        switch value {
        case let text as String: return text
        case let flag as Bool: return flag
        case let number as Int: return number
        case let number as Double: return number
        case let table as [String: String]: return table
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            // nil leaves the name out: a lookup then goes on up the stack, as it does for a nil property.
            return mirror.children.first.flatMap { tree($0.value) }
        case .struct, .class:
            return Node(value)
        case .collection, .set:
            return mirror.children.compactMap { tree($0.value) }
        case .dictionary:
            if let table = value as? [String: Any] { return table.compactMapValues(tree) }
            return value
        default:
            return value
        }
    }

    /// One struct of the view: its properties by name, each converted on first use. Lives only during one render, on
    /// one task (swift-mustache renders synchronously).
    final class Node: MustacheParent {
        private let value: Any
        /// The properties by name, read when a template first asks for one (a list only counted is never reflected).
        private var raw: [String: Any]?
        private var converted: [String: Any?] = [:]

        init(_ value: Any) { self.value = value }

        func child(named name: String) -> Any? {
            if let done = converted[name] { return done }
            if raw == nil {
                var fields: [String: Any] = [:]
                for child in Mirror(reflecting: value).children { if let label = child.label { fields[label] = child.value } }
                raw = fields
            }
            let result = raw?[name].flatMap(MustacheValues.tree)
            converted[name] = .some(result)
            return result
        }
    }
}

/// The web app's static files (`web/static`: CSS, small JavaScript modules), read once into memory.
struct StaticFiles: Sendable {
    struct File: Sendable {
        var data: ByteBuffer
        var contentType: String
        var etag: String
    }

    let files: [String: File]

    static func load(from directory: URL = ProjectFiles.root().appendingPathComponent("web/static")) -> StaticFiles {
        var files: [String: File] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
            let type: String
            switch (name as NSString).pathExtension {
            case "css": type = "text/css; charset=utf-8"
            case "js": type = "text/javascript; charset=utf-8"
            case "svg": type = "image/svg+xml"
            case "png": type = "image/png"
            default: type = "application/octet-stream"
            }
            var hash: UInt64 = 1469598103934665603
            for byte in data { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
            files[name] = File(data: ByteBuffer(bytes: data), contentType: type, etag: "\"\(String(hash, radix: 16))\"")
        }
        return StaticFiles(files: files)
    }
}

/// An HTML page with the web app's security headers: a strict Content-Security-Policy (scripts, styles and images
/// from this origin only, no inline script or style), no framing, no sniffing, not cached.
struct HTMLPage: ResponseGenerator {
    var html: String
    var status: HTTPResponse.Status = .ok

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try kept.response(from: request, context: context)
    }

    /// The page as a response to keep (`ReadCaches`), or to send at once.
    var kept: KeptResponse {
        var headers = HTMLPage.headers
        headers[.contentType] = "text/html; charset=utf-8"
        return KeptResponse(status: status, headers: headers, body: ByteBuffer(string: html))
    }

    static var headers: HTTPFields {
        var headers = HTTPFields()
        headers[.init("Content-Security-Policy")!] = contentSecurityPolicy
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("Referrer-Policy")!] = "same-origin"
        headers[.cacheControl] = "no-store"
        return headers
    }

    /// 303 See Other: after a form post, the browser loads `location` with GET.
    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther, headers: headers)
        response.headers[.location] = location
        return response
    }

    /// To `path`, whose page shows `notice` (what just happened) in its banner; `rest` follows the query (`&moved=…`,
    /// `#anchor`).
    static func redirect(_ path: String, notice: String, then rest: String = "") -> Response {
        redirect(path + "?notice=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") + rest)
    }
}

/// A submitted form (`application/x-www-form-urlencoded`).
struct WebForm: Sendable {
    var values: [String: String]

    static func read(_ request: Request, context: AppRequestContext) async throws -> WebForm {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        let text = String(buffer: buffer)
        var values: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { (String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") }
            let key = decode(parts[0]), value = parts.count > 1 ? decode(parts[1]) : ""
            if key.unicodeScalars.contains("\0") || value.unicodeScalars.contains("\0") {
                throw Problem.validation([FieldError(key, "must not contain NUL characters")])
            }
            values[key] = value
        }
        return WebForm(values: values)
    }

    subscript(_ key: String) -> String? {
        guard let value = values[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// Signed-in forms carry the session's CSRF token (the header the JSON API asks for is not something a form sends).
    func requireCSRF(_ context: AppRequestContext) throws {
        guard let expected = context.sessionCSRFToken, values["csrf"] == expected else {
            throw Problem(.forbidden, detail: "this form has expired; reload the page and try again")
        }
    }
}

/// What every signed-in page shows around its content: the agency, who is signed in, the navigation, and the
/// CSRF token for the forms on it.
struct Shell: Sendable {
    struct NavItem: Sendable {
        var label: String
        var href: String
        var current: Bool
    }

    var title: String
    var agencyName: String
    var memberName: String
    var roleLabel: String
    var csrf: String
    var nav: [NavItem]
    /// The time zone the page's dates are in, said once ("Times in Europe/Madrid").
    var timeZoneNote: String?

    /// Who is signed in, in which agency, with the session's CSRF token.
    struct Identity: Sendable {
        var agencyName: String
        var memberName: String
        var csrf: String
    }

    init(title: String, section: String, identity: Identity, principal: Principal, timeZoneNote: String? = nil) {
        self.title = title
        self.agencyName = identity.agencyName
        self.memberName = identity.memberName
        self.roleLabel = principal.role.label
        self.csrf = identity.csrf
        self.timeZoneNote = timeZoneNote
        var items: [(String, String)] = principal.role == .clientViewer ? [("Portal", "/portal")] : [("Today", "/today"), ("Clients", "/clients")]
        if principal.role != .clientViewer { items.append(("Templates", "/templates")) }
        if TenantPolicy.allows(principal.role, .readPeople) && principal.role != .clientViewer { items.append(("People", "/people")) }
        if TenantPolicy.allows(principal.role, .readWorkload) { items.append(("Workload", "/workload")) }
        if TenantPolicy.allows(principal.role, .manageIntegrations) { items.append(("Operations", "/operations")) }
        if principal.role != .clientViewer { items.append(("Inbox", "/inbox")) }
        nav = items.map { NavItem(label: $0.0, href: $0.1, current: $0.0 == section) }
    }
}

extension MemberRole {
    var label: String {
        switch self {
        case .owner: "Owner"
        case .manager: "Manager"
        case .consultant: "Consultant"
        case .clientViewer: "Client"
        }
    }
}

/// Dates and durations as people read them, in a plan's zone.
enum WebFormat {
    static let weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The UTC date of an instant (the agency-wide week; each plan's dates use its own calendar).
    static func utcDate(_ date: Date) -> LocalDate { WorkCalendar.alwaysWorking.localDate(of: date) }

    /// "Mon 2 Mar 2026".
    static func day(_ date: LocalDate) -> String {
        "\(weekdays[date.weekday.index]) \(date.day) \(months[date.month - 1]) \(date.year)"
    }

    static func shortDay(_ date: LocalDate) -> String {
        "\(weekdays[date.weekday.index]) \(date.day) \(months[date.month - 1])"
    }

    /// "Tue 1 Dec 2026, 10:04 UTC": when something happened, for operators.
    static func moment(_ instant: Date) -> String {
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down))
        let minuteOfDay = ((seconds % 86_400) + 86_400) % 86_400 / 60
        let clock = String(format: "%02d:%02d", minuteOfDay / 60, minuteOfDay % 60)
        return "\(day(utcDate(instant))), \(clock) UTC"
    }

    /// The local date of an instant in `zone`.
    static func localDay(_ instant: Date, in zone: TimeZone) -> LocalDate {
        let local = instant.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: instant))
        return LocalDate(dayNumber: Int((local / 86_400).rounded(.down)))
    }

    /// "Mon 2 Mar 09:00": an instant's local day and time in `zone`, without formatting an RFC 3339 string to cut it up
    /// (the plan page does this twice for each of hundreds of tasks).
    static func dayAndTime(_ instant: Date, in zone: TimeZone) -> String {
        let local = Int((instant.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: instant))).rounded(.down))
        let day = localDay(instant, in: zone)
        let minute = ((local % 86_400) + 86_400) % 86_400 / 60
        let (h, m) = (minute / 60, minute % 60)
        return shortDay(day) + " " + (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
    }

    /// Working time as the calendar's days and hours: "3 d 2 h", "4 h 30 min", "milestone".
    static func duration(minutes: Int, minutesPerDay: Int) -> String {
        if minutes == 0 { return "milestone" }
        let perDay = max(1, minutesPerDay)
        let days = minutes / perDay, rest = minutes % perDay
        let hours = rest / 60, mins = rest % 60
        var parts: [String] = []
        if days > 0 { parts.append("\(days) d") }
        if hours > 0 { parts.append("\(hours) h") }
        if mins > 0 { parts.append("\(mins) min") }
        return parts.joined(separator: " ")
    }

    /// "12 h", "7.5 h".
    static func hours(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded)) h" : String(format: "%.1f h", rounded)
    }

    /// Slack in working days, signed: "+2.5 d", "0 d", "−1 d".
    static func slack(minutes: Int, minutesPerDay: Int) -> String {
        let days = Double(minutes) / Double(max(1, minutesPerDay))
        let rounded = (days * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", abs(rounded))
        if rounded > 0 { return "+\(text) d" }
        if rounded < 0 { return "−\(text.hasPrefix("-") ? String(text.dropFirst()) : text) d" }
        return "0 d"
    }
}
