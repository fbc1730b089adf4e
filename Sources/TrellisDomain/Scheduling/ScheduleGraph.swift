/// The plan as an activity-on-node graph, indexed by `Int` for the passes.
///
/// Every task is a node (its index in the plan). A summary task's node is a zero-length "start event";
/// each summary gets a second zero-length "finish event" node. Hierarchy becomes ordinary links:
/// summary start → child (SS 0) and child → summary finish (FF 0). Links into a summary attach to its
/// start event (so they hold back every child); links out of a summary leave from its start or finish
/// event depending on the link kind. Edges are stored twice in compressed (CSR) form: by successor for
/// the forward pass and by predecessor for the backward pass.
struct ScheduleGraph {
    static let fs: UInt8 = 0, ss: UInt8 = 1, ff: UInt8 = 2, sf: UInt8 = 3

    let taskCount: Int
    let nodeCount: Int
    /// Task index → parent task index, or -1.
    let parent: [Int]
    let isSummary: [Bool]
    /// Task index → depth in the phase hierarchy (0 for top level).
    let depth: [Int]
    /// Node → the task it belongs to.
    let nodeTask: [Int]
    /// Node → whether it is a summary's start or finish event rather than a real task.
    let isEvent: [Bool]
    /// Task index → node holding its finish (itself, or its summary finish event).
    let finishNode: [Int]

    // Incoming edges of each node: predOffsets[v]..<predOffsets[v+1].
    let predOffsets: [Int]
    let predNode: [Int]
    let predKind: [UInt8]
    let predLag: [Int]
    // Outgoing edges of each node.
    let succOffsets: [Int]
    let succNode: [Int]
    let succKind: [UInt8]
    let succLag: [Int]

    /// Nodes in topological order (Kahn).
    let order: [Int]

    init(tasks: [PlanTask], dependencies: [TaskDependency]) throws(SchedulingError) {
        let n = tasks.count
        taskCount = n
        let index: TaskIDIndex
        switch TaskIDIndex.build(tasks.map(\.id)) {
        case .success(let built): index = built
        case .failure(let duplicate): throw .duplicateTaskID(duplicate.id)
        }

        // Hierarchy.
        var parent = [Int](repeating: -1, count: n)
        var isSummary = [Bool](repeating: false, count: n)
        for i in tasks.indices {
            guard let parentID = tasks[i].parentID else { continue }
            guard let p = index[parentID] else { throw .unknownParent(taskID: tasks[i].id, parentID: parentID) }
            parent[i] = p
            isSummary[p] = true
        }
        let depth = try ScheduleGraph.depths(parent: parent, tasks: tasks)
        self.parent = parent
        self.isSummary = isSummary
        self.depth = depth

        for i in tasks.indices where !isSummary[i] {
            if tasks[i].durationMinutes < 0 { throw .negativeDuration(taskID: tasks[i].id) }
            if !(0...100).contains(tasks[i].percentComplete) { throw .invalidPercentComplete(taskID: tasks[i].id) }
            if let s = tasks[i].actualStart, let f = tasks[i].actualFinish, f < s {
                throw .actualFinishBeforeActualStart(taskID: tasks[i].id)
            }
        }

        // Links: resolve ids, report unknown ids and self-links by name.
        var unknown: [String] = [], unknownSeen = Set<String>(), selfLinked: [String] = []
        var linkFrom = [Int](), linkTo = [Int](), linkKind = [UInt8](), linkLag = [Int]()
        linkFrom.reserveCapacity(dependencies.count)
        linkTo.reserveCapacity(dependencies.count)
        linkKind.reserveCapacity(dependencies.count)
        linkLag.reserveCapacity(dependencies.count)
        let predecessors = index.resolve(dependencies.map(\.predecessorID))
        let successors = index.resolve(dependencies.map(\.successorID))
        for (e, link) in dependencies.enumerated() {
            let p = predecessors[e], s = successors[e]
            guard p >= 0, s >= 0 else {
                if p < 0, unknownSeen.insert(link.predecessorID).inserted { unknown.append(link.predecessorID) }
                if s < 0, unknownSeen.insert(link.successorID).inserted { unknown.append(link.successorID) }
                continue
            }
            if p == s {
                if !selfLinked.contains(link.predecessorID) { selfLinked.append(link.predecessorID) }
                continue
            }
            if isSummary[s] && (link.kind == .finishToFinish || link.kind == .startToFinish) {
                throw .unsupportedSummaryLink(predecessorID: link.predecessorID, successorID: link.successorID)
            }
            if (isSummary[p] && ScheduleGraph.isAncestor(p, of: s, parent: parent))
                || (isSummary[s] && ScheduleGraph.isAncestor(s, of: p, parent: parent)) {
                throw .unsupportedSummaryLink(predecessorID: link.predecessorID, successorID: link.successorID)
            }
            linkFrom.append(p)
            linkTo.append(s)
            linkKind.append(ScheduleGraph.code(link.kind))
            linkLag.append(link.lagMinutes)
        }
        if !unknown.isEmpty { throw .unknownTaskIDs(unknown) }
        if !selfLinked.isEmpty { throw .selfDependency(taskIDs: selfLinked) }

        // Nodes: tasks, then one finish event per summary.
        var finishNode = Array(0..<n)
        var nodeTask = Array(0..<n)
        var isEvent = isSummary
        for i in 0..<n where isSummary[i] {
            finishNode[i] = nodeTask.count
            nodeTask.append(i)
            isEvent.append(true)
        }
        let nodeCount = nodeTask.count
        self.nodeCount = nodeCount
        self.nodeTask = nodeTask
        self.isEvent = isEvent
        self.finishNode = finishNode

        // Edge list: links, then hierarchy.
        var from = [Int](), to = [Int](), kind = [UInt8](), lag = [Int]()
        let edgeEstimate = linkFrom.count + 2 * n
        from.reserveCapacity(edgeEstimate); to.reserveCapacity(edgeEstimate)
        kind.reserveCapacity(edgeEstimate); lag.reserveCapacity(edgeEstimate)
        for e in linkFrom.indices {
            let p = linkFrom[e], k = linkKind[e]
            // Links leave a summary from its finish event when they depend on its finish.
            let finishBased = k == ScheduleGraph.fs || k == ScheduleGraph.ff
            from.append(finishBased ? finishNode[p] : p)
            to.append(linkTo[e])
            kind.append(k)
            lag.append(linkLag[e])
        }
        for i in 0..<n where parent[i] >= 0 {
            let p = parent[i]
            from.append(p); to.append(i); kind.append(ScheduleGraph.ss); lag.append(0)
            from.append(finishNode[i]); to.append(finishNode[p]); kind.append(ScheduleGraph.ff); lag.append(0)
        }

        (predOffsets, predNode, predKind, predLag) = ScheduleGraph.compress(nodeCount: nodeCount, keys: to, others: from, kind: kind, lag: lag)
        (succOffsets, succNode, succKind, succLag) = ScheduleGraph.compress(nodeCount: nodeCount, keys: from, others: to, kind: kind, lag: lag)

        // Kahn's topological sort.
        var remaining = [Int](repeating: 0, count: nodeCount)
        for v in 0..<nodeCount { remaining[v] = predOffsets[v + 1] - predOffsets[v] }
        var order = [Int]()
        order.reserveCapacity(nodeCount)
        for v in 0..<nodeCount where remaining[v] == 0 { order.append(v) }
        var head = 0
        while head < order.count {
            let v = order[head]
            head += 1
            for e in succOffsets[v]..<succOffsets[v + 1] {
                let w = succNode[e]
                remaining[w] -= 1
                if remaining[w] == 0 { order.append(w) }
            }
        }
        self.order = order
        if order.count < nodeCount {
            throw .cycle(taskIDs: cycle(remaining: remaining, tasks: tasks))
        }
    }

    /// One cycle among the nodes Kahn could not order: walk back through unordered predecessors until a
    /// node repeats. Every unordered node has an unordered predecessor, so the walk always closes.
    private func cycle(remaining: [Int], tasks: [PlanTask]) -> [String] {
        guard var v = remaining.firstIndex(where: { $0 > 0 }) else { return [] }
        var seenAt = [Int](repeating: -1, count: nodeCount)
        var walk: [Int] = []
        while seenAt[v] < 0 {
            seenAt[v] = walk.count
            walk.append(v)
            guard let e = (predOffsets[v]..<predOffsets[v + 1]).first(where: { remaining[predNode[$0]] > 0 }) else { break }
            v = predNode[e]
        }
        var cycleTasks: [Int] = []
        for node in walk[max(0, seenAt[v])...].reversed() {  // reversed: predecessor before successor
            let t = nodeTask[node]
            if cycleTasks.last != t { cycleTasks.append(t) }
        }
        if cycleTasks.count > 1, cycleTasks.first == cycleTasks.last { cycleTasks.removeLast() }
        if let first = cycleTasks.indices.min(by: { cycleTasks[$0] < cycleTasks[$1] }) {
            cycleTasks = Array(cycleTasks[first...] + cycleTasks[..<first])
        }
        return cycleTasks.map { tasks[$0].id }
    }

    static func code(_ kind: DependencyKind) -> UInt8 {
        switch kind {
        case .finishToStart: fs
        case .startToStart: ss
        case .finishToFinish: ff
        case .startToFinish: sf
        }
    }

    /// Groups edges by `keys` (counting sort), keeping input order within a group.
    private static func compress(nodeCount: Int, keys: [Int], others: [Int], kind: [UInt8], lag: [Int])
        -> ([Int], [Int], [UInt8], [Int]) {
        var offsets = [Int](repeating: 0, count: nodeCount + 1)
        for k in keys { offsets[k + 1] += 1 }
        for v in 0..<nodeCount { offsets[v + 1] += offsets[v] }
        var fill = offsets
        var node = [Int](repeating: 0, count: keys.count)
        var kinds = [UInt8](repeating: 0, count: keys.count)
        var lags = [Int](repeating: 0, count: keys.count)
        for e in keys.indices {
            let slot = fill[keys[e]]
            fill[keys[e]] += 1
            node[slot] = others[e]
            kinds[slot] = kind[e]
            lags[slot] = lag[e]
        }
        return (offsets, node, kinds, lags)
    }

    private static func isAncestor(_ a: Int, of b: Int, parent: [Int]) -> Bool {
        var p = parent[b]
        while p >= 0 {
            if p == a { return true }
            p = parent[p]
        }
        return false
    }

    /// Depth of every task in the hierarchy; throws when a parent chain loops.
    private static func depths(parent: [Int], tasks: [PlanTask]) throws(SchedulingError) -> [Int] {
        let n = parent.count
        var depth = [Int](repeating: -1, count: n)
        var onPath = [Bool](repeating: false, count: n)
        var chain: [Int] = []
        for start in 0..<n where depth[start] < 0 {
            chain.removeAll(keepingCapacity: true)
            var v = start
            while v >= 0 && depth[v] < 0 {
                if onPath[v] {
                    let loop = chain[(chain.firstIndex(of: v) ?? 0)...]
                    throw .parentCycle(taskIDs: loop.map { tasks[$0].id })
                }
                onPath[v] = true
                chain.append(v)
                v = parent[v]
            }
            var d = v >= 0 ? depth[v] : -1
            for u in chain.reversed() {
                d += 1
                depth[u] = d
                onPath[u] = false
            }
        }
        return depth
    }
}
