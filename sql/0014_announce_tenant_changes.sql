-- Every write to an agency's data tells the listening API processes which agency changed: they serve some reads
-- from memory (credentials, the client list, a plan's timeline, the plan and Today pages) and drop an agency's
-- entries when its data changes (TrellisStore/Tenancy/TenantChanges.swift).
--
-- A statement-level trigger costs no round trip: it runs inside the statement that writes, and NOTIFY is sent when
-- (and only if) the transaction commits, once per agency and transaction however many statements wrote. The agency
-- is the one the transaction is scoped to; a write without one (the credential functions recording a last use) is
-- not announced, as nothing served from memory shows it.
--
-- On Citus the tenant tables' triggers would run on the worker nodes, whose notifications never reach the API:
-- deploy/citus-distribute.sql drops them, and the API serves nothing from memory there (docs/scaling.md).
-- A tenant table added by a later migration calls trellis_announce_changes(t) after trellis_distribute_tenant_table.

CREATE FUNCTION trellis_announce_tenant_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE v_agency text := current_setting('trellis.agency_id', true);
BEGIN
    IF v_agency IS NOT NULL AND v_agency <> '' THEN
        PERFORM pg_notify('trellis_tenant_changes', v_agency);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION trellis_announce_changes(t regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE distributed boolean := false;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = ''clients''::regclass)' INTO distributed;
    END IF;
    IF NOT distributed THEN
        EXECUTE format('CREATE TRIGGER announce_tenant_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION trellis_announce_tenant_change()', t);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION trellis_announce_changes(regclass) FROM PUBLIC;

-- The agencies and every tenant table (an agency_id column; the trellis_ tables are the queue's and the platform's).
SELECT trellis_announce_changes(c.oid::regclass)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE 'trellis\_%'
  AND (c.relname = 'agencies'
       OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'agency_id' AND NOT a.attisdropped));

-- Until when a credential that carries its agency is valid (NULL: no end), read with the credential itself
-- (CredentialStore.lookUp): an API process keeps a checked credential in memory no longer than this.
CREATE FUNCTION trellis_credential_valid_until(p_kind text, p_agency uuid, p_hash bytea) RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF p_kind = 'token' THEN
        RETURN (SELECT t.expires_at FROM api_tokens t WHERE t.agency_id = p_agency AND t.token_hash = p_hash);
    END IF;
    RETURN (SELECT s.expires_at FROM sessions s WHERE s.agency_id = p_agency AND s.secret_hash = p_hash);
END
$$;
ALTER FUNCTION trellis_credential_valid_until(text, uuid, bytea) OWNER TO trellis_definer;
REVOKE ALL ON FUNCTION trellis_credential_valid_until(text, uuid, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trellis_credential_valid_until(text, uuid, bytea) TO trellis_api, trellis_app;
