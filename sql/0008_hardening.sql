-- Hardening: row-level security forced on every tenant table, the credential functions owned by a role that
-- may pass it, separate roles for the API and the worker, token expiry, case-insensitive emails, and webhook
-- secrets that rotate with an overlap.
--
-- Needs a superuser once (like 0001's CREATE ROLE): only a superuser may create a BYPASSRLS role on PostgreSQL 15.

DO $$
DECLARE spec text[];
BEGIN
    FOREACH spec SLICE 1 IN ARRAY ARRAY[['trellis_definer', 'BYPASSRLS'], ['trellis_api', 'NOBYPASSRLS'], ['trellis_worker', 'NOBYPASSRLS']]
    LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN %s', spec[1], spec[2]);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN  -- another database of the cluster made it
            NULL;
        END;
    END LOOP;
END
$$;

-- The worker (and the scheduler) keep every right trellis_app had: the tenant tables through RLS, and the
-- whole queue, across agencies, which is what fetching and maintenance need.
GRANT trellis_app TO trellis_worker;

-- The API: the tenant tables (through RLS), and of the queue only what enqueueing and an agency's own job
-- pages need; the queue's policy below limits it to the agency of the transaction.
GRANT USAGE ON SCHEMA public TO trellis_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    agencies, clients, members, client_contacts, time_off, roles, assignments, api_tokens, sessions,
    templates, plans, plan_tasks, plan_dependencies, plan_baselines, exports, calendar_feeds,
    notifications, webhooks, webhook_deliveries, reminders_sent
TO trellis_api;
GRANT SELECT ON trellis_schema_migrations TO trellis_api;
GRANT SELECT, INSERT, UPDATE ON trellis_jobs TO trellis_api;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO trellis_api;
GRANT EXECUTE ON FUNCTION trellis_current_agency() TO trellis_api;

-- The queue belongs to the worker's role: as the owner it is not bound by the queue's row-level security (not
-- forced here), so fetching and completing run at full speed, while the API's role is bound by its policy and
-- sees only the jobs of the agency its transaction names. (Measured: an always-true policy for the worker
-- halved the drain, 34k/s → 18k/s.)
ALTER TABLE trellis_jobs OWNER TO trellis_app;
ALTER TABLE trellis_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_own_agency ON trellis_jobs TO trellis_api
    USING (agency_id = trellis_current_agency()) WITH CHECK (agency_id = trellis_current_agency());

-- RLS binds the tables' owner too: only trellis_definer (which owns the functions that look credentials up
-- before the agency is known) passes it.
ALTER TABLE agencies FORCE ROW LEVEL SECURITY;
DO $$
DECLARE t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity AND c.relname <> 'trellis_jobs'
    LOOP
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

-- Tokens may expire; their last use is written at most once a minute (no row lock per request).
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;

-- Emails are matched case-insensitively at sign-in, so they are unique that way too.
CREATE UNIQUE INDEX members_email_ci ON members (agency_id, lower(email));

-- Rotation keeps the previous secret signing beside the new one until it expires.
ALTER TABLE webhooks ADD COLUMN previous_secret text, ADD COLUMN previous_secret_expires_at timestamptz;

CREATE OR REPLACE FUNCTION trellis_authenticate_token(p_hash bytea)
RETURNS TABLE (agency_id uuid, token_id uuid, member_id uuid, role member_role, client_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY
    SELECT t.agency_id, t.id, t.member_id, m.role, m.client_id
    FROM api_tokens t JOIN members m ON m.agency_id = t.agency_id AND m.id = t.member_id
    WHERE t.token_hash = p_hash AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now());
    UPDATE api_tokens SET last_used_at = now()
    WHERE token_hash = p_hash AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
END
$$;

-- The queue's gauges for /metrics: counts only, across agencies, for a role that cannot read the jobs.
CREATE FUNCTION trellis_queue_depths()
RETURNS TABLE (queue text, state text, jobs bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT queue, state::text, count(*) FROM trellis_jobs GROUP BY queue, state ORDER BY queue, state
$$;
CREATE FUNCTION trellis_queue_oldest_available()
RETURNS TABLE (queue text, age_seconds float8)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT queue, extract(epoch FROM now() - min(run_at))::float8
    FROM trellis_jobs WHERE state = 'available' GROUP BY queue ORDER BY queue
$$;
REVOKE ALL ON FUNCTION trellis_queue_depths(), trellis_queue_oldest_available() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trellis_queue_depths(), trellis_queue_oldest_available() TO trellis_app, trellis_api;

GRANT USAGE, CREATE ON SCHEMA public TO trellis_definer;  -- an owner of functions needs CREATE on their schema
GRANT SELECT ON agencies, members, sessions, calendar_feeds, trellis_jobs TO trellis_definer;
GRANT SELECT, UPDATE ON api_tokens TO trellis_definer;
ALTER FUNCTION trellis_authenticate_token(bytea) OWNER TO trellis_definer;
ALTER FUNCTION trellis_authenticate_session(bytea) OWNER TO trellis_definer;
ALTER FUNCTION trellis_find_login(text, text) OWNER TO trellis_definer;
ALTER FUNCTION trellis_agency_ids() OWNER TO trellis_definer;
ALTER FUNCTION trellis_resolve_feed(bytea) OWNER TO trellis_definer;
ALTER FUNCTION trellis_queue_depths() OWNER TO trellis_definer;
ALTER FUNCTION trellis_queue_oldest_available() OWNER TO trellis_definer;
REVOKE ALL ON FUNCTION trellis_authenticate_token(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trellis_authenticate_token(bytea), trellis_authenticate_session(bytea),
    trellis_find_login(text, text), trellis_agency_ids(), trellis_resolve_feed(bytea) TO trellis_api;
