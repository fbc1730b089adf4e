import Foundation

/// A person of the agency, as created or replaced through the API.
public struct MemberDraft: Sendable, Hashable {
    public var email: String
    public var displayName: String
    public var role: MemberRole
    public var clientID: ClientID?
    public var weeklyCapacityHours: Double

    public init(email: String, displayName: String, role: MemberRole, clientID: ClientID?, weeklyCapacityHours: Double) {
        self.email = email
        self.displayName = displayName
        self.role = role
        self.clientID = clientID
        self.weeklyCapacityHours = weeklyCapacityHours
    }

    public func validate() throws(ValidationError) {
        var errors = FieldErrors()
        if !Email.isPlausible(email) { errors.add("email", "is not an email address") }
        if displayName.trimmingCharacters(in: .whitespaces).isEmpty { errors.add("displayName", "must not be empty") }
        if displayName.unicodeScalars.count > 200 { errors.add("displayName", "must be at most 200 characters") }
        if !weeklyCapacityHours.isFinite || weeklyCapacityHours < 0 || weeklyCapacityHours > 80 {
            errors.add("weeklyCapacityHours", "must be between 0 and 80")
        }
        switch (role, clientID) {
        case (.clientViewer, nil): errors.add("clientId", "is required for a client viewer")
        case (.clientViewer, _): break
        case (_, .some): errors.add("clientId", "only a client viewer is scoped to a client")
        case (_, nil): break
        }
        try errors.check()
    }
}

/// A contact person at a client brand: reachable, but does not sign in.
public struct ContactDraft: Sendable, Hashable {
    public var clientID: ClientID
    public var name: String
    public var email: String?
    public var title: String?
    public var weeklyCapacityHours: Double?

    public init(clientID: ClientID, name: String, email: String?, title: String?, weeklyCapacityHours: Double?) {
        self.clientID = clientID
        self.name = name
        self.email = email
        self.title = title
        self.weeklyCapacityHours = weeklyCapacityHours
    }

    public func validate() throws(ValidationError) {
        var errors = FieldErrors()
        if name.trimmingCharacters(in: .whitespaces).isEmpty { errors.add("name", "must not be empty") }
        if let email, !Email.isPlausible(email) { errors.add("email", "is not an email address") }
        if let hours = weeklyCapacityHours, !hours.isFinite || hours < 0 || hours > 80 {
            errors.add("weeklyCapacityHours", "must be between 0 and 80")
        }
        try errors.check()
    }
}

/// Days a person is away; whole days, both ends included.
public struct TimeOff: Sendable, Hashable, Codable {
    public var startsOn: LocalDate
    public var endsOn: LocalDate
    public var reason: String?

    public init(startsOn: LocalDate, endsOn: LocalDate, reason: String? = nil) {
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.reason = reason
    }

    public func validate() throws(ValidationError) {
        var errors = FieldErrors()
        if endsOn < startsOn { errors.add("endsOn", "must not be before startsOn") }
        if let reason, reason.unicodeScalars.count > 500 { errors.add("reason", "must be at most 500 characters") }
        try errors.check()
    }
}

public enum Email {
    /// Judged on Unicode scalars, as the contract's pattern is: a grapheme cluster such as "." followed by a
    /// variation selector would otherwise hide the domain's dot.
    public static func isPlausible(_ email: String) -> Bool {
        let scalars = Array(email.unicodeScalars)
        guard scalars.count <= 254, !scalars.contains(where: { $0.properties.isWhitespace || $0 == "\0" }),
              let at = scalars.firstIndex(of: "@"), !scalars[(at + 1)...].contains("@") else { return false }
        let local = scalars[..<at], domain = scalars[(at + 1)...]
        guard !local.isEmpty, let first = domain.first, let last = domain.last else { return false }
        return first != "." && last != "." && domain.contains(".")
    }
}
