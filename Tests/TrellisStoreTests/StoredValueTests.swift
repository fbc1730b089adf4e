import Foundation
import PostgresNIO
import Testing
import TrellisDomain
import TrellisQueue
import TrellisStore
import TrellisTestSupport

/// A value this build does not know — as a later migration would add one — is an error when read, never a
/// default that the next write would make true.
@Suite("Unknown stored values")
struct StoredValueTests {
    @Test func anUnknownMemberRoleIsAnErrorNotAConsultant() async throws {
        try await withTestDatabase { db in
            let owner = MemberDraft(email: "owner@a.example", displayName: "Owner", role: .owner, clientID: nil, weeklyCapacityHours: 40)
            let (agency, ownerID, _) = try await AgencyProvisioning.createAgency(
                database: db.tenantDatabase, name: "A", slug: "agency-a", owner: owner, passwordHash: nil)
            try await db.owner.query("ALTER TYPE member_role ADD VALUE 'auditor'", logger: db.logger)
            try await db.owner.query("UPDATE members SET role = 'auditor' WHERE id = \(ownerID)", logger: db.logger)
            let store = PeopleStore(logger: db.logger)
            await #expect(throws: UnknownStoredValue(column: "members.role", value: "auditor")) {
                try await db.tenantDatabase.withTenant(agency) { try await store.member(ownerID, on: $0) }
            }
        }
    }

    @Test func anUnknownJobStateIsAnErrorNotDiscarded() async throws {
        try await withTestDatabase { db in
            let queue = JobQueue(client: db.app, logger: db.logger)
            let id = try await queue.enqueue(NewJob(kind: "system.noop", queue: "default"))
            try await db.owner.query("ALTER TYPE trellis_job_state ADD VALUE 'parked'", logger: db.logger)
            try await db.owner.query("UPDATE trellis_jobs SET state = 'parked' WHERE id = \(id)", logger: db.logger)
            await #expect(throws: UnknownJobValue(column: "trellis_jobs.state", value: "parked")) { try await queue.job(id) }
        }
    }
}
