-- Exports of many plans at once (zipped), produced by a job on the worker and downloadable until they expire.
CREATE TABLE exports (
    agency_id      uuid NOT NULL REFERENCES agencies (id),
    id             uuid NOT NULL,
    job_id         bigint,
    format         text NOT NULL,
    client_id      uuid,
    plan_id        uuid,
    status         text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'ready', 'failed')),
    plans_done     integer NOT NULL DEFAULT 0,
    plans_total    integer NOT NULL DEFAULT 0,
    file           bytea,
    file_name      text,
    content_type   text,
    error          text,
    requested_by   uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    expires_at     timestamptz,
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id),
    FOREIGN KEY (agency_id, plan_id) REFERENCES plans (agency_id, id) ON DELETE CASCADE
);
CREATE INDEX exports_expiring ON exports (expires_at) WHERE file IS NOT NULL;

-- Secret tokens behind the webcal subscription feeds (per plan and per person); rotating replaces the row.
CREATE TABLE calendar_feeds (
    agency_id   uuid NOT NULL REFERENCES agencies (id),
    id          uuid NOT NULL,
    plan_id     uuid,
    member_id   uuid,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, plan_id) REFERENCES plans (agency_id, id) ON DELETE CASCADE,
    FOREIGN KEY (agency_id, member_id) REFERENCES members (agency_id, id) ON DELETE CASCADE,
    CHECK ((plan_id IS NULL) <> (member_id IS NULL))
);
CREATE UNIQUE INDEX calendar_feeds_one_per_plan ON calendar_feeds (agency_id, plan_id) WHERE plan_id IS NOT NULL;
CREATE UNIQUE INDEX calendar_feeds_one_per_member ON calendar_feeds (agency_id, member_id) WHERE member_id IS NOT NULL;

SELECT trellis_protect_tenant_table(t)
FROM unnest(ARRAY['exports', 'calendar_feeds']::regclass[]) AS t;

-- A feed is fetched by calendar apps with only its secret: resolve it before the agency is known.
CREATE FUNCTION trellis_resolve_feed(p_hash bytea)
RETURNS TABLE (agency_id uuid, plan_id uuid, member_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT agency_id, plan_id, member_id FROM calendar_feeds WHERE token_hash = p_hash
$$;
REVOKE ALL ON FUNCTION trellis_resolve_feed(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trellis_resolve_feed(bytea) TO trellis_app;
