import Foundation
import PostgresNIO
import TrellisDomain

/// Read models of every active plan's health and this week's work, from the rows the last schedule stored (published
/// dates and slack): the Today page and a client's page judge a hundred plans without loading or scheduling any.
public struct PlanHealthReads: Sendable {
    public let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// One active plan with the facts its health is judged from.
    public struct PlanFacts: Sendable, Hashable {
        public var id: PlanID
        public var name: String
        public var clientID: ClientID
        public var clientName: String
        public var clientStatus: String
        /// The calendar's time zone (the client's when it has no calendar of its own).
        public var timeZone: String
        public var facts: PlanHealth.Facts
    }

    /// An unfinished task (not a phase) that starts or finishes in a week, with its local days in its plan's zone.
    public struct WeekTask: Sendable, Hashable {
        public var plan: PlanID
        public var task: TaskID
        public var name: String
        public var clientName: String
        public var assignee: String?
        public var startDay: LocalDate
        public var finishDay: LocalDate
        public var critical: Bool
    }

    static let activePlans = """
        SELECT p.id, p.name, p.client_id, c.name AS client_name, c.status::text AS client_status, p.starts_at, p.created_at,
               coalesce(c.calendar->>'timeZoneID', c.time_zone) AS zone
        FROM plans p JOIN clients c ON c.agency_id = $1 AND c.id = p.client_id
        WHERE p.agency_id = $1 AND p.archived_at IS NULL AND ($2::uuid IS NULL OR p.client_id = $2)
        """

    static let leaf = """
        NOT EXISTS (SELECT 1 FROM plan_tasks ch WHERE ch.agency_id = $1 AND ch.plan_id = t.plan_id AND ch.parent_id = t.id)
        """

    /// Every active plan of the agency (of one client, if given) with its health facts at `now`, in creation order: the
    /// summary each plan's last write stored, and its latest baseline's finish.
    public func plans(client: ClientID? = nil, now: Date, on connection: TenantConnection) async throws -> [PlanFacts] {
        let clientID = client?.rawValue
        let rows = try await connection.query("""
            SELECT p.id, p.name, p.client_id, c.name, c.status::text, coalesce(c.calendar->>'timeZoneID', c.time_zone),
                   coalesce(p.schedule_finish, p.starts_at), p.schedule_first_unfinished_finish, p.schedule_negative_slack,
                   p.schedule_has_work, p.schedule_all_done,
                   (SELECT b.finish FROM plan_baselines b WHERE b.agency_id = \(connection.agencyID) AND b.plan_id = p.id
                    ORDER BY b.created_at DESC, b.name LIMIT 1)
            FROM plans p JOIN clients c ON c.agency_id = \(connection.agencyID) AND c.id = p.client_id
            WHERE p.agency_id = \(connection.agencyID) AND p.archived_at IS NULL AND (\(clientID)::uuid IS NULL OR p.client_id = \(clientID))
            ORDER BY p.created_at, p.id
            """, logger: logger)
        var result: [PlanFacts] = []
        for try await (id, name, client, clientName, status, zone, finish, firstUnfinished, negative, hasWork, allDone, baseline)
            in rows.decode((UUID, String, UUID, String, String, String, Date, Date?, Bool, Bool, Bool, Date?).self) {
            let summary = PlanScheduleSummary(finish: finish, firstUnfinishedFinish: firstUnfinished, negativeSlack: negative,
                                              hasWork: hasWork, allDone: allDone)
            result.append(PlanFacts(
                id: PlanID(id), name: name, clientID: ClientID(client), clientName: clientName, clientStatus: status, timeZone: zone,
                facts: summary.facts(now: now, baselineFinish: baseline)))
        }
        return result
    }

    /// Unfinished tasks of active plans that start or finish between `first` and `last` (local days of each plan).
    public func weekTasks(from first: LocalDate, through last: LocalDate, on connection: TenantConnection) async throws -> [WeekTask] {
        let agency = connection.agency
        var bindings = PostgresBindings()
        bindings.append(agency.rawValue)
        bindings.append(Optional<UUID>.none)
        bindings.append(first.description)
        bindings.append(last.description)
        // Each plan's local days lie within 14 hours of UTC's: a window the date indexes can serve, refined below.
        bindings.append(Date(timeIntervalSince1970: Double(first.dayNumber) * 86_400 - 14 * 3600))
        bindings.append(Date(timeIntervalSince1970: Double(last.dayNumber + 1) * 86_400 + 14 * 3600))
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            WITH active AS (\(Self.activePlans)),
            local AS (
                SELECT t.plan_id, t.id, t.name, a.client_name, t.assignee_id, coalesce(t.published_slack_minutes <= 0, false) AS critical,
                       (t.ical_start AT TIME ZONE a.zone)::date AS start_day, (t.ical_finish AT TIME ZONE a.zone)::date AS finish_day
                FROM plan_tasks t JOIN active a ON a.id = t.plan_id
                WHERE t.agency_id = $1 AND t.percent_complete < 100 AND t.ical_start IS NOT NULL
                  AND (t.ical_start BETWEEN $5 AND $6 OR t.ical_finish BETWEEN $5 AND $6) AND \(Self.leaf)
            )
            SELECT l.plan_id, l.id, l.name, l.client_name, m.display_name, l.start_day::text, l.finish_day::text, l.critical
            FROM local l LEFT JOIN members m ON m.agency_id = $1 AND m.id = l.assignee_id
            WHERE l.start_day BETWEEN $3::date AND $4::date OR l.finish_day BETWEEN $3::date AND $4::date
            """, binds: bindings), logger: logger)
        var result: [WeekTask] = []
        for try await (plan, task, name, client, assignee, start, finish, critical)
            in rows.decode((UUID, UUID, String, String, String?, String, String, Bool).self) {
            guard let startDay = LocalDate(start), let finishDay = LocalDate(finish) else { continue }
            result.append(WeekTask(plan: PlanID(plan), task: TaskID(task), name: name, clientName: client, assignee: assignee,
                                   startDay: startDay, finishDay: finishDay, critical: critical))
        }
        return result
    }
}
