import Foundation

/// Where a client brand is in its life with the agency.
public enum ClientStatus: String, Sendable, Codable, CaseIterable {
    case prospect, onboarding, active, paused, offboarded
}

/// One of a brand's social channels.
public struct Channel: Sendable, Hashable, Codable {
    public var network: String
    public var handle: String
    public var audienceSize: Int?

    public init(network: String, handle: String, audienceSize: Int? = nil) {
        self.network = network
        self.handle = handle
        self.audienceSize = audienceSize
    }

    public static let knownNetworks: Set<String> = [
        "facebook", "instagram", "x", "twitter", "linkedin", "tiktok", "youtube", "pinterest",
        "threads", "bluesky", "mastodon", "blog", "newsletter", "forum", "other",
    ]

    func validate() -> FieldErrors {
        var errors = FieldErrors()
        if !Channel.knownNetworks.contains(network) {
            errors.add("network", "must be one of \(Channel.knownNetworks.sorted().joined(separator: ", "))")
        }
        if handle.trimmingCharacters(in: .whitespaces).isEmpty { errors.add("handle", "must not be empty") }
        if handle.unicodeScalars.count > 200 { errors.add("handle", "must be at most 200 characters") }
        if let size = audienceSize, size < 0 { errors.add("audienceSize", "must be zero or more") }
        return errors
    }
}

/// What the client measures: the articles insist that measurement ties back to the client's goals.
public struct Goal: Sendable, Hashable, Codable {
    public var name: String
    public var metric: String
    public var target: Double?
    public var dueOn: LocalDate?

    public init(name: String, metric: String, target: Double? = nil, dueOn: LocalDate? = nil) {
        self.name = name
        self.metric = metric
        self.target = target
        self.dueOn = dueOn
    }

    func validate() -> FieldErrors {
        var errors = FieldErrors()
        if name.trimmingCharacters(in: .whitespaces).isEmpty { errors.add("name", "must not be empty") }
        if metric.trimmingCharacters(in: .whitespaces).isEmpty { errors.add("metric", "must not be empty") }
        if let target, !target.isFinite { errors.add("target", "must be a finite number") }
        return errors
    }
}

/// The fields a client organization is created or replaced with.
public struct ClientDraft: Sendable, Hashable {
    public var name: String
    public var slug: String
    public var industry: String?
    public var timeZone: String
    public var status: ClientStatus
    public var channels: [Channel]
    public var goals: [Goal]

    public init(name: String, slug: String, industry: String?, timeZone: String, status: ClientStatus,
                channels: [Channel], goals: [Goal]) {
        self.name = name
        self.slug = slug
        self.industry = industry
        self.timeZone = timeZone
        self.status = status
        self.channels = channels
        self.goals = goals
    }

    /// Every failing field at once.
    public func validate() throws(ValidationError) {
        var errors = FieldErrors()
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { errors.add("name", "must not be empty") }
        if name.unicodeScalars.count > 200 { errors.add("name", "must be at most 200 characters") }
        if !Slug.isValid(slug) { errors.add("slug", "must be 2–63 lowercase letters, digits or hyphens, starting with a letter") }
        if let industry, industry.unicodeScalars.count > 200 { errors.add("industry", "must be at most 200 characters") }
        if TimeZoneID(timeZone) == nil { errors.add("timeZone", "is not an IANA time zone (e.g. Europe/Madrid)") }
        for (index, channel) in channels.enumerated() {
            errors.merge(channel.validate(), prefix: "channels[\(index)]")
        }
        var seen = Set<String>()
        for (index, channel) in channels.enumerated() where !seen.insert("\(channel.network)/\(channel.handle.lowercased())").inserted {
            errors.add("channels[\(index)]", "duplicates another channel")
        }
        for (index, goal) in goals.enumerated() {
            errors.merge(goal.validate(), prefix: "goals[\(index)]")
        }
        try errors.check()
    }
}

public enum Slug {
    public static func isValid(_ slug: String) -> Bool {
        guard (2...63).contains(slug.count), let first = slug.first, first.isASCII, first.isLowercase else { return false }
        return slug.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" } && !slug.hasSuffix("-")
    }

    /// A slug derived from a display name: `Café Olé!` → `cafe-ole`.
    public static func make(from name: String) -> String {
        var out = ""
        for scalar in name.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased().unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.hasSuffix("-"), !out.isEmpty {
                out += "-"
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        if let first = out.first, !first.isLetter { out = "c-" + out }
        // A name with no usable letter (`!!`, `日本`) or a single one still gets a valid slug.
        if out.isEmpty { out = "client" } else if out.count < 2 { out += "-client" }
        out = String(out.prefix(63))
        while out.hasSuffix("-") { out.removeLast() }
        return out
    }
}

