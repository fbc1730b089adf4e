/// What a signed-in person may do inside their agency.
public enum MemberRole: String, Sendable, Codable, CaseIterable {
    case owner
    case manager
    case consultant
    /// A client stakeholder: read-only, and only on their own client organization.
    case clientViewer = "client_viewer"
}

/// The actions the API guards; the tenant policy below decides who may perform each.
public enum Action: Sendable, Hashable {
    case readClients
    case writeClients
    case readPeople
    case writePeople
    case manageRoles
    case readAssignments
    case writeAssignments
    case readWorkload
    case manageTokens
    case readPlans
    case writePlans
    case manageTemplates
    /// Webhooks and the agency's background jobs.
    case manageIntegrations
    case manageAgency
}

/// Who is acting: resolved from an API token or a session, never from the request body.
public struct Principal: Sendable, Hashable {
    public var agencyID: AgencyID
    public var memberID: MemberID
    public var role: MemberRole
    /// Set for client viewers: the one client organization they may see.
    public var clientID: ClientID?

    public init(agencyID: AgencyID, memberID: MemberID, role: MemberRole, clientID: ClientID? = nil) {
        self.agencyID = agencyID
        self.memberID = memberID
        self.role = role
        self.clientID = clientID
    }
}

/// The tenant policy: which role may take which action. Kept in one table so a reader
/// finds every permission in one place.
public enum TenantPolicy {
    public static func allows(_ role: MemberRole, _ action: Action) -> Bool {
        switch (role, action) {
        case (.owner, _):
            return true
        case (.manager, .manageAgency):
            return false
        case (.manager, _):
            return true
        case (.consultant, .readClients), (.consultant, .readPeople), (.consultant, .readAssignments),
             (.consultant, .readWorkload), (.consultant, .readPlans), (.consultant, .writePlans),
             (.consultant, .writeClients):
            return true
        case (.consultant, _):
            return false
        case (.clientViewer, .readClients), (.clientViewer, .readPlans):
            return true
        case (.clientViewer, _):
            return false
        }
    }

    /// A client viewer sees only their own client; everyone else sees every client of the agency.
    public static func canSee(client: ClientID, as principal: Principal) -> Bool {
        principal.role != .clientViewer || principal.clientID == client
    }
}
