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
    private func requiredStart(kind: UInt8, lag: Int, predecessor u: Int, duration d: Int) -> Int {
        switch kind {
        case ScheduleGraph.fs: ef[u] + lag
        case ScheduleGraph.ss: es[u] + lag
        case ScheduleGraph.ff: ef[u] + lag - d
        default: es[u] + lag - d
        }
    }

    private mutating func forward() {
        let count = graph.nodeCount
        es = [Int](repeating: 0, count: count)
        ef = [Int](repeating: 0, count: count)
        var finish = 0
        for v in graph.order {
            let d = nodes.duration[v]
            var start: Int
            if nodes.pinnedStart[v] != .min {
                start = nodes.pinnedStart[v]
            } else {
                start = nodes.esFloor[v]
                if nodes.efFloor[v] != .min { start = max(start, nodes.efFloor[v] - d) }
                for e in graph.predOffsets[v]..<graph.predOffsets[v + 1] {
                    let c = requiredStart(kind: graph.predKind[e], lag: graph.predLag[e], predecessor: graph.predNode[e], duration: d)
                    if c > start { start = c }
                }
            }
            es[v] = start
            ef[v] = start + d
            if start + d > finish { finish = start + d }
        }
        projectFinish = finish
    }

    private mutating func backward() {
        let count = graph.nodeCount
        ls = [Int](repeating: 0, count: count)
        lf = [Int](repeating: 0, count: count)
        for v in graph.order.reversed() {
            let d = nodes.duration[v]
            var finish = min(projectFinish, nodes.lfCap[v])
            for e in graph.succOffsets[v]..<graph.succOffsets[v + 1] {
                let w = graph.succNode[e], lag = graph.succLag[e]
                let c: Int = switch graph.succKind[e] {
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
    }

    /// Free slack, in reverse topological order. A summary's start/finish events are not tasks, so slack
    /// on an edge into an event continues through that event's own free slack.
    private mutating func free() {
        freeSlack = [Int](repeating: 0, count: graph.nodeCount)
        for v in graph.order.reversed() {
            let range = graph.succOffsets[v]..<graph.succOffsets[v + 1]
            guard !range.isEmpty else {
                freeSlack[v] = projectFinish - ef[v]
                continue
            }
            var slack = Int.max
            for e in range {
                let w = graph.succNode[e], lag = graph.succLag[e]
                var s: Int = switch graph.succKind[e] {
                case ScheduleGraph.fs: es[w] - lag - ef[v]
                case ScheduleGraph.ss: es[w] - lag - es[v]
                case ScheduleGraph.ff: ef[w] - lag - ef[v]
                default: ef[w] - lag - es[v]
                }
                if graph.isEvent[w] { s += freeSlack[w] }
                if s < slack { slack = s }
            }
            freeSlack[v] = slack
        }
    }

    /// Task indices of a driving chain ending at the plan finish: start from the task finishing last
    /// (least slack first), then repeatedly step to the predecessor whose link sets this node's early
    /// start (least slack, then plan order), until a node is driven by no link. Summary events are
    /// walked through but not listed.
    func criticalPath() -> [Int] {
        var end = -1
        for v in 0..<graph.taskCount where !graph.isEvent[v] && ef[v] == projectFinish {
            if end < 0 || ls[v] - es[v] < ls[end] - es[end] { end = v }
        }
        guard end >= 0 else { return [] }
        var path: [Int] = []
        var v = end
        while true {
            if !graph.isEvent[v] { path.append(v) }
            if nodes.pinnedStart[v] != .min { break }
            let d = nodes.duration[v]
            var next = -1
            for e in graph.predOffsets[v]..<graph.predOffsets[v + 1] {
                let u = graph.predNode[e]
                guard requiredStart(kind: graph.predKind[e], lag: graph.predLag[e], predecessor: u, duration: d) == es[v] else { continue }
                if next < 0 || ls[u] - es[u] < ls[next] - es[next]
                    || (ls[u] - es[u] == ls[next] - es[next] && graph.nodeTask[u] < graph.nodeTask[next]) {
                    next = u
                }
            }
            if next < 0 { break }
            v = next
        }
        return path.reversed()
    }
}
