/// The plan as an activity-on-node graph, indexed by `Int` for the passes.
///
/// Every task is a node. A summary task's node is a zero-length "start event"; each summary gets a
/// second zero-length "finish event" node. Hierarchy becomes ordinary links: summary start → child
/// (SS 0) and child → summary finish (FF 0). Links into a summary attach to its start event (so they
/// hold back every child); links out of a summary leave from its start or finish event depending on
/// the link kind.
///
/// Nodes are numbered in topological order (predecessors first), so the passes are plain loops over
/// the node numbers and mostly touch memory near the current node; `node(ofTask:)` maps a task to its
/// node. Edges are stored twice in compressed (CSR) form: by successor for the forward pass and by
/// predecessor for the backward pass.
struct ScheduleGraph {
    static let fs: UInt8 = 0, ss: UInt8 = 1, ff: UInt8 = 2, sf: UInt8 = 3

    /// One entry of an adjacency list in 8 bytes: the node at the other end and the link kind share a
    /// word (nodes < 2^30), and lags fit in 32 bits once checked against `Scheduler.maximumMinutes`
    /// (see `firstOversizedLag`). Small edges keep the edge arrays of big plans closer to the cache.
    struct Edge {
        private var bits: UInt32
        var lag: Int32

        init(node: Int32, lag: Int32, kind: UInt8) {
            bits = UInt32(bitPattern: node) << 2 | UInt32(kind & 3)
            self.lag = lag
        }

        var node: Int32 {
            get { Int32(bitPattern: bits >> 2) }
            set { bits = UInt32(bitPattern: newValue) << 2 | bits & 3 }
        }

        var kind: UInt8 { UInt8(truncatingIfNeeded: bits & 3) }
    }

    /// Node numbers are stored in 30 bits (see `Edge`); a plan that size would be over 100 GB of tasks.
    static let maximumNodeCount = 1 << 30

    let taskCount: Int
    let nodeCount: Int
    /// Task ids, in plan order.
    let ids: [String]
    /// Task durations as given, in plan order (meaningful for tasks that are not summaries).
    let durations: [Int]
    /// Tasks, in plan order, that need more than their duration loaded: actual dates, a constraint,
    /// or a duration beyond `Scheduler.maximumMinutes`.
    let specialTasks: [Int]
    /// The first link whose lag is beyond `Scheduler.maximumMinutes` (its lag is truncated here).
    let firstOversizedLag: Int?

    let hasSummaries: Bool
    let isSummary: [Bool]
    /// Task index → parent task index, or -1. Empty when no task has a parent.
    let parent: [Int]
    /// Task index → depth in the phase hierarchy. Empty when no task has a parent.
    let depth: [Int]
    /// Summary task → plan number of its finish event (`taskCount + k`), others -1. Empty without summaries.
    private let finishEvent: [Int]

    /// Plan number (task index, or `taskCount + k` for the k-th summary's finish event) → node.
    let position: [Int32]
    /// Node → the task it belongs to.
    let nodeTask: [Int32]
    /// Node → whether it is a summary's start or finish event rather than a real task.
    let isEvent: [Bool]

    // Incoming edges of node v: preds[predOffsets[v]..<predOffsets[v+1]], in link order.
    let predOffsets: [Int32]
    let preds: [Edge]
    // Outgoing edges of node v.
    let succOffsets: [Int32]
    let succs: [Edge]

    @inline(__always) func node(ofTask t: Int) -> Int { Int(position[t]) }

    /// The node holding a task's finish: its own node, or its summary finish event.
    @inline(__always) func finishNode(ofTask t: Int) -> Int {
        hasSummaries && finishEvent[t] >= 0 ? Int(position[finishEvent[t]]) : Int(position[t])
    }

    init(tasks: [PlanTask], dependencies: [TaskDependency]) throws(SchedulingError) {
        let n = tasks.count
        taskCount = n

        // One pass over the tasks (large structs: each pass is memory traffic on big plans). Errors are
        // only collected here and thrown below in the documented order.
        var ids: [String] = [], durations: [Int] = [], special: [Int] = []
        ids.reserveCapacity(n)
        durations.reserveCapacity(n)
        var parentIDs: [(task: Int, parentID: String)] = []
        var invalid: [(task: Int, error: SchedulingError)] = []
        tasks.withUnsafeBufferPointer { tasks in
            for i in tasks.indices {
                ids.append(tasks[i].id)
                let duration = tasks[i].durationMinutes
                durations.append(duration)
                if let parentID = tasks[i].parentID { parentIDs.append((i, parentID)) }
                let actualStart = tasks[i].actualStart, actualFinish = tasks[i].actualFinish
                if actualStart != nil || actualFinish != nil || tasks[i].constraint != nil || duration > Scheduler.maximumMinutes {
                    special.append(i)
                }
                if duration < 0 {
                    invalid.append((i, .negativeDuration(taskID: tasks[i].id)))
                } else if !(0...100).contains(tasks[i].percentComplete) {
                    invalid.append((i, .invalidPercentComplete(taskID: tasks[i].id)))
                } else if let s = actualStart, let f = actualFinish, f < s {
                    invalid.append((i, .actualFinishBeforeActualStart(taskID: tasks[i].id)))
                }
            }
        }
        self.durations = durations
        specialTasks = special

        let index: TaskIDIndex
        switch TaskIDIndex.build(ids) {
        case .success(let built): index = built
        case .failure(let duplicate): throw .duplicateTaskID(duplicate.id)
        }
        self.ids = ids

        // Hierarchy.
        var isSummary = [Bool](repeating: false, count: n)
        var parent: [Int] = [], depth: [Int] = []
        if !parentIDs.isEmpty {
            parent = [Int](repeating: -1, count: n)
            for (i, parentID) in parentIDs {
                guard let p = index[parentID] else { throw .unknownParent(taskID: ids[i], parentID: parentID) }
                parent[i] = p
                isSummary[p] = true
            }
            depth = try ScheduleGraph.depths(parent: parent, ids: ids)
        }
        self.parent = parent
        self.depth = depth
        self.isSummary = isSummary
        if let bad = invalid.first(where: { !isSummary[$0.task] }) { throw bad.error }

        // Plan numbers: tasks, then one finish event per summary.
        var finishEvent: [Int] = [], eventTask: [Int32] = []
        if !parentIDs.isEmpty {
            finishEvent = [Int](repeating: -1, count: n)
            for i in 0..<n where isSummary[i] {
                finishEvent[i] = n + eventTask.count
                eventTask.append(Int32(truncatingIfNeeded: i))
            }
        }
        let hasSummaries = !eventTask.isEmpty
        self.hasSummaries = hasSummaries
        self.finishEvent = finishEvent
        let nodeCount = n + eventTask.count
        precondition(nodeCount < ScheduleGraph.maximumNodeCount, "plan too large")
        self.nodeCount = nodeCount

        // Edge list in plan numbers: links (resolved, checked), then hierarchy.
        let edgeCapacity = dependencies.count + 2 * parentIDs.count
        var unknown: [String] = [], unknownSeen = Set<String>(), selfLinked: [String] = []
        var linkError: SchedulingError?
        var firstOversizedLag: Int?
        var edgeTo: [Int32] = []
        let edges = [Edge](unsafeUninitializedCapacity: edgeCapacity) { edges, edgeCount in
            edgeTo = [Int32](unsafeUninitializedCapacity: edgeCapacity) { edgeTo, toCount in
                var k = 0
                dependencies.withUnsafeBufferPointer { links in
                    index.resolveLinks(dependencies) { e, p, s in
                        guard p >= 0, s >= 0 else {
                            let link = links[e]
                            if p < 0, unknownSeen.insert(link.predecessorID).inserted { unknown.append(link.predecessorID) }
                            if s < 0, unknownSeen.insert(link.successorID).inserted { unknown.append(link.successorID) }
                            return true
                        }
                        if p == s {
                            if !selfLinked.contains(links[e].predecessorID) { selfLinked.append(links[e].predecessorID) }
                            return true
                        }
                        let kind = links[e].kind, lag = links[e].lagMinutes
                        var from = p
                        if hasSummaries {
                            if isSummary[s] && (kind == .finishToFinish || kind == .startToFinish)
                                || (isSummary[p] && ScheduleGraph.isAncestor(p, of: s, parent: parent))
                                || (isSummary[s] && ScheduleGraph.isAncestor(s, of: p, parent: parent)) {
                                linkError = .unsupportedSummaryLink(predecessorID: links[e].predecessorID, successorID: links[e].successorID)
                                return false
                            }
                            // Links leave a summary from its finish event when they depend on its finish.
                            if isSummary[p] && (kind == .finishToStart || kind == .finishToFinish) { from = finishEvent[p] }
                        }
                        if lag.magnitude > UInt(Scheduler.maximumMinutes) && firstOversizedLag == nil { firstOversizedLag = e }
                        edgeTo[k] = Int32(truncatingIfNeeded: s)
                        edges.initializeElement(at: k, to: Edge(node: Int32(truncatingIfNeeded: from), lag: Int32(truncatingIfNeeded: lag), kind: ScheduleGraph.code(kind)))
                        k += 1
                        return true
                    }
                }
                if linkError == nil {
                    for (i, _) in parentIDs {
                        let p = parent[i]
                        edgeTo[k] = Int32(truncatingIfNeeded: i)
                        edges.initializeElement(at: k, to: Edge(node: Int32(truncatingIfNeeded: p), lag: 0, kind: ScheduleGraph.ss))
                        edgeTo[k + 1] = Int32(truncatingIfNeeded: finishEvent[p])
                        edges.initializeElement(at: k + 1, to: Edge(node: Int32(truncatingIfNeeded: isSummary[i] ? finishEvent[i] : i), lag: 0, kind: ScheduleGraph.ff))
                        k += 2
                    }
                }
                toCount = k
            }
            edgeCount = edgeTo.count
        }
        if let linkError { throw linkError }
        if !unknown.isEmpty { throw .unknownTaskIDs(unknown) }
        if !selfLinked.isEmpty { throw .selfDependency(taskIDs: selfLinked) }
        self.firstOversizedLag = firstOversizedLag

        // Incoming edges by plan number, then node numbers in a topological order, with each node's
        // incoming edges copied to its row on the way (they still name plan numbers: fixed below).
        let (planOffsets, planPreds) = ScheduleGraph.group(edges, by: edgeTo, nodeCount: nodeCount)
        guard let numbered = ScheduleGraph.number(offsets: planOffsets, preds: planPreds) else {
            throw .cycle(taskIDs: ScheduleGraph.cycle(offsets: planOffsets, preds: planPreds, nodeCount: nodeCount, taskCount: n, eventTask: eventTask, ids: ids))
        }
        let position = numbered.position
        var nodeTask = [Int32](repeating: 0, count: nodeCount)
        var isEvent = [Bool](repeating: false, count: nodeCount)
        numbered.order.withUnsafeBufferPointer { order in
            nodeTask.withUnsafeMutableBufferPointer { nodeTask in
                isEvent.withUnsafeMutableBufferPointer { isEvent in
                    for i in 0..<nodeCount {
                        let v = Int(order[i])
                        if v < n {
                            nodeTask[i] = Int32(truncatingIfNeeded: v)
                            isEvent[i] = isSummary[v]
                        } else {
                            nodeTask[i] = eventTask[v - n]
                            isEvent[i] = true
                        }
                    }
                }
            }
        }
        self.position = position
        self.nodeTask = nodeTask
        self.isEvent = isEvent
        let edgeCount = planPreds.count
        let predOffsets = numbered.rowOffsets
        var preds = numbered.rows
        self.predOffsets = predOffsets

        // Outgoing edges by node (a counting sort; in the random plans half the links join nodes within
        // ~30 numbers of each other, so many of its writes land near its reads).
        var succOffsets = [Int32](repeating: 0, count: nodeCount + 2)
        preds.withUnsafeMutableBufferPointer { preds in
            position.withUnsafeBufferPointer { position in
                succOffsets.withUnsafeMutableBufferPointer { succOffsets in
                    for e in preds.indices {
                        let u = position[Int(preds[e].node)]
                        preds[e].node = u
                        succOffsets[Int(u) + 2] += 1
                    }
                }
            }
        }
        self.preds = preds
        let succs = [Edge](unsafeUninitializedCapacity: edgeCount) { out, initialized in
            preds.withUnsafeBufferPointer { preds in
                predOffsets.withUnsafeBufferPointer { predOffsets in
                    succOffsets.withUnsafeMutableBufferPointer { succOffsets in
                        for v in 0..<nodeCount { succOffsets[v + 2] += succOffsets[v + 1] }
                        for w in 0..<nodeCount {
                            for e in Int(predOffsets[w])..<Int(predOffsets[w + 1]) {
                                let edge = preds[e], u = Int(edge.node) + 1
                                out.initializeElement(at: Int(succOffsets[u]), to: Edge(node: Int32(truncatingIfNeeded: w), lag: edge.lag, kind: edge.kind))
                                succOffsets[u] += 1
                            }
                        }
                    }
                }
            }
            initialized = edgeCount
        }
        succOffsets.removeLast()
        self.succOffsets = succOffsets
        self.succs = succs
    }

    /// Groups edges by `keys` (counting sort), keeping input order within a group: the edges of key k
    /// are `edges[offsets[k]..<offsets[k+1]]` afterwards.
    private static func group(_ edges: [Edge], by keys: [Int32], nodeCount: Int) -> ([Int32], [Edge]) {
        // Counts land at k + 2 so that, after the prefix sum, offsets[k + 1] is where group k starts;
        // filling advances it to where group k + 1 starts, leaving the final offsets in 0...nodeCount.
        var offsets = [Int32](repeating: 0, count: nodeCount + 2)
        let grouped = [Edge](unsafeUninitializedCapacity: edges.count) { out, initialized in
            keys.withUnsafeBufferPointer { keys in
                edges.withUnsafeBufferPointer { edges in
                    offsets.withUnsafeMutableBufferPointer { offsets in
                        for k in keys { offsets[Int(k) + 2] += 1 }
                        for v in 0..<nodeCount { offsets[v + 2] += offsets[v + 1] }
                        for e in edges.indices {
                            let k = Int(keys[e]) + 1
                            out.initializeElement(at: Int(offsets[k]), to: edges[e])
                            offsets[k] += 1
                        }
                    }
                }
            }
            initialized = edges.count
        }
        offsets.removeLast()
        return (offsets, grouped)
    }

    /// Numbers the nodes in a topological order: Kahn's algorithm run backwards over the incoming
    /// edges, numbering a node (from the end) once all its successors are. The nodes waiting in the
    /// queue are independent of each other, so their scattered memory accesses overlap, unlike a
    /// depth-first walk's chain. Nodes leave the queue in descending number, so each one's incoming
    /// edges are copied right there to its row, rows filling from the back (edges still name plan
    /// numbers). nil on a cycle.
    private static func number(offsets: [Int32], preds: [Edge])
        -> (order: [Int32], position: [Int32], rowOffsets: [Int32], rows: [Edge])? {
        let nodeCount = offsets.count - 1, edgeCount = preds.count
        var order = [Int32](repeating: 0, count: nodeCount)
        var position = [Int32](repeating: 0, count: nodeCount)
        var rowOffsets = [Int32](repeating: 0, count: nodeCount + 1)
        var successorsLeft = [Int32](repeating: 0, count: nodeCount)
        var acyclic = false
        let rows = [Edge](unsafeUninitializedCapacity: edgeCount) { rows, initialized in
            offsets.withUnsafeBufferPointer { offsets in
            preds.withUnsafeBufferPointer { preds in
            order.withUnsafeMutableBufferPointer { order in
            position.withUnsafeMutableBufferPointer { position in
            rowOffsets.withUnsafeMutableBufferPointer { rowOffsets in
            successorsLeft.withUnsafeMutableBufferPointer { successorsLeft in
                for edge in preds { successorsLeft[Int(edge.node)] += 1 }
                var tail = nodeCount  // order[tail...] is numbered
                for v in (0..<nodeCount).reversed() where successorsLeft[v] == 0 {
                    tail -= 1
                    order[tail] = Int32(truncatingIfNeeded: v)
                    position[v] = Int32(truncatingIfNeeded: tail)
                }
                var head = nodeCount  // order[head...] is processed
                var cursor = edgeCount  // rows[cursor...] is filled
                rowOffsets[nodeCount] = Int32(truncatingIfNeeded: edgeCount)
                while head > tail {
                    head -= 1
                    let v = Int(order[head]), first = Int(offsets[v]), end = Int(offsets[v + 1])
                    cursor -= end - first
                    rowOffsets[head] = Int32(truncatingIfNeeded: cursor)
                    for e in first..<end {
                        let edge = preds[e], u = Int(edge.node)
                        rows.initializeElement(at: cursor + e - first, to: edge)
                        successorsLeft[u] -= 1
                        if successorsLeft[u] == 0 {
                            tail -= 1
                            order[tail] = Int32(truncatingIfNeeded: u)
                            position[u] = Int32(truncatingIfNeeded: tail)
                        }
                    }
                }
                acyclic = tail == 0
            }}}}}}
            initialized = acyclic ? edgeCount : 0  // Edge is trivial: nothing to clean up on a cycle
        }
        return acyclic ? (order, position, rowOffsets, rows) : nil
    }

    /// One cycle, for the error: the nodes Kahn's algorithm cannot order are those on or after a cycle;
    /// walk back through unordered predecessors (in link order) from the first such plan number until a
    /// node repeats. Every unordered node has an unordered predecessor, so the walk always closes.
    private static func cycle(offsets: [Int32], preds: [Edge], nodeCount: Int, taskCount: Int, eventTask: [Int32], ids: [String]) -> [String] {
        var remaining = [Int](repeating: 0, count: nodeCount)
        var successors = [[Int]](repeating: [], count: nodeCount)
        for v in 0..<nodeCount {
            remaining[v] = Int(offsets[v + 1] - offsets[v])
            for e in Int(offsets[v])..<Int(offsets[v + 1]) { successors[Int(preds[e].node)].append(v) }
        }
        var queue = (0..<nodeCount).filter { remaining[$0] == 0 }
        var head = 0
        while head < queue.count {
            let v = queue[head]
            head += 1
            for w in successors[v] {
                remaining[w] -= 1
                if remaining[w] == 0 { queue.append(w) }
            }
        }
        func task(_ v: Int) -> Int { v < taskCount ? v : Int(eventTask[v - taskCount]) }
        guard var v = remaining.firstIndex(where: { $0 > 0 }) else { return [] }
        var seenAt = [Int](repeating: -1, count: nodeCount)
        var walk: [Int] = []
        while seenAt[v] < 0 {
            seenAt[v] = walk.count
            walk.append(v)
            guard let e = (Int(offsets[v])..<Int(offsets[v + 1])).first(where: { remaining[Int(preds[$0].node)] > 0 }) else { break }
            v = Int(preds[e].node)
        }
        var cycleTasks: [Int] = []
        for node in walk[max(0, seenAt[v])...].reversed() {  // reversed: predecessor before successor
            let t = task(node)
            if cycleTasks.last != t { cycleTasks.append(t) }
        }
        if cycleTasks.count > 1, cycleTasks.first == cycleTasks.last { cycleTasks.removeLast() }
        if let first = cycleTasks.indices.min(by: { cycleTasks[$0] < cycleTasks[$1] }) {
            cycleTasks = Array(cycleTasks[first...] + cycleTasks[..<first])
        }
        return cycleTasks.map { ids[$0] }
    }

    static func code(_ kind: DependencyKind) -> UInt8 {
        switch kind {
        case .finishToStart: fs
        case .startToStart: ss
        case .finishToFinish: ff
        case .startToFinish: sf
        }
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
    private static func depths(parent: [Int], ids: [String]) throws(SchedulingError) -> [Int] {
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
                    throw .parentCycle(taskIDs: loop.map { ids[$0] })
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
