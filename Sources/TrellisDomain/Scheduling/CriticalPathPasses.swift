/// Forward and backward passes of the critical path method over a `ScheduleGraph`, on the working-time axis.
///
/// For a link P → Q with lag L (d = Q's duration), the forward pass requires:
///   FS: ES(Q) ≥ EF(P) + L     SS: ES(Q) ≥ ES(P) + L
///   FF: EF(Q) ≥ EF(P) + L     SF: EF(Q) ≥ ES(P) + L
/// and the backward pass mirrors it on late dates.
struct CriticalPathPasses {
    /// Everything computed for one node, together: the output reads a task's node in one place rather
    /// than from one array per field, which is a cache miss per field on big plans. 32 bytes (finishes
    /// are start + duration), so records never straddle cache lines.
    struct NodeTimes {
        var es = 0, ls = 0, duration = 0
        /// Slip allowed before moving a real successor; summary events pass it through.
        var freeSlack = 0
        var ef: Int { es + duration }
        var lf: Int { ls + duration }
    }

    let graph: ScheduleGraph
    let nodes: NodeInputs
    private(set) var times: [NodeTimes] = []
    private(set) var projectFinish = 0

    init(graph: ScheduleGraph, nodes: NodeInputs) {
        self.graph = graph
        self.nodes = nodes
    }

    mutating func run() {
        times = [NodeTimes](repeating: NodeTimes(), count: graph.nodeCount)
        forward()
        backward()
        free()
    }

    /// The earliest start a predecessor edge allows, given the node's duration.
    @inline(__always)
    private static func requiredStart(_ edge: ScheduleGraph.Edge, times: UnsafeBufferPointer<NodeTimes>, duration d: Int) -> Int {
        let u = Int(edge.node), lag = Int(edge.lag)
        return switch edge.kind {
        case ScheduleGraph.fs: times[u].ef + lag
        case ScheduleGraph.ss: times[u].es + lag
        case ScheduleGraph.ff: times[u].ef + lag - d
        default: times[u].es + lag - d
        }
    }

    // The passes walk the nodes in number order (a topological order) over unsafe buffers: no bounds
    // or uniqueness checks in the loops that run once per edge.

    private mutating func forward() {
        let count = graph.nodeCount
        var finish = 0
        let bounded = nodes.isBounded
        graph.predOffsets.withUnsafeBufferPointer { offsets in
        graph.preds.withUnsafeBufferPointer { preds in
        nodes.duration.withUnsafeBufferPointer { duration in
        nodes.pinnedStart.withUnsafeBufferPointer { pinnedStart in
        nodes.esFloor.withUnsafeBufferPointer { esFloor in
        nodes.efFloor.withUnsafeBufferPointer { efFloor in
        times.withUnsafeMutableBufferPointer { times in
            let done = UnsafeBufferPointer(times)  // predecessors' dates, already final
            for v in 0..<count {
                let d = duration[v]
                var start: Int
                if bounded && pinnedStart[v] != .min {
                    start = pinnedStart[v]
                } else {
                    start = bounded ? esFloor[v] : 0
                    if bounded && efFloor[v] != .min { start = max(start, efFloor[v] - d) }
                    for e in Int(offsets[v])..<Int(offsets[v + 1]) {
                        let c = CriticalPathPasses.requiredStart(preds[e], times: done, duration: d)
                        if c > start { start = c }
                    }
                }
                times[v].es = start
                times[v].duration = d
                if start + d > finish { finish = start + d }
            }
        }}}}}}}
        projectFinish = finish
    }

    private mutating func backward() {
        let count = graph.nodeCount
        let projectFinish = self.projectFinish, bounded = nodes.isBounded
        graph.succOffsets.withUnsafeBufferPointer { offsets in
        graph.succs.withUnsafeBufferPointer { succs in
        nodes.lfCap.withUnsafeBufferPointer { lfCap in
        times.withUnsafeMutableBufferPointer { times in
            for v in (0..<count).reversed() {
                let d = times[v].duration
                var finish = bounded ? min(projectFinish, lfCap[v]) : projectFinish
                for e in Int(offsets[v])..<Int(offsets[v + 1]) {
                    let edge = succs[e], w = Int(edge.node), lag = Int(edge.lag)
                    let c: Int = switch edge.kind {
                    case ScheduleGraph.fs: times[w].ls - lag
                    case ScheduleGraph.ss: times[w].ls - lag + d
                    case ScheduleGraph.ff: times[w].lf - lag
                    default: times[w].lf - lag + d
                    }
                    if c < finish { finish = c }
                }
                times[v].ls = finish - d
            }
        }}}}
    }

    /// Free slack, in reverse topological order. A summary's start/finish events are not tasks, so slack
    /// on an edge into an event continues through that event's own free slack.
    private mutating func free() {
        let count = graph.nodeCount
        let projectFinish = self.projectFinish
        graph.succOffsets.withUnsafeBufferPointer { offsets in
        graph.succs.withUnsafeBufferPointer { succs in
        graph.isEvent.withUnsafeBufferPointer { isEvent in
        times.withUnsafeMutableBufferPointer { times in
            for v in (0..<count).reversed() {
                let range = Int(offsets[v])..<Int(offsets[v + 1])
                guard !range.isEmpty else {
                    times[v].freeSlack = projectFinish - times[v].ef
                    continue
                }
                let es = times[v].es, ef = times[v].ef
                var slack = Int.max
                for e in range {
                    let edge = succs[e], w = Int(edge.node), lag = Int(edge.lag)
                    var s: Int = switch edge.kind {
                    case ScheduleGraph.fs: times[w].es - lag - ef
                    case ScheduleGraph.ss: times[w].es - lag - es
                    case ScheduleGraph.ff: times[w].ef - lag - ef
                    default: times[w].ef - lag - es
                    }
                    if isEvent[w] { s += times[w].freeSlack }
                    if s < slack { slack = s }
                }
                times[v].freeSlack = slack
            }
        }}}}
    }

    /// Task indices of a driving chain ending at the plan finish: start from the task finishing last
    /// (least slack, then plan order), then repeatedly step to the predecessor whose link sets this
    /// node's early start (least slack, then plan order), until a node is driven by no link. Summary
    /// events are walked through but not listed.
    func criticalPath() -> [Int] {
        times.withUnsafeBufferPointer { times in
            func slack(_ v: Int) -> Int { times[v].ls - times[v].es }
            var end = -1
            for v in 0..<graph.nodeCount where !graph.isEvent[v] && times[v].ef == projectFinish {
                if end < 0 || slack(v) < slack(end) || (slack(v) == slack(end) && graph.nodeTask[v] < graph.nodeTask[end]) {
                    end = v
                }
            }
            guard end >= 0 else { return [] }
            var path: [Int] = []
            var v = end
            while true {
                if !graph.isEvent[v] { path.append(Int(graph.nodeTask[v])) }
                if nodes.pinnedStart(of: v) != .min { break }
                let d = times[v].duration
                var next = -1
                for e in Int(graph.predOffsets[v])..<Int(graph.predOffsets[v + 1]) {
                    let edge = graph.preds[e], u = Int(edge.node)
                    guard CriticalPathPasses.requiredStart(edge, times: times, duration: d) == times[v].es else { continue }
                    if next < 0 || slack(u) < slack(next) || (slack(u) == slack(next) && graph.nodeTask[u] < graph.nodeTask[next]) {
                        next = u
                    }
                }
                if next < 0 { break }
                v = next
            }
            return path.reversed()
        }
    }
}
