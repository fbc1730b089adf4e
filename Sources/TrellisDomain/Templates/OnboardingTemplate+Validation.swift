/// One problem with a template, addressed by a field path such as `phases[1].tasks[0].dependencies[2].predecessorKey`.
public struct TemplateIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

public struct TemplateValidationError: Error, Sendable, Hashable {
    public var issues: [TemplateIssue]
}

extension OnboardingTemplate {
    /// Longest accepted duration or lag amount in any unit (keeps instantiation far from overflow).
    public static let maximumAmount = 1_000_000

    /// Every problem with the template; empty when it can be instantiated.
    public func validate() -> [TemplateIssue] {
        var issues: [TemplateIssue] = []
        func issue(_ field: String, _ message: String) { issues.append(TemplateIssue(field: field, message: message)) }
        func blank(_ s: String) -> Bool { s.allSatisfy(\.isWhitespace) }

        if blank(name) { issue("name", "must not be empty") }
        if phases.isEmpty { issue("phases", "a template needs at least one phase") }

        // Keys share one namespace: plan task ids are derived from them.
        var keyCount: [String: Int] = [:]
        for phase in phases {
            keyCount[phase.key, default: 0] += 1
            for task in phase.tasks { keyCount[task.key, default: 0] += 1 }
        }
        let taskKeys = Set(tasks.map(\.key))

        for (p, phase) in phases.enumerated() {
            let pf = "phases[\(p)]"
            if blank(phase.key) { issue("\(pf).key", "must not be empty") }
            else if keyCount[phase.key, default: 0] > 1 { issue("\(pf).key", "\"\(phase.key)\" is used more than once") }
            if blank(phase.name) { issue("\(pf).name", "must not be empty") }
            if phase.tasks.isEmpty { issue("\(pf).tasks", "a phase needs at least one task") }
            for (t, task) in phase.tasks.enumerated() {
                let tf = "\(pf).tasks[\(t)]"
                if blank(task.key) { issue("\(tf).key", "must not be empty") }
                else if keyCount[task.key, default: 0] > 1 { issue("\(tf).key", "\"\(task.key)\" is used more than once") }
                if blank(task.name) { issue("\(tf).name", "must not be empty") }
                if !OnboardingTemplate.isRoleKey(task.roleKey) { issue("\(tf).roleKey", "must be a lowercase role key like \"community-manager\"") }
                if task.duration.amount < 0 || task.duration.amount > OnboardingTemplate.maximumAmount {
                    issue("\(tf).duration", "must be between 0 and \(OnboardingTemplate.maximumAmount)")
                } else if task.isMilestone && task.duration.amount != 0 {
                    issue("\(tf).duration", "a milestone has no duration")
                } else if !task.isMilestone && task.duration.amount == 0 {
                    issue("\(tf).duration", "must be positive (or mark the task as a milestone)")
                }
                for (c, item) in task.checklist.enumerated() where blank(item) {
                    issue("\(tf).checklist[\(c)]", "must not be empty")
                }
                for (d, dependency) in task.dependencies.enumerated() {
                    let df = "\(tf).dependencies[\(d)]"
                    if dependency.predecessorKey == task.key {
                        issue("\(df).predecessorKey", "a task cannot depend on itself")
                    } else if !taskKeys.contains(dependency.predecessorKey) {
                        issue("\(df).predecessorKey", "unknown task key \"\(dependency.predecessorKey)\"")
                    }
                    if abs(dependency.lag.amount) > OnboardingTemplate.maximumAmount {
                        issue("\(df).lag", "must be within ±\(OnboardingTemplate.maximumAmount)")
                    }
                }
            }
        }
        if let cycle = dependencyCycle() {
            let (p, t) = location(of: cycle[0])
            issue("phases[\(p)].tasks[\(t)].dependencies", "dependency cycle: \(cycle.joined(separator: " → ")) → \(cycle[0])")
        }
        return issues
    }

    static func isRoleKey(_ key: String) -> Bool {
        !key.isEmpty && key.first != "-" && key.last != "-"
            && key.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    private func location(of key: String) -> (Int, Int) {
        for (p, phase) in phases.enumerated() {
            if let t = phase.tasks.firstIndex(where: { $0.key == key }) { return (p, t) }
        }
        return (0, 0)
    }

    /// One cycle among task dependencies (keys in link order), found by depth-first search; nil when acyclic.
    func dependencyCycle() -> [String]? {
        let all = tasks
        let index = Dictionary(all.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
        // Successor lists: predecessor → tasks that depend on it.
        var successors = [[Int]](repeating: [], count: all.count)
        for (i, task) in all.enumerated() {
            for d in task.dependencies {
                if let p = index[d.predecessorKey], p != i { successors[p].append(i) }
            }
        }
        var state = [UInt8](repeating: 0, count: all.count)  // 0 new, 1 on stack, 2 done
        var stack: [(node: Int, next: Int)] = []
        for root in all.indices where state[root] == 0 {
            stack.append((root, 0))
            state[root] = 1
            while let top = stack.last {
                if top.next < successors[top.node].count {
                    stack[stack.count - 1].next += 1
                    let w = successors[top.node][top.next]
                    if state[w] == 1 {
                        let from = stack.firstIndex { $0.node == w } ?? 0
                        return stack[from...].map { all[$0.node].key }
                    }
                    if state[w] == 0 {
                        state[w] = 1
                        stack.append((w, 0))
                    }
                } else {
                    state[top.node] = 2
                    stack.removeLast()
                }
            }
        }
        return nil
    }
}
