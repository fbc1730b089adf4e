import Foundation
import Testing
@testable import TrellisDomain

@Suite("Onboarding templates")
struct OnboardingTemplateTests {
    let template = OnboardingTemplate.communityLeadSixMonths

    @Test func builtInTemplateIsValidAndFollowsTheArticles() {
        #expect(template.validate().isEmpty)
        #expect(template.name == "Community lead onboarding — six months, part-time, Mon–Fri 09:00–14:00")
        #expect((25...40).contains(template.tasks.count))
        #expect(template.phases.count == 5)
        let immersion = Set(template.phases[0].tasks.map(\.key))
        #expect(immersion.isSuperset(of: ["learn-departments", "learn-business-lines", "learn-products", "meet-staff", "culture-ethics", "learn-suppliers"]))
        let keys = Set(template.tasks.map(\.key))
        #expect(keys.isSuperset(of: ["online-audit", "target-audiences", "channel-plan", "content-calendar", "launch",
                                     "monthly-review-1", "train-in-house-lead", "handover-complete"]))
        #expect(template.tasks.first { $0.key == "launch" }?.isMilestone == true)
        #expect(template.tasks.last?.isMilestone == true)
        #expect(Set(template.tasks.map(\.roleKey)).isSubset(of: OnboardingTemplate.builtInRoleKeys))
        #expect(Set(template.tasks.map(\.roleKey)).count >= 8)
        #expect(Set(template.tasks.flatMap(\.dependencies).map(\.kind)).count >= 3)
        #expect(template.tasks.flatMap(\.dependencies).contains { $0.lag.amount < 0 })
    }

    @Test func instantiatesAndSchedulesToAboutSixMonths() throws {
        let calendar = try WorkCalendar.partTimeMornings(timeZone: "Europe/Madrid")
        let instance = try template.instantiate(calendar: calendar, planID: "plan-42")
        #expect(instance.tasks.count == template.tasks.count + template.phases.count)
        #expect(instance.tasks.filter(\.isPhase).count == 5)
        let start = localInstant(2026, 1, 5, 9, zone: "Europe/Madrid")
        let timeline = try Scheduler.schedule(SchedulePlan(start: start, calendar: calendar, tasks: instance.planTasks, dependencies: instance.dependencies))
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = calendar.timeZone
        let fiveAndAHalf = gregorian.date(byAdding: DateComponents(month: 5, day: 15), to: start)!
        let sixAndAHalf = gregorian.date(byAdding: DateComponents(month: 6, day: 15), to: start)!
        #expect(timeline.finish > fiveAndAHalf && timeline.finish < sixAndAHalf, "finish \(timeline.finish)")
        // Roughly 26 weeks of five 5-hour days.
        #expect((120 * 300...135 * 300).contains(timeline.finishMinute))
        let byKey = Dictionary(uniqueKeysWithValues: zip(instance.tasks.map(\.templateKey), timeline.tasks))
        #expect(byKey["handover-complete"]?.earlyFinish == timeline.finish)
        #expect(byKey["learn-departments"]?.earlyStart == start)
        #expect(byKey["learn-departments"]?.durationMinutes == 6 * 300)
        #expect(byKey["immersion"]?.isSummary == true)
        // Month 1 is immersion, launch is in month 3.
        #expect(byKey["immersion-complete"]!.earlyFinish < gregorian.date(byAdding: .month, value: 1, to: start)!)
        #expect(byKey["launch"]!.earlyFinish > gregorian.date(byAdding: .month, value: 2, to: start)!)
        #expect(byKey["launch"]!.earlyFinish < gregorian.date(byAdding: .month, value: 3, to: start)!)
        #expect(timeline.criticalPath.count >= 10)
        #expect(byKey["run-community"]?.isCritical == true)
        #expect(byKey["pr-outreach"]?.isCritical == false)
    }

    @Test func daysFollowTheCalendarsDayLength() throws {
        let fullTime = try WorkCalendar(timeZoneID: "Europe/Madrid", weekly: Dictionary(uniqueKeysWithValues: Weekday.workweek.map {
            ($0, [WorkingInterval(from: "09:00", to: "13:00")!, WorkingInterval(from: "14:00", to: "18:00")!])
        }))
        let instance = try template.instantiate(calendar: fullTime) { "id-\($0)" }
        let departments = instance.tasks.first { $0.templateKey == "learn-departments" }
        #expect(departments?.planTask.durationMinutes == 6 * 480)
        #expect(departments?.planTask.parentID == "id-immersion")
        #expect(departments?.roleKey == "community-manager")
        #expect(departments?.checklist.isEmpty == false)
        let lead = instance.dependencies.first { $0.successorID == "id-target-audiences" }
        #expect(lead?.lagMinutes == -2 * 480)
        #expect(lead?.kind == .finishToStart)
    }

    @Test func deterministicIDs() throws {
        let calendar = try WorkCalendar.partTimeMornings(timeZone: "UTC")
        let a = try template.instantiate(calendar: calendar, planID: "plan-1")
        let again = try template.instantiate(calendar: calendar, planID: "plan-1")
        let other = try template.instantiate(calendar: calendar, planID: "plan-2")
        #expect(a == again)
        let ids = a.planTasks.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(Set(ids).isDisjoint(with: other.planTasks.map(\.id)))
        for id in ids {
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil, "\(id) is not a UUID")
            #expect(Array(id)[14] == "8")
        }
        #expect(OnboardingTemplate.deterministicID(planID: "p", key: "k") == OnboardingTemplate.deterministicID(planID: "p", key: "k"))
        #expect(OnboardingTemplate.deterministicID(planID: "p", key: "ak") != OnboardingTemplate.deterministicID(planID: "pa", key: "k"))
    }

    @Test func validationReportsFieldLevelErrors() {
        let broken = OnboardingTemplate(name: " ", description: "", phases: [
            TemplatePhase(key: "p1", name: "", tasks: [
                TemplateTask(key: "a", name: "A", duration: .days(1), roleKey: "community-manager", dependencies: [.fs("c")]),
                TemplateTask(key: "b", name: "", duration: .hours(0), roleKey: "Community Manager", checklist: [""],
                             dependencies: [.fs("a"), .fs("nope"), .fs("b")]),
                TemplateTask(key: "c", name: "C", duration: .days(2), roleKey: "strategy", dependencies: [.ss("b")]),
                TemplateTask.milestone("a", "Duplicate key", roleKey: "strategy", after: []),
                TemplateTask(key: "m", name: "M", duration: .days(1), isMilestone: true, roleKey: "strategy"),
            ]),
            TemplatePhase(key: "empty", name: "Empty", tasks: []),
        ])
        let issues = broken.validate()
        let fields = Set(issues.map(\.field))
        #expect(fields.isSuperset(of: [
            "name", "phases[0].name", "phases[0].tasks[0].key", "phases[0].tasks[3].key",
            "phases[0].tasks[1].name", "phases[0].tasks[1].roleKey", "phases[0].tasks[1].duration",
            "phases[0].tasks[1].checklist[0]", "phases[0].tasks[1].dependencies[1].predecessorKey",
            "phases[0].tasks[1].dependencies[2].predecessorKey", "phases[0].tasks[4].duration", "phases[1].tasks",
        ]))
        let cycle = issues.first { $0.message.hasPrefix("dependency cycle") }
        #expect(cycle != nil)
        #expect(cycle?.message.contains("a → b → c") == true || cycle?.message.contains("b → c → a") == true || cycle?.message.contains("c → a → b") == true)
        #expect(issues.first { $0.field == "phases[0].tasks[1].dependencies[1].predecessorKey" }?.message.contains("nope") == true)
        #expect(throws: TemplateValidationError.self) { try broken.instantiate(calendar: .alwaysWorking) { $0 } }
    }

    @Test func acyclicTemplateHasNoCycle() {
        #expect(template.dependencyCycle() == nil)
        var looped = template
        looped.phases[0].tasks[0].dependencies = [.fs("handover-complete")]
        let cycle = looped.dependencyCycle()
        #expect(cycle?.contains("kickoff") == true && cycle?.contains("handover-complete") == true)
        #expect(looped.validate().contains { $0.message.hasPrefix("dependency cycle") })
    }

    @Test func codableRoundTrip() throws {
        let data = try JSONEncoder().encode(template)
        #expect(try JSONDecoder().decode(OnboardingTemplate.self, from: data) == template)
    }
}
