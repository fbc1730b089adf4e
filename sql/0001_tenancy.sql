-- Tenancy, people, clients, roles, assignments, credentials.
-- Every tenant table leads its primary key and its tenant foreign keys with agency_id (the shape Citus
-- needs to distribute by agency), and has a row-level security policy on the current agency.

-- The application's role: no BYPASSRLS, not the owner of any table, so policies always apply to it.
-- A deployment grants it to its login role (`GRANT trellis_app TO trellis_api_login`).
DO $$
BEGIN
    CREATE ROLE trellis_app NOLOGIN NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN  -- two migrations racing on one cluster
    NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO trellis_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO trellis_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO trellis_app;

-- The agency of the current transaction, set by the store with set_config('trellis.agency_id', …, true).
CREATE FUNCTION trellis_current_agency() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('trellis.agency_id', true), '')::uuid
$$;

CREATE TABLE agencies (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE member_role AS ENUM ('owner', 'manager', 'consultant', 'client_viewer');
CREATE TYPE client_status AS ENUM ('prospect', 'onboarding', 'active', 'paused', 'offboarded');
CREATE TYPE commitment AS ENUM ('hard', 'soft');
CREATE TYPE allocation_unit AS ENUM ('percent', 'hours_per_week');

CREATE TABLE clients (
    agency_id   uuid NOT NULL REFERENCES agencies (id),
    id          uuid NOT NULL,
    name        text NOT NULL,
    slug        text NOT NULL,
    industry    text,
    time_zone   text NOT NULL,
    status      client_status NOT NULL DEFAULT 'prospect',
    channels    jsonb NOT NULL DEFAULT '[]',
    goals       jsonb NOT NULL DEFAULT '[]',
    archived_at timestamptz,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, id),
    UNIQUE (agency_id, slug)
);
CREATE INDEX clients_listing ON clients (agency_id, created_at, id);

CREATE TABLE members (
    agency_id             uuid NOT NULL REFERENCES agencies (id),
    id                    uuid NOT NULL,
    email                 text NOT NULL,
    display_name          text NOT NULL,
    role                  member_role NOT NULL,
    client_id             uuid,
    weekly_capacity_hours numeric(5, 2) NOT NULL DEFAULT 40,
    password_hash         text,
    version               integer NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, id),
    UNIQUE (agency_id, email),
    FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id),
    CHECK ((role = 'client_viewer') = (client_id IS NOT NULL))
);

CREATE TABLE client_contacts (
    agency_id             uuid NOT NULL REFERENCES agencies (id),
    id                    uuid NOT NULL,
    client_id             uuid NOT NULL,
    name                  text NOT NULL,
    email                 text,
    title                 text,
    weekly_capacity_hours numeric(5, 2),
    created_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id)
);

CREATE TABLE time_off (
    agency_id  uuid NOT NULL REFERENCES agencies (id),
    id         uuid NOT NULL,
    member_id  uuid NOT NULL,
    starts_on  date NOT NULL,
    ends_on    date NOT NULL CHECK (ends_on >= starts_on),
    reason     text,
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, member_id) REFERENCES members (agency_id, id) ON DELETE CASCADE
);
CREATE INDEX time_off_by_member ON time_off (agency_id, member_id, starts_on);

CREATE TABLE roles (
    agency_id   uuid NOT NULL REFERENCES agencies (id),
    id          uuid NOT NULL,
    key         text NOT NULL,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    built_in    boolean NOT NULL DEFAULT false,
    archived_at timestamptz,
    PRIMARY KEY (agency_id, id),
    UNIQUE (agency_id, key)
);

CREATE TABLE assignments (
    agency_id        uuid NOT NULL REFERENCES agencies (id),
    id               uuid NOT NULL,
    member_id        uuid NOT NULL,
    client_id        uuid NOT NULL,
    role_id          uuid NOT NULL,
    allocation_unit  allocation_unit NOT NULL,
    allocation_value numeric(6, 2) NOT NULL CHECK (allocation_value > 0),
    starts_on        date NOT NULL,
    ends_on          date NOT NULL CHECK (ends_on >= starts_on),
    commitment       commitment NOT NULL DEFAULT 'hard',
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, member_id) REFERENCES members (agency_id, id),
    FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id),
    FOREIGN KEY (agency_id, role_id) REFERENCES roles (agency_id, id)
);
CREATE INDEX assignments_by_member ON assignments (agency_id, member_id, starts_on);
CREATE INDEX assignments_by_client ON assignments (agency_id, client_id, starts_on);

-- API tokens: only a SHA-256 of the secret is kept (the secret is 32 random bytes, so a slow hash adds nothing).
CREATE TABLE api_tokens (
    agency_id    uuid NOT NULL REFERENCES agencies (id),
    id           uuid NOT NULL,
    member_id    uuid NOT NULL,
    name         text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, member_id) REFERENCES members (agency_id, id) ON DELETE CASCADE
);

CREATE TABLE sessions (
    agency_id    uuid NOT NULL REFERENCES agencies (id),
    id           uuid NOT NULL,
    member_id    uuid NOT NULL,
    secret_hash  bytea NOT NULL UNIQUE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (agency_id, id),
    FOREIGN KEY (agency_id, member_id) REFERENCES members (agency_id, id) ON DELETE CASCADE
);

-- Row-level security: a policy per tenant table on the transaction's agency.
ALTER TABLE agencies ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON agencies
    USING (id = trellis_current_agency()) WITH CHECK (id = trellis_current_agency());

-- Every tenant table gets the same guard: RLS on, one policy on the transaction's agency.
CREATE FUNCTION trellis_protect_tenant_table(t regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (agency_id = trellis_current_agency()) '
                   'WITH CHECK (agency_id = trellis_current_agency())', t);
END
$$;

SELECT trellis_protect_tenant_table(t)
FROM unnest(ARRAY['clients', 'members', 'client_contacts', 'time_off', 'roles', 'assignments', 'api_tokens', 'sessions']::regclass[]) AS t;
REVOKE ALL ON FUNCTION trellis_protect_tenant_table(regclass) FROM PUBLIC;

-- Credentials are looked up before the agency is known; these functions run as the owner (past RLS)
-- and return only what authentication needs.
CREATE FUNCTION trellis_authenticate_token(p_hash bytea)
RETURNS TABLE (agency_id uuid, token_id uuid, member_id uuid, role member_role, client_id uuid)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    UPDATE api_tokens t SET last_used_at = now()
    FROM members m
    WHERE t.token_hash = p_hash AND t.revoked_at IS NULL
      AND m.agency_id = t.agency_id AND m.id = t.member_id
    RETURNING t.agency_id, t.id, t.member_id, m.role, m.client_id
$$;

CREATE FUNCTION trellis_authenticate_session(p_hash bytea)
RETURNS TABLE (agency_id uuid, session_id uuid, member_id uuid, role member_role, client_id uuid, csrf_token text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT s.agency_id, s.id, s.member_id, m.role, m.client_id, s.csrf_token
    FROM sessions s JOIN members m ON m.agency_id = s.agency_id AND m.id = s.member_id
    WHERE s.secret_hash = p_hash AND s.expires_at > now()
$$;

CREATE FUNCTION trellis_find_login(p_agency_slug text, p_email text)
RETURNS TABLE (agency_id uuid, member_id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT m.agency_id, m.id, m.password_hash
    FROM members m JOIN agencies a ON a.id = m.agency_id
    WHERE a.slug = p_agency_slug AND lower(m.email) = lower(p_email) AND m.password_hash IS NOT NULL
$$;

-- For system work (scans, digests) that visits every agency, one transaction per agency.
CREATE FUNCTION trellis_agency_ids() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT id FROM agencies ORDER BY id
$$;

REVOKE ALL ON FUNCTION trellis_authenticate_token(bytea), trellis_authenticate_session(bytea),
    trellis_find_login(text, text), trellis_agency_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trellis_authenticate_token(bytea), trellis_authenticate_session(bytea),
    trellis_find_login(text, text), trellis_agency_ids(), trellis_current_agency() TO trellis_app;
GRANT SELECT ON trellis_schema_migrations TO trellis_app;
