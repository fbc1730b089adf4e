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
        if let e = graph.firstOversizedLag { throw .beyondHorizon(taskID: plan.dependencies[e].successorID) }
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

        // Precompute the axis over every position we are about to convert (nodes that are real tasks).
        var lo = min(0, finishMinute - 1), hi = max(0, finishMinute)
        for v in 0..<graph.nodeCount where !graph.isEvent[v] {
            let times = passes.times[v]
            lo = min(lo, times.es - 1, times.ls - 1)
            hi = max(hi, times.ef, times.lf)
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

        // The dates of a task that is not a summary, from its node.
        func leafDates(_ times: CriticalPathPasses.NodeTimes, task t: Int) -> TaskDates {
            var d = TaskDates(es: times.es, ef: times.ef, ls: times.ls, lf: times.lf)
            if times.duration == 0 {
                let v = graph.node(ofTask: t)
                let heldByOwnStart = nodes.pinnedStart(of: v) == .min ? d.es == nodes.esFloor(of: v) : plan.tasks[t].actualFinish == nil
                d.esAt = heldByOwnStart ? lookup.startUnix(at: d.es) : lookup.finishUnix(at: d.es); d.efAt = d.esAt
                d.lsAt = milestoneUnix(d.ls); d.lfAt = d.lsAt
            } else {
                d.esAt = lookup.startUnix(at: d.es); d.efAt = lookup.finishUnix(at: d.ef)
                d.lsAt = lookup.startUnix(at: d.ls); d.lfAt = lookup.finishUnix(at: d.lf)
            }
            return d
        }

        // With phases: leaves first, then fold children into parents, deepest first.
        var rolledUp: [TaskDates] = []
        if graph.hasSummaries {
            rolledUp = [TaskDates](repeating: TaskDates(), count: n)
            for t in 0..<n where !graph.isSummary[t] { rolledUp[t] = leafDates(passes.times[graph.node(ofTask: t)], task: t) }
            for t in tasksDeepestFirst(graph) {
                let p = graph.parent[t]
                guard p >= 0 else { continue }
                let c = rolledUp[t]
                rolledUp[p].es = min(rolledUp[p].es, c.es); rolledUp[p].ef = max(rolledUp[p].ef, c.ef)
                rolledUp[p].ls = min(rolledUp[p].ls, c.ls); rolledUp[p].lf = max(rolledUp[p].lf, c.lf)
                rolledUp[p].esAt = min(rolledUp[p].esAt, c.esAt); rolledUp[p].efAt = max(rolledUp[p].efAt, c.efAt)
                rolledUp[p].lsAt = min(rolledUp[p].lsAt, c.lsAt); rolledUp[p].lfAt = max(rolledUp[p].lfAt, c.lfAt)
            }
        }

        func date(_ unix: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(unix)) }
        // Written in plan order (writing scattered across the fresh output costs more than reading
        // scattered nodes); each batch first copies its tasks' node records in a tight loop so those
        // cache misses overlap.
        let batch = 32
        let scheduled = [ScheduledTask](unsafeUninitializedCapacity: n) { out, initialized in
            withUnsafeTemporaryAllocation(of: CriticalPathPasses.NodeTimes.self, capacity: batch) { gathered in
                passes.times.withUnsafeBufferPointer { times in
                    var base = 0
                    while base < n {
                        let count = min(batch, n - base)
                        for j in 0..<count { gathered.initializeElement(at: j, to: times[graph.node(ofTask: base + j)]) }
                        for j in 0..<count {
                            let t = base + j
                            let summary = graph.hasSummaries && graph.isSummary[t]
                            let d = summary ? rolledUp[t] : leafDates(gathered[j], task: t)
                            let total = summary ? min(d.ls - d.es, d.lf - d.ef) : d.ls - d.es
                            let freeSlack = summary ? times[graph.finishNode(ofTask: t)].freeSlack : gathered[j].freeSlack
                            out.initializeElement(at: t, to: ScheduledTask(
                                id: graph.ids[t], isSummary: summary, isMilestone: !summary && gathered[j].duration == 0,
                                earlyStart: date(d.esAt), earlyFinish: date(d.efAt),
                                lateStart: date(d.lsAt), lateFinish: date(d.lfAt),
                                earlyStartMinute: d.es, earlyFinishMinute: d.ef,
                                lateStartMinute: d.ls, lateFinishMinute: d.lf,
                                totalSlack: total, freeSlack: max(0, min(freeSlack, max(0, total))), isCritical: total <= 0
                            ))
                            initialized = t + 1
                        }
                        base += count
                    }
                }
            }
        }

        let finishUnix = n == 0 ? lookup.startUnix(at: 0) : milestoneUnix(finishMinute)
        return Timeline(
            start: plan.start,
            finish: Date(timeIntervalSince1970: TimeInterval(finishUnix)),
            finishMinute: finishMinute,
            tasks: scheduled,
            criticalPath: passes.criticalPath().map { graph.ids[$0] }
        )
    }

    /// A task's early and late dates as axis positions and as Unix seconds; the defaults are the
    /// identities of the summary roll-up (min of starts, max of finishes).
    private struct TaskDates {
        var es = Int.max, ef = Int.min, ls = Int.max, lf = Int.min
        var esAt = Int.max, efAt = Int.min, lsAt = Int.max, lfAt = Int.min
    }

    /// Task indices ordered by hierarchy depth, deepest first (counting sort).
    private static func tasksDeepestFirst(_ graph: ScheduleGraph) -> [Int] {
        guard let maxDepth = graph.depth.max(), maxDepth > 0 else { return [] }
        var buckets = [[Int]](repeating: [], count: maxDepth + 1)
        for t in 0..<graph.taskCount where graph.depth[t] > 0 { buckets[graph.depth[t]].append(t) }
        return buckets.reversed().flatMap { $0 }
    }
}
