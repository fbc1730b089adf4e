/// Forward and backward passes of the critical path method over a `ScheduleGraph`, on the working-time axis.
///
/// For a link P → Q with lag L (d = Q's duration), the forward pass requires:
///   FS: ES(Q) ≥ EF(P) + L     SS: ES(Q) ≥ ES(P) + L
///   FF: EF(Q) ≥ EF(P) + L     SF: EF(Q) ≥ ES(P) + L
/// and the backward pass mirrors it on late dates.
struct CriticalPathPasses {
    let graph: ScheduleGraph
    let nodes: NodeInputs
    private(set) var es: [Int] = []
    private(set) var ef: [Int] = []
    private(set) var ls: [Int] = []
    private(set) var lf: [Int] = []
    /// Per node: slip allowed before moving a real successor; summary events pass it through.
    private(set) var freeSlack: [Int] = []
    private(set) var projectFinish = 0

    init(graph: ScheduleGraph, nodes: NodeInputs) {
        self.graph = graph
        self.nodes = nodes
    }

    mutating func run() {
        forward()
        backward()
        free()
    }

    /// The earliest start a predecessor edge allows, given the node's duration.
    @inline(__always)
    private static func requiredStart(_ edge: ScheduleGraph.Edge, es: UnsafeBufferPointer<Int>, ef: UnsafeBufferPointer<Int>, duration d: Int) -> Int {
        let u = Int(edge.node), lag = Int(edge.lag)
        return switch edge.kind {
        case ScheduleGraph.fs: ef[u] + lag
        case ScheduleGraph.ss: es[u] + lag
        case ScheduleGraph.ff: ef[u] + lag - d
        default: es[u] + lag - d
        }
    }

    // The passes walk the nodes in number order (a topological order) over unsafe buffers: no bounds
    // or uniqueness checks in the loops that run once per edge.

    private mutating func forward() {
        let count = graph.nodeCount
        var es = [Int](repeating: 0, count: count)
        var ef = [Int](repeating: 0, count: count)
        var finish = 0
        graph.predOffsets.withUnsafeBufferPointer { offsets in
        graph.preds.withUnsafeBufferPointer { preds in
        nodes.duration.withUnsafeBufferPointer { duration in
        nodes.pinnedStart.withUnsafeBufferPointer { pinnedStart in
        nodes.esFloor.withUnsafeBufferPointer { esFloor in
        nodes.efFloor.withUnsafeBufferPointer { efFloor in
        es.withUnsafeMutableBufferPointer { esOut in
        ef.withUnsafeMutableBufferPointer { efOut in
            let esIn = UnsafeBufferPointer(esOut), efIn = UnsafeBufferPointer(efOut)
            for v in 0..<count {
                let d = duration[v]
                var start: Int
                if pinnedStart[v] != .min {
                    start = pinnedStart[v]
                } else {
                    start = esFloor[v]
                    if efFloor[v] != .min { start = max(start, efFloor[v] - d) }
                    for e in Int(offsets[v])..<Int(offsets[v + 1]) {
                        let c = CriticalPathPasses.requiredStart(preds[e], es: esIn, ef: efIn, duration: d)
                        if c > start { start = c }
                    }
                }
                esOut[v] = start
                efOut[v] = start + d
                if start + d > finish { finish = start + d }
            }
        }}}}}}}}
        self.es = es
        self.ef = ef
        projectFinish = finish
    }

    private mutating func backward() {
        let count = graph.nodeCount
        var ls = [Int](repeating: 0, count: count)
        var lf = [Int](repeating: 0, count: count)
        let projectFinish = self.projectFinish
        graph.succOffsets.withUnsafeBufferPointer { offsets in
        graph.succs.withUnsafeBufferPointer { succs in
        nodes.duration.withUnsafeBufferPointer { duration in
        nodes.lfCap.withUnsafeBufferPointer { lfCap in
        ls.withUnsafeMutableBufferPointer { ls in
        lf.withUnsafeMutableBufferPointer { lf in
            for v in (0..<count).reversed() {
                let d = duration[v]
                var finish = min(projectFinish, lfCap[v])
                for e in Int(offsets[v])..<Int(offsets[v + 1]) {
                    let edge = succs[e], w = Int(edge.node), lag = Int(edge.lag)
                    let c: Int = switch edge.kind {
                    case ScheduleGraph.fs: ls[w] - lag
                    case ScheduleGraph.ss: ls[w] - lag + d
                    case ScheduleGraph.ff: lf[w] - lag
                    default: lf[w] - lag + d
                    }
                    if c < finish { finish = c }
                }
                lf[v] = finish
                ls[v] = finish - d
            }
        }}}}}}
        self.ls = ls
        self.lf = lf
    }

    /// Free slack, in reverse topological order. A summary's start/finish events are not tasks, so slack
    /// on an edge into an event continues through that event's own free slack.
    private mutating func free() {
        let count = graph.nodeCount
        var freeSlack = [Int](repeating: 0, count: count)
        let projectFinish = self.projectFinish
        graph.succOffsets.withUnsafeBufferPointer { offsets in
        graph.succs.withUnsafeBufferPointer { succs in
        graph.isEvent.withUnsafeBufferPointer { isEvent in
        es.withUnsafeBufferPointer { es in
        ef.withUnsafeBufferPointer { ef in
        freeSlack.withUnsafeMutableBufferPointer { freeSlack in
            for v in (0..<count).reversed() {
                let range = Int(offsets[v])..<Int(offsets[v + 1])
                guard !range.isEmpty else {
                    freeSlack[v] = projectFinish - ef[v]
                    continue
                }
                var slack = Int.max
                for e in range {
                    let edge = succs[e], w = Int(edge.node), lag = Int(edge.lag)
                    var s: Int = switch edge.kind {
                    case ScheduleGraph.fs: es[w] - lag - ef[v]
                    case ScheduleGraph.ss: es[w] - lag - es[v]
                    case ScheduleGraph.ff: ef[w] - lag - ef[v]
                    default: ef[w] - lag - es[v]
                    }
                    if isEvent[w] { s += freeSlack[w] }
                    if s < slack { slack = s }
                }
                freeSlack[v] = slack
            }
        }}}}}}
        self.freeSlack = freeSlack
    }

    /// Task indices of a driving chain ending at the plan finish: start from the task finishing last
    /// (least slack, then plan order), then repeatedly step to the predecessor whose link sets this
    /// node's early start (least slack, then plan order), until a node is driven by no link. Summary
    /// events are walked through but not listed.
    func criticalPath() -> [Int] {
        var end = -1
        for v in 0..<graph.nodeCount where !graph.isEvent[v] && ef[v] == projectFinish {
            if end < 0 || ls[v] - es[v] < ls[end] - es[end]
                || (ls[v] - es[v] == ls[end] - es[end] && graph.nodeTask[v] < graph.nodeTask[end]) {
                end = v
            }
        }
        guard end >= 0 else { return [] }
        var path: [Int] = []
        var v = end
        es.withUnsafeBufferPointer { esIn in
        ef.withUnsafeBufferPointer { efIn in
            while true {
                if !graph.isEvent[v] { path.append(Int(graph.nodeTask[v])) }
                if nodes.pinnedStart[v] != .min { break }
                let d = nodes.duration[v]
                var next = -1
                for e in Int(graph.predOffsets[v])..<Int(graph.predOffsets[v + 1]) {
                    let edge = graph.preds[e], u = Int(edge.node)
                    guard CriticalPathPasses.requiredStart(edge, es: esIn, ef: efIn, duration: d) == es[v] else { continue }
                    if next < 0 || ls[u] - es[u] < ls[next] - es[next]
                        || (ls[u] - es[u] == ls[next] - es[next] && graph.nodeTask[u] < graph.nodeTask[next]) {
                        next = u
                    }
                }
                if next < 0 { break }
                v = next
            }
        }}
        return path.reversed()
    }
}
