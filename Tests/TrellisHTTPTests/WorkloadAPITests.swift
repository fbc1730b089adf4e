import Foundation
import Testing

@Suite("Workload")
struct WorkloadAPITests {
    func assign(_ api: APIHarness, member: String, client: String, role: String, percent: Int, commitment: String = "hard",
                from: String = "2026-03-02", to: String = "2026-03-27") async throws {
        let reply = try await api.call(.post, "/v1/assignments", token: api.tokenA, json: """
            {"memberId":"\(member)","clientId":"\(client)","roleId":"\(role)","allocation":{"percent":\(percent)},
             "startsOn":"\(from)","endsOn":"\(to)","commitment":"\(commitment)"}
            """)
        #expect(reply.status == 201, "\(reply.text)")
    }

    func week(_ rows: [[String: Any]], member: String, _ iso: String) -> [String: Any] {
        let row = rows.first { $0["memberId"] as? String == member }
        return (row?["weeks"] as? [[String: Any]])?.first { $0["week"] as? String == iso } ?? [:]
    }

    @Test func sixtyPlusFiftyIsFlaggedSixtyPlusFortyIsNot() async throws {
        try await APIHarness.run { api in
            let aurora = try await api.createClient("Aurora")
            let bikes = try await api.createClient("Bikes")
            let cm = try await api.roleID("community-manager")
            let pr = try await api.roleID("public-relations")
            let over = try await api.member(.consultant, capacity: 40)
            let fine = try await api.member(.consultant, capacity: 40)
            try await assign(api, member: over.id, client: aurora, role: cm, percent: 60)
            try await assign(api, member: over.id, client: bikes, role: pr, percent: 50)
            try await assign(api, member: fine.id, client: aurora, role: cm, percent: 60)
            try await assign(api, member: fine.id, client: bikes, role: pr, percent: 40)

            let reply = try await api.call(.get, "/v1/workload?from=2026-W10&to=2026-W14", token: api.tokenA)
            #expect(reply.status == 200)
            let rows = reply.array
            let overWeek = week(rows, member: over.id, "2026-W10")
            #expect(overWeek["hardHours"] as? Double == 44)
            #expect(overWeek["availableHours"] as? Double == 40)
            #expect(overWeek["overAllocated"] as? Bool == true)
            let fineWeek = week(rows, member: fine.id, "2026-W10")
            #expect(fineWeek["hardHours"] as? Double == 40)
            #expect(fineWeek["overAllocated"] as? Bool == false)
            // After the assignments end (2026-03-27, end of W13) nobody is loaded.
            #expect(week(rows, member: over.id, "2026-W14")["hardHours"] as? Double == 0)
        }
    }

    @Test func softAllocationsAreShownApartAndTimeOffReducesCapacity() async throws {
        try await APIHarness.run { api in
            let aurora = try await api.createClient("Aurora")
            let cm = try await api.roleID("community-manager")
            let person = try await api.member(.consultant, capacity: 40)
            try await assign(api, member: person.id, client: aurora, role: cm, percent: 60)
            try await assign(api, member: person.id, client: aurora, role: cm, percent: 30, commitment: "soft")
            _ = try await api.call(.post, "/v1/members/\(person.id)/time-off", token: api.tokenA, json: #"{"startsOn":"2026-03-09","endsOn":"2026-03-10"}"#)
            let rows = try await api.call(.get, "/v1/workload?from=2026-W10&to=2026-W11&memberId=\(person.id)", token: api.tokenA).array
            #expect(rows.count == 1)
            let w10 = week(rows, member: person.id, "2026-W10")
            #expect(w10["hardHours"] as? Double == 24)
            #expect(w10["softHours"] as? Double == 12)
            #expect(w10["overAllocated"] as? Bool == false)
            #expect(w10["overAllocatedIncludingSoft"] as? Bool == false)
            // Two days off: 24 h available, 24 h hard still fits, but the soft 12 h would not.
            let w11 = week(rows, member: person.id, "2026-W11")
            #expect(w11["availableHours"] as? Double == 24)
            #expect(w11["overAllocated"] as? Bool == false)
            #expect(w11["overAllocatedIncludingSoft"] as? Bool == true)
            let bad = try await api.call(.get, "/v1/workload?from=2026-W60", token: api.tokenA)
            #expect(bad.status == 422)
            #expect(bad.failingFields == ["from", "to"])
        }
    }
}
