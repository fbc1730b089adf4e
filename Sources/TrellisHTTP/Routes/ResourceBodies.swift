import Foundation
import TrellisDomain
import TrellisStore

// Clients, people, contacts, time off, roles, assignments and baselines as the contract (docs/openapi.yaml) shows
// them: types of the HTTP layer, with the domain's typed ids (written as lowercase UUIDs), built from the store's
// rows. Absent optional fields are left out, as before.

struct ClientBody: Codable, Sendable, Hashable {
    var id: ClientID
    var name: String
    var slug: String
    var industry: String?
    var timeZone: String
    var status: ClientStatus
    var channels: [Channel]
    var goals: [Goal]
    var archivedAt: Date?
    var version: Int
    var createdAt: Date
    var updatedAt: Date

    init(_ r: ClientRecord) {
        id = ClientID(r.id)
        name = r.name
        slug = r.slug
        industry = r.industry
        timeZone = r.timeZone
        status = r.status
        channels = r.channels
        goals = r.goals
        archivedAt = r.archivedAt
        version = r.version
        createdAt = r.createdAt
        updatedAt = r.updatedAt
    }
}

struct MemberBody: Codable, Sendable, Hashable {
    var id: MemberID
    var email: String
    var displayName: String
    var role: MemberRole
    var clientId: ClientID?
    var weeklyCapacityHours: Double
    var canSignIn: Bool
    var version: Int
    var createdAt: Date

    init(_ r: MemberRecord) {
        id = MemberID(r.id)
        email = r.email
        displayName = r.displayName
        role = r.role
        clientId = r.clientId.map(ClientID.init)
        weeklyCapacityHours = r.weeklyCapacityHours
        canSignIn = r.canSignIn
        version = r.version
        createdAt = r.createdAt
    }
}

struct ContactBody: Codable, Sendable, Hashable {
    var id: UUID
    var clientId: ClientID
    var name: String
    var email: String?
    var title: String?
    var weeklyCapacityHours: Double?
    var createdAt: Date

    init(_ r: ContactRecord) {
        id = r.id
        clientId = ClientID(r.clientId)
        name = r.name
        email = r.email
        title = r.title
        weeklyCapacityHours = r.weeklyCapacityHours
        createdAt = r.createdAt
    }
}

struct TimeOffBody: Codable, Sendable, Hashable {
    var id: UUID
    var memberId: MemberID
    var startsOn: LocalDate
    var endsOn: LocalDate
    var reason: String?

    init(_ r: TimeOffRecord) {
        id = r.id
        memberId = MemberID(r.memberId)
        startsOn = r.startsOn
        endsOn = r.endsOn
        reason = r.reason
    }
}

struct RoleBody: Codable, Sendable, Hashable {
    var id: UUID
    var key: String
    var name: String
    var description: String
    var builtIn: Bool
    var archivedAt: Date?

    init(_ r: RoleRecord) {
        id = r.id
        key = r.key
        name = r.name
        description = r.description
        builtIn = r.builtIn
        archivedAt = r.archivedAt
    }
}

struct AssignmentBody: Codable, Sendable, Hashable {
    struct AllocationBody: Codable, Sendable, Hashable {
        /// `percent` or `hoursPerWeek`.
        var unit: String
        var value: Double
    }

    var id: UUID
    var memberId: MemberID
    var clientId: ClientID
    var roleId: UUID
    var allocation: AllocationBody
    var startsOn: LocalDate
    var endsOn: LocalDate
    var commitment: Commitment
    var version: Int
    var createdAt: Date

    init(_ r: AssignmentRecord) {
        id = r.id
        memberId = MemberID(r.memberId)
        clientId = ClientID(r.clientId)
        roleId = r.roleId
        allocation = AllocationBody(unit: r.allocation.unit, value: r.allocation.value)
        startsOn = r.startsOn
        endsOn = r.endsOn
        commitment = r.commitment
        version = r.version
        createdAt = r.createdAt
    }
}

struct BaselineBody: Codable, Sendable, Hashable {
    var name: String
    var createdAt: Date
    var finish: Date
    /// Per task id: its start, finish and duration when the baseline was saved.
    var tasks: [String: TaskBaseline]

    init(_ r: BaselineRecord) {
        name = r.name
        createdAt = r.createdAt
        finish = r.finish
        tasks = r.tasks
    }
}

struct AgencyBody: Codable, Sendable, Hashable {
    var id: AgencyID
    var name: String
    var slug: String
    var createdAt: Date

    init(_ r: AgencyRecord) {
        id = AgencyID(r.id)
        name = r.name
        slug = r.slug
        createdAt = r.createdAt
    }
}

struct TokenBody: Codable, Sendable, Hashable {
    var id: UUID
    var memberId: MemberID
    var name: String
    var prefix: String
    var createdAt: Date
    var lastUsedAt: Date?
    var revokedAt: Date?
    var expiresAt: Date?

    init(_ r: TokenRecord) {
        id = r.id
        memberId = MemberID(r.memberId)
        name = r.name
        prefix = r.prefix
        createdAt = r.createdAt
        lastUsedAt = r.lastUsedAt
        revokedAt = r.revokedAt
        expiresAt = r.expiresAt
    }
}

struct NotificationBody: Codable, Sendable, Hashable {
    var id: UUID
    var memberId: MemberID
    var kind: String
    var title: String
    var body: String
    var clientId: ClientID?
    var planId: PlanID?
    var taskId: TaskID?
    var createdAt: Date
    var readAt: Date?

    init(_ r: NotificationRecord) {
        id = r.id
        memberId = MemberID(r.memberId)
        kind = r.kind
        title = r.title
        body = r.body
        clientId = r.clientId.map(ClientID.init)
        planId = r.planId.map(PlanID.init)
        taskId = r.taskId.map(TaskID.init)
        createdAt = r.createdAt
        readAt = r.readAt
    }
}

struct WebhookBody: Codable, Sendable, Hashable {
    var id: UUID
    var url: String
    var events: [String]
    var active: Bool
    var description: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ r: WebhookRecord) {
        id = r.id
        url = r.url
        events = r.events
        active = r.active
        description = r.description
        createdAt = r.createdAt
        updatedAt = r.updatedAt
    }
}

struct WebhookDeliveryBody: Codable, Sendable, Hashable {
    var id: UUID
    var webhookId: UUID
    var deliveryId: UUID
    var jobId: Int64?
    var event: String
    var attempt: Int
    var statusCode: Int?
    var error: String?
    var durationMs: Int
    var succeeded: Bool
    var attemptedAt: Date

    init(_ r: WebhookDeliveryRecord) {
        id = r.id
        webhookId = r.webhookId
        deliveryId = r.deliveryId
        jobId = r.jobId
        event = r.event
        attempt = r.attempt
        statusCode = r.statusCode
        error = r.error
        durationMs = r.durationMs
        succeeded = r.succeeded
        attemptedAt = r.attemptedAt
    }
}

struct ExportBody: Codable, Sendable, Hashable {
    var id: UUID
    var format: String
    var clientId: ClientID?
    var planId: PlanID?
    var status: String
    var plansDone: Int
    var plansTotal: Int
    var fileName: String?
    var error: String?
    var jobId: Int64?
    var createdAt: Date
    var finishedAt: Date?
    var expiresAt: Date?

    init(_ r: ExportRecord) {
        id = r.id
        format = r.format
        clientId = r.clientId.map(ClientID.init)
        planId = r.planId.map(PlanID.init)
        status = r.status
        plansDone = r.plansDone
        plansTotal = r.plansTotal
        fileName = r.fileName
        error = r.error
        jobId = r.jobId
        createdAt = r.createdAt
        finishedAt = r.finishedAt
        expiresAt = r.expiresAt
    }
}

/// A background job of the agency, as `/v1/jobs` shows it.
struct JobBody: Codable, Sendable, Hashable {
    var id: Int64
    var queue: String
    var kind: String
    var state: String
    var attempt: Int
    var maxAttempts: Int
    var runAt: Date
    var attemptedAt: Date?
    var finalizedAt: Date?
    var createdAt: Date
    var errors: [AgencyJobStore.ErrorEntry]

    init(_ r: AgencyJobStore.JobView) {
        id = r.id
        queue = r.queue
        kind = r.kind
        state = r.state
        attempt = r.attempt
        maxAttempts = r.maxAttempts
        runAt = r.runAt
        attemptedAt = r.attemptedAt
        finalizedAt = r.finalizedAt
        createdAt = r.createdAt
        errors = r.errors
    }
}
