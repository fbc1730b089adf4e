import Foundation
import PostgresNIO
import TrellisApplication
import TrellisDomain
import TrellisHTTP
import TrellisQueue
import TrellisStore

/// The demo agency of the README's first command: two client brands, people holding hybrid roles
/// across them, and a few assignments (one person deliberately over-allocated, so the workload view
/// shows its flag).
enum DemoData {
    static let agencySlug = "demo"
    static let ownerEmail = "olivia@northwind.example"
    static let password = "trellis-demo"

    struct Result: Sendable {
        var agency: AgencyID
        var created: Bool
    }

    static func seed(database: TenantDatabase, today: LocalDate) async throws -> Result {
        let logger = database.logger
        let credentials = CredentialStore(logger: logger)
        if let existing = try await database.withSystem({ try await credentials.agencyID(slug: agencySlug, on: $0) }) {
            return Result(agency: existing, created: false)
        }
        let agency = AgencyID(UUID())
        let hash = PasswordHashing.hash(password)
        try await database.withTenant(agency) { connection in
            let people = PeopleStore(logger: logger)
            let clients = ClientStore(logger: logger)
            let roles = RoleStore(logger: logger)
            let assignments = AssignmentStore(logger: logger)
            _ = try await credentials.createAgency(id: agency, name: "Northwind Community Studio", slug: agencySlug, on: connection)
            try await roles.seedCatalog(on: connection)

            let aurora = try await clients.create(id: UUID(), ClientDraft(
                name: "Café Aurora", slug: "cafe-aurora", industry: "Specialty coffee roaster", timeZone: "Europe/Madrid",
                status: .onboarding,
                channels: [TrellisDomain.Channel(network: "instagram", handle: "@cafeaurora", audienceSize: 18_400),
                           TrellisDomain.Channel(network: "facebook", handle: "CafeAuroraMadrid", audienceSize: 6_200),
                           TrellisDomain.Channel(network: "newsletter", handle: "Aurora Notes", audienceSize: 2_900)],
                goals: [Goal(name: "Grow the Instagram community", metric: "followers", target: 25_000),
                        Goal(name: "Online orders from social", metric: "orders per month", target: 400)]), on: connection)
            let brightside = try await clients.create(id: UUID(), ClientDraft(
                name: "Brightside Bikes", slug: "brightside-bikes", industry: "Urban cycling retail", timeZone: "America/New_York",
                status: .active,
                channels: [TrellisDomain.Channel(network: "instagram", handle: "@brightsidebikes", audienceSize: 42_000),
                           TrellisDomain.Channel(network: "youtube", handle: "BrightsideBikes", audienceSize: 9_800),
                           TrellisDomain.Channel(network: "linkedin", handle: "brightside-bikes", audienceSize: 3_100)],
                goals: [Goal(name: "Customer questions answered within 2 hours", metric: "median response minutes", target: 120),
                        Goal(name: "Workshop sign-ups", metric: "sign-ups per month", target: 150)]), on: connection)

            func member(_ email: String, _ name: String, _ role: MemberRole, capacity: Double, client: ClientRecord? = nil, signIn: Bool = false) async throws -> MemberRecord {
                try await people.createMember(id: UUID(), MemberDraft(
                    email: email, displayName: name, role: role, clientID: client.map { ClientID($0.id) }, weeklyCapacityHours: capacity),
                    passwordHash: signIn ? hash : nil, on: connection)
            }
            _ = try await member(ownerEmail, "Olivia Northwind", .owner, capacity: 40, signIn: true)
            let marco = try await member("marco@northwind.example", "Marco Ruiz", .manager, capacity: 40, signIn: true)
            let ana = try await member("ana@northwind.example", "Ana Lima", .consultant, capacity: 25, signIn: true)
            let ben = try await member("ben@northwind.example", "Ben Okafor", .consultant, capacity: 40, signIn: true)
            _ = try await member("lucia@cafeaurora.example", "Lucía Ortega (Café Aurora)", .clientViewer, capacity: 0, client: aurora, signIn: true)
            _ = try await people.createContact(id: UUID(), ContactDraft(
                clientID: ClientID(aurora.id), name: "Lucía Ortega", email: "lucia@cafeaurora.example", title: "Founder", weeklyCapacityHours: nil), on: connection)
            _ = try await people.createContact(id: UUID(), ContactDraft(
                clientID: ClientID(brightside.id), name: "Sam Carter", email: "sam@brightside.example", title: "Marketing lead",
                weeklyCapacityHours: 10), on: connection)

            // A six-month engagement that began four weeks before today's week, as in the articles.
            let start = ISOWeek(containing: today).monday.adding(days: -28)
            let end = start.adding(days: 26 * 7 - 3)
            let role = { (key: String) in try await roles.byKey(key, on: connection).id }
            func assign(_ who: MemberRecord, _ client: ClientRecord, _ roleKey: String, _ allocation: Allocation, _ commitment: Commitment = .hard) async throws {
                _ = try await assignments.create(id: UUID(), refs: .init(member: who.id, client: client.id, role: try await role(roleKey)),
                    AssignmentDraft(allocation: allocation, startsOn: start, endsOn: end, commitment: commitment), on: connection)
            }
            // Ana is the hybrid: community lead for Aurora and social media for Brightside.
            try await assign(ana, aurora, "community-manager", .percent(60))
            try await assign(ana, brightside, "social-media-manager", .percent(40))
            // Ben runs PR and customer service, and a soft pitch pushes him over.
            try await assign(ben, aurora, "public-relations", .percent(50))
            try await assign(ben, brightside, "customer-service", .percent(40))
            try await assign(ben, brightside, "marketing", .hoursPerWeek(8), .soft)
            try await assign(marco, aurora, "strategy", .hoursPerWeek(6))
            try await assign(marco, brightside, "strategy", .hoursPerWeek(6))
            // Each brand's onboarding plan from the built-in template, so a new user sees a real timeline.
            let plans = PlanStore(logger: logger)
            for client in [aurora, brightside] {
                let plan = try await plans.createFromTemplate(
                    client: client.id, templateID: PlanStore.builtInTemplateID, startsOn: start, name: nil, on: connection)
                let scheduled = try await PlanOperations.scheduleNew(
                    PlanID(plan), plans: plans, queue: JobQueue(client: database.client, logger: logger), on: connection)
                try await recordProgress(scheduled, plans: plans, on: connection)
                // A baseline as the plan was agreed, so the plan page draws its ghost bars.
                _ = try await plans.saveBaseline(plan: plan, name: "Agreed plan", scheduled.timeline, on: connection)
            }
            _ = try await people.addTimeOff(id: UUID(), member: ben.id,
                TimeOff(startsOn: start.adding(days: 35), endsOn: start.adding(days: 39), reason: "Holiday"),
                on: connection)
        }
        return Result(agency: agency, created: true)
    }

    /// Work the demo team has done by now: tasks that should be finished are, and the ones under way are partly done,
    /// so Today shows plans on track rather than everything late.
    static func recordProgress(_ scheduled: ScheduledPlan, plans: PlanStore, on connection: TenantConnection) async throws {
        var plan = scheduled.plan
        let now = Date()
        var delta = PlanDelta()
        for task in scheduled.timeline.tasks where !task.isSummary {
            guard let id = TaskID(engineID: task.id) else { continue }
            let percent = task.earlyFinish <= now ? 100 : (task.earlyStart < now ? 40 : 0)
            guard percent > 0 else { continue }
            var patch = TaskPatch()
            patch.percentComplete = percent
            let one = try plan.apply(.updateTask(id, patch))
            for changed in one.writtenTasks { delta.touch(changed) }
        }
        _ = try await plans.write(delta, of: plan, notices: [], assignees: [], bumpVersion: false, on: connection)
    }
}
