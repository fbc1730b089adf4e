import Foundation

/// Per-node inputs to the passes (indexed by node): durations, constraint positions and pinned (actual) starts.
/// The four bound arrays stay empty when no task has a constraint or actual dates (most plans): less
/// memory to fill, and a smaller heap for big plans.
struct NodeInputs {
    var duration: [Int]
    /// Earliest start allowed by the plan start and start-type constraints.
    private(set) var esFloor: [Int] = []
    /// Earliest finish allowed by finish-type constraints, or `Int.min`.
    private(set) var efFloor: [Int] = []
    /// Latest finish allowed by deadlines, or `Int.max`.
    private(set) var lfCap: [Int] = []
    /// Start fixed by actual dates, or `Int.min`.
    private(set) var pinnedStart: [Int] = []

    var isBounded: Bool { !pinnedStart.isEmpty }
    func pinnedStart(of v: Int) -> Int { isBounded ? pinnedStart[v] : .min }
    func esFloor(of v: Int) -> Int { isBounded ? esFloor[v] : 0 }

    init(count: Int) {
        duration = [Int](repeating: 0, count: count)
    }

    mutating func load(_ tasks: [PlanTask], graph: ScheduleGraph, axis: inout WorkingTimeline) throws(SchedulingError) {
        // Most tasks only bring their duration (already checked while building the graph).
        graph.nodeTask.withUnsafeBufferPointer { nodeTask in
            graph.isEvent.withUnsafeBufferPointer { isEvent in
                graph.durations.withUnsafeBufferPointer { durations in
                    duration.withUnsafeMutableBufferPointer { duration in
                        for v in 0..<graph.nodeCount where !isEvent[v] { duration[v] = durations[Int(nodeTask[v])] }
                    }
                }
            }
        }
        if !graph.specialTasks.isEmpty {
            let count = graph.nodeCount
            esFloor = [Int](repeating: 0, count: count)
            efFloor = [Int](repeating: .min, count: count)
            lfCap = [Int](repeating: .max, count: count)
            pinnedStart = [Int](repeating: .min, count: count)
        }
        for i in graph.specialTasks where !graph.isSummary[i] || tasks[i].constraint != nil {
            do {
                try load(tasks[i], index: i, graph: graph, axis: &axis)
            } catch {
                throw .beyondHorizon(taskID: tasks[i].id)
            }
        }
    }

    private mutating func load(_ task: PlanTask, index i: Int, graph: ScheduleGraph, axis: inout WorkingTimeline) throws(WorkingTimelineError) {
        // On a summary, start-type constraints act on its start event, finish-type on its finish event.
        let startNode = graph.node(ofTask: i), finishNode = graph.finishNode(ofTask: i)
        if !graph.isSummary[i] {
            guard task.durationMinutes <= Scheduler.maximumMinutes else { throw .beyondHorizon(position: task.durationMinutes) }
            duration[startNode] = task.durationMinutes
            if let finish = task.actualFinish {
                let f = try axis.finishPosition(of: finish)
                let s = try task.actualStart.map { (d: Date) throws(WorkingTimelineError) in try axis.startPosition(of: d) } ?? f - task.durationMinutes
                pinnedStart[startNode] = min(s, f)
                duration[startNode] = max(0, f - s)
            } else if let start = task.actualStart {
                pinnedStart[startNode] = try axis.startPosition(of: start)
            }
        }
        guard let constraint = task.constraint else { return }
        let d = duration[startNode]
        switch constraint.kind {
        case .startNoEarlierThan:
            esFloor[startNode] = max(esFloor[startNode], try axis.startPosition(of: constraint.date))
        case .startNoLaterThan:
            lfCap[startNode] = try axis.startPosition(of: constraint.date) + d
        case .mustStartOn:
            let p = try axis.startPosition(of: constraint.date)
            esFloor[startNode] = max(esFloor[startNode], p)
            lfCap[startNode] = p + d
        case .finishNoEarlierThan:
            efFloor[finishNode] = try axis.finishPosition(of: constraint.date)
        case .finishNoLaterThan:
            lfCap[finishNode] = try axis.finishPosition(of: constraint.date)
        case .mustFinishOn:
            let p = try axis.finishPosition(of: constraint.date)
            efFloor[finishNode] = p
            lfCap[finishNode] = p
        }
    }
}
