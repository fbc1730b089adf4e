-- What the last schedule of each plan left, stored where read models find it without loading or scheduling the plan:
-- each task's total slack beside its published dates, and on the plan the facts its health is judged from (finish,
-- the earliest finish among unfinished tasks, whether any task has negative slack, whether all work is done). The
-- Today page and a client's page judge a hundred plans with one small statement. Every plan write and recompute
-- writes them; existing plans get them from their stored dates here (negative slack becomes known at their next
-- write or recompute).
ALTER TABLE plan_tasks ADD COLUMN published_slack_minutes integer;

ALTER TABLE plans
    ADD COLUMN schedule_finish timestamptz,
    ADD COLUMN schedule_first_unfinished_finish timestamptz,
    ADD COLUMN schedule_negative_slack boolean NOT NULL DEFAULT false,
    ADD COLUMN schedule_has_work boolean NOT NULL DEFAULT false,
    ADD COLUMN schedule_all_done boolean NOT NULL DEFAULT false;

-- Which tasks are phases (have children), and this week's tasks by date: the parent foreign key had no index.
CREATE INDEX plan_tasks_by_parent ON plan_tasks (agency_id, plan_id, parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX plan_tasks_by_start ON plan_tasks (agency_id, ical_start);
CREATE INDEX plan_tasks_by_finish ON plan_tasks (agency_id, ical_finish);

-- The backfill reads every agency's rows: RLS binds the owner too (0008), so it is lifted for this transaction only
-- (the ALTERs hold the tables' locks until COMMIT; no other session sees them unforced).
ALTER TABLE plans NO FORCE ROW LEVEL SECURITY;
ALTER TABLE plan_tasks NO FORCE ROW LEVEL SECURITY;
UPDATE plans p SET
    schedule_finish = coalesce(s.finish, p.starts_at),
    schedule_first_unfinished_finish = s.first_unfinished,
    schedule_has_work = coalesce(s.has_work, false),
    schedule_all_done = coalesce(s.all_done, false)
FROM plans q
LEFT JOIN LATERAL (
    SELECT max(t.ical_finish) AS finish, min(t.ical_finish) FILTER (WHERE t.percent_complete < 100) AS first_unfinished,
           count(*) > 0 AS has_work, bool_and(t.percent_complete = 100) AS all_done
    FROM plan_tasks t
    WHERE t.agency_id = q.agency_id AND t.plan_id = q.id
      AND NOT EXISTS (SELECT 1 FROM plan_tasks ch WHERE ch.agency_id = t.agency_id AND ch.plan_id = t.plan_id AND ch.parent_id = t.id)
) s ON true
WHERE p.agency_id = q.agency_id AND p.id = q.id;
ALTER TABLE plans FORCE ROW LEVEL SECURITY;
ALTER TABLE plan_tasks FORCE ROW LEVEL SECURITY;
