import Foundation

/// The scheduling engine: a pure function from a plan to its timeline (critical path method).
///
/// All arithmetic happens on the plan's working-time axis (`WorkingTimeline`): integer working
/// minutes after the plan start, so the passes are plain `Int` math in O(tasks + links); dates are
/// converted to and from instants only at the edges.
///
/// Rules, following MS Project where it has one:
/// - Tasks start as soon as possible, never before the plan start; links of all four kinds with lag
///   (negative lag = lead) in working minutes.
/// - Constraint dates are first moved into working time (start-type dates to the next working minute,
///   finish-type dates back to the end of the previous one). "No earlier than" dates push the forward
///   pass; "no later than" dates are deadlines of the backward pass, so a missed one shows as negative
///   total slack rather than an error or a broken link. "Must" constraints do both.
/// - Progress: a task with an actual finish keeps its actual dates (its actual start, or finish minus
///   duration when no start was recorded). A task with only an actual start keeps that start and its
///   full duration (percent complete splits it into actual and remaining work, it does not move dates).
///   Predecessors do not move either kind; late dates and slack are still computed for them.
/// - Late dates: the plan finish bounds every task (tasks without successors too), then deadlines and links.
/// - Total slack = late start − early start; critical = total slack ≤ 0. Free slack = how far a task can
///   slip before moving any successor (or the plan finish when it has none), clamped to 0...max(0, total slack).
/// - Summary tasks (phases) roll up from their children: earliest start, latest finish.
public enum Scheduler {
    /// Largest accepted duration or |lag| (about 3,800 years of 24/7 time); keeps the Int math far from overflow.
    public static let maximumMinutes = 2_000_000_000

    public static func schedule(_ plan: SchedulePlan) throws(SchedulingError) -> Timeline {
        let graph = try ScheduleGraph(tasks: plan.tasks, dependencies: plan.dependencies)
        for link in plan.dependencies where abs(link.lagMinutes) > maximumMinutes {
            throw .beyondHorizon(taskID: link.successorID)
        }
        var axis = WorkingTimeline(calendar: plan.calendar, origin: plan.start)
        var nodes = NodeInputs(count: graph.nodeCount)
        try nodes.load(plan.tasks, graph: graph, axis: &axis)

        var passes = CriticalPathPasses(graph: graph, nodes: nodes)
        passes.run()

        return try assemble(plan: plan, graph: graph, nodes: nodes, passes: passes, axis: &axis)
    }

    // MARK: Output

    private static func assemble(
        plan: SchedulePlan, graph: ScheduleGraph, nodes: NodeInputs, passes: CriticalPathPasses,
        axis: inout WorkingTimeline
    ) throws(SchedulingError) -> Timeline {
        let n = graph.taskCount
        let finishMinute = passes.projectFinish

        // Precompute the axis over every position we are about to convert.
        var lo = min(0, finishMinute - 1), hi = max(0, finishMinute)
        for v in 0..<n where !graph.isSummary[v] {
            lo = min(lo, passes.es[v] - 1, passes.ls[v] - 1)
            hi = max(hi, passes.ef[v], passes.lf[v])
        }
        do { try axis.cover(positions: lo...hi) } catch { throw .beyondHorizon(taskID: nil) }
        let lookup = axis.lookup(covering: lo...hi)

        let originUnix = plan.start.timeIntervalSince1970
        // A milestone sits where the previous work ended (Friday 14:00), except at the very start of the plan
        // or when its own start date holds it (a start constraint, an actual start): then it is on the next start.
        func milestoneUnix(_ p: Int) -> Int {
            let finish = lookup.finishUnix(at: p)
            return Double(finish) >= originUnix ? finish : lookup.startUnix(at: p)
        }

        // Leaves first, then fold children into parents, deepest first.
        var es = [Int](repeating: .max, count: n), ef = [Int](repeating: .min, count: n)
        var ls = [Int](repeating: .max, count: n), lf = [Int](repeating: .min, count: n)
        var esAt = [Int](repeating: .max, count: n), efAt = [Int](repeating: .min, count: n)
        var lsAt = [Int](repeating: .max, count: n), lfAt = [Int](repeating: .min, count: n)
        for v in 0..<n where !graph.isSummary[v] {
            es[v] = passes.es[v]; ef[v] = passes.ef[v]; ls[v] = passes.ls[v]; lf[v] = passes.lf[v]
            if nodes.duration[v] == 0 {
                let heldByOwnStart = nodes.pinnedStart[v] == .min ? es[v] == nodes.esFloor[v] : plan.tasks[v].actualFinish == nil
                esAt[v] = heldByOwnStart ? lookup.startUnix(at: es[v]) : lookup.finishUnix(at: es[v]); efAt[v] = esAt[v]
                lsAt[v] = milestoneUnix(ls[v]); lfAt[v] = lsAt[v]
            } else {
                esAt[v] = lookup.startUnix(at: es[v]); efAt[v] = lookup.finishUnix(at: ef[v])
                lsAt[v] = lookup.startUnix(at: ls[v]); lfAt[v] = lookup.finishUnix(at: lf[v])
            }
        }
        for t in tasksDeepestFirst(graph) {
            let p = graph.parent[t]
            guard p >= 0 else { continue }
            es[p] = min(es[p], es[t]); ef[p] = max(ef[p], ef[t])
            ls[p] = min(ls[p], ls[t]); lf[p] = max(lf[p], lf[t])
            esAt[p] = min(esAt[p], esAt[t]); efAt[p] = max(efAt[p], efAt[t])
            lsAt[p] = min(lsAt[p], lsAt[t]); lfAt[p] = max(lfAt[p], lfAt[t])
        }

        var scheduled: [ScheduledTask] = []
        scheduled.reserveCapacity(n)
        for v in 0..<n {
            let summary = graph.isSummary[v]
            let total = summary ? min(ls[v] - es[v], lf[v] - ef[v]) : passes.ls[v] - passes.es[v]
            let free = max(0, min(passes.freeSlack[graph.finishNode[v]], max(0, total)))
            func date(_ unix: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(unix)) }
            scheduled.append(ScheduledTask(
                id: plan.tasks[v].id, isSummary: summary, isMilestone: !summary && nodes.duration[v] == 0,
                earlyStart: date(esAt[v]), earlyFinish: date(efAt[v]),
                lateStart: date(lsAt[v]), lateFinish: date(lfAt[v]),
                earlyStartMinute: es[v], earlyFinishMinute: ef[v],
                lateStartMinute: ls[v], lateFinishMinute: lf[v],
                totalSlack: total, freeSlack: free, isCritical: total <= 0
            ))
        }

        let finishUnix = n == 0 ? lookup.startUnix(at: 0) : milestoneUnix(finishMinute)
        return Timeline(
            start: plan.start,
            finish: Date(timeIntervalSince1970: TimeInterval(finishUnix)),
            finishMinute: finishMinute,
            tasks: scheduled,
            criticalPath: passes.criticalPath().map { plan.tasks[$0].id }
        )
    }

    /// Task indices ordered by hierarchy depth, deepest first (counting sort).
    private static func tasksDeepestFirst(_ graph: ScheduleGraph) -> [Int] {
        guard let maxDepth = graph.depth.max(), maxDepth > 0 else { return [] }
        var buckets = [[Int]](repeating: [], count: maxDepth + 1)
        for t in 0..<graph.taskCount where graph.depth[t] > 0 { buckets[graph.depth[t]].append(t) }
        return buckets.reversed().flatMap { $0 }
    }
}

/// Per-node inputs to the passes: durations, constraint positions and pinned (actual) starts.
struct NodeInputs {
    var duration: [Int]
    /// Earliest start allowed by the plan start and start-type constraints.
    var esFloor: [Int]
    /// Earliest finish allowed by finish-type constraints, or `Int.min`.
    var efFloor: [Int]
    /// Latest finish allowed by deadlines, or `Int.max`.
    var lfCap: [Int]
    /// Start fixed by actual dates, or `Int.min`.
    var pinnedStart: [Int]

    init(count: Int) {
        duration = [Int](repeating: 0, count: count)
        esFloor = [Int](repeating: 0, count: count)
        efFloor = [Int](repeating: .min, count: count)
        lfCap = [Int](repeating: .max, count: count)
        pinnedStart = [Int](repeating: .min, count: count)
    }

    mutating func load(_ tasks: [PlanTask], graph: ScheduleGraph, axis: inout WorkingTimeline) throws(SchedulingError) {
        for i in tasks.indices where !graph.isSummary[i] || tasks[i].constraint != nil {
            do {
                try load(tasks[i], index: i, graph: graph, axis: &axis)
            } catch {
                throw .beyondHorizon(taskID: tasks[i].id)
            }
        }
    }

    private mutating func load(_ task: PlanTask, index i: Int, graph: ScheduleGraph, axis: inout WorkingTimeline) throws(WorkingTimelineError) {
        if !graph.isSummary[i] {
            guard task.durationMinutes <= Scheduler.maximumMinutes else { throw .beyondHorizon(position: task.durationMinutes) }
            duration[i] = task.durationMinutes
            if let finish = task.actualFinish {
                let f = try axis.finishPosition(of: finish)
                let s = try task.actualStart.map { (d: Date) throws(WorkingTimelineError) in try axis.startPosition(of: d) } ?? f - task.durationMinutes
                pinnedStart[i] = min(s, f)
                duration[i] = max(0, f - s)
            } else if let start = task.actualStart {
                pinnedStart[i] = try axis.startPosition(of: start)
            }
        }
        guard let constraint = task.constraint else { return }
        // On a summary, start-type constraints act on its start event, finish-type on its finish event.
        let startNode = i, finishNode = graph.finishNode[i]
        let d = duration[i]
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
