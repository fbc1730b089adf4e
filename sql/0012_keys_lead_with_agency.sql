-- Every unique key of a tenant table leads with agency_id, so that Citus can distribute the tables by agency: the
-- credential hashes were unique on their own. A credential issued from now on carries its agency (see
-- CredentialStore.newSecret), and is looked up by (agency, hash): one shard. Credentials issued before keep working
-- through the hash-only functions and a plain index (on Citus such a look-up asks every shard).
--
-- The credential functions become PL/pgSQL: Citus plans each of their statements on its own, with the parameters
-- bound, which it cannot do for a SQL-language function's parameters.
--
-- A tenant table added by a later migration is created without its tenant foreign keys, handed to
-- trellis_distribute_tenant_table right after (a no-op on plain PostgreSQL), and gets its foreign keys after that:
-- the order in which Citus can take it.

ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_token_hash_key;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_agency_hash_key UNIQUE (agency_id, token_hash);
CREATE INDEX api_tokens_by_hash ON api_tokens (token_hash);

ALTER TABLE sessions DROP CONSTRAINT sessions_secret_hash_key;
ALTER TABLE sessions ADD CONSTRAINT sessions_agency_hash_key UNIQUE (agency_id, secret_hash);
CREATE INDEX sessions_by_hash ON sessions (secret_hash);

ALTER TABLE calendar_feeds DROP CONSTRAINT calendar_feeds_token_hash_key;
ALTER TABLE calendar_feeds ADD CONSTRAINT calendar_feeds_agency_hash_key UNIQUE (agency_id, token_hash);
CREATE INDEX calendar_feeds_by_hash ON calendar_feeds (token_hash);

ALTER TABLE share_links DROP CONSTRAINT share_links_secret_hash_key;
ALTER TABLE share_links ADD CONSTRAINT share_links_agency_hash_key UNIQUE (agency_id, secret_hash);
CREATE INDEX share_links_by_hash ON share_links (secret_hash);

-- By agency and hash: what a credential carrying its agency is checked with.
CREATE FUNCTION trellis_authenticate_token(p_agency uuid, p_hash bytea)
RETURNS TABLE (agency_id uuid, token_id uuid, member_id uuid, role member_role, client_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY
    SELECT t.agency_id, t.id, t.member_id, m.role, m.client_id
    FROM api_tokens t JOIN members m ON m.agency_id = t.agency_id AND m.id = t.member_id
    WHERE t.agency_id = p_agency AND m.agency_id = p_agency AND t.token_hash = p_hash
      AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now());
    UPDATE api_tokens t SET last_used_at = now()
    WHERE t.agency_id = p_agency AND t.token_hash = p_hash
      AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute');
END
$$;

CREATE FUNCTION trellis_authenticate_session(p_agency uuid, p_hash bytea)
RETURNS TABLE (agency_id uuid, session_id uuid, member_id uuid, role member_role, client_id uuid, csrf_token text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY
    SELECT s.agency_id, s.id, s.member_id, m.role, m.client_id, s.csrf_token
    FROM sessions s JOIN members m ON m.agency_id = s.agency_id AND m.id = s.member_id
    WHERE s.agency_id = p_agency AND m.agency_id = p_agency AND s.secret_hash = p_hash AND s.expires_at > now();
END
$$;

CREATE FUNCTION trellis_resolve_feed(p_agency uuid, p_hash bytea)
RETURNS TABLE (agency_id uuid, plan_id uuid, member_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY
    SELECT f.agency_id, f.plan_id, f.member_id FROM calendar_feeds f WHERE f.agency_id = p_agency AND f.token_hash = p_hash;
END
$$;

CREATE FUNCTION trellis_redeem_share_link(p_agency uuid, p_hash bytea)
RETURNS TABLE (agency_id uuid, member_id uuid, client_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY
        UPDATE share_links s SET last_used_at = now()
         WHERE s.agency_id = p_agency AND s.secret_hash = p_hash AND s.revoked_at IS NULL AND s.expires_at > now()
        RETURNING s.agency_id, s.member_id, s.client_id;
END
$$;

-- Password sign-in names the agency by its slug: the agency first (a reference table), then its member, by agency.
CREATE OR REPLACE FUNCTION trellis_find_login(p_agency_slug text, p_email text)
RETURNS TABLE (agency_id uuid, member_id uuid, password_hash text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
DECLARE v_agency uuid;
BEGIN
    SELECT a.id INTO v_agency FROM agencies a WHERE a.slug = p_agency_slug;
    IF v_agency IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT m.agency_id, m.id, m.password_hash
    FROM members m
    WHERE m.agency_id = v_agency AND lower(m.email) = lower(p_email) AND m.password_hash IS NOT NULL;
END
$$;

-- An older credential carries no agency. Its look-up finds the agency by the hash alone (a plain index here; every
-- shard on Citus), then makes the check above: one definition of each check.
CREATE OR REPLACE FUNCTION trellis_authenticate_token(p_hash bytea)
RETURNS TABLE (agency_id uuid, token_id uuid, member_id uuid, role member_role, client_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY SELECT * FROM trellis_authenticate_token((SELECT t.agency_id FROM api_tokens t WHERE t.token_hash = p_hash), p_hash);
END
$$;

CREATE OR REPLACE FUNCTION trellis_authenticate_session(p_hash bytea)
RETURNS TABLE (agency_id uuid, session_id uuid, member_id uuid, role member_role, client_id uuid, csrf_token text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY SELECT * FROM trellis_authenticate_session((SELECT s.agency_id FROM sessions s WHERE s.secret_hash = p_hash), p_hash);
END
$$;

CREATE OR REPLACE FUNCTION trellis_resolve_feed(p_hash bytea)
RETURNS TABLE (agency_id uuid, plan_id uuid, member_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY SELECT * FROM trellis_resolve_feed((SELECT f.agency_id FROM calendar_feeds f WHERE f.token_hash = p_hash), p_hash);
END
$$;

CREATE OR REPLACE FUNCTION trellis_redeem_share_link(p_hash bytea)
RETURNS TABLE (agency_id uuid, member_id uuid, client_id uuid)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY SELECT * FROM trellis_redeem_share_link((SELECT s.agency_id FROM share_links s WHERE s.secret_hash = p_hash), p_hash);
END
$$;

ALTER FUNCTION trellis_authenticate_token(uuid, bytea) OWNER TO trellis_definer;
ALTER FUNCTION trellis_authenticate_session(uuid, bytea) OWNER TO trellis_definer;
ALTER FUNCTION trellis_resolve_feed(uuid, bytea) OWNER TO trellis_definer;
ALTER FUNCTION trellis_redeem_share_link(uuid, bytea) OWNER TO trellis_definer;
REVOKE ALL ON FUNCTION trellis_authenticate_token(uuid, bytea), trellis_authenticate_session(uuid, bytea),
    trellis_resolve_feed(uuid, bytea), trellis_redeem_share_link(uuid, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trellis_authenticate_token(uuid, bytea), trellis_authenticate_session(uuid, bytea),
    trellis_resolve_feed(uuid, bytea), trellis_redeem_share_link(uuid, bytea) TO trellis_api, trellis_app;

-- Distributes a tenant table by agency, colocated with the others, when this database runs on Citus and its tenant
-- tables are already distributed (deploy/citus-distribute.sql); on plain PostgreSQL it does nothing.
CREATE FUNCTION trellis_distribute_tenant_table(t regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE distributed boolean := false;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN  -- Citus is installed: its catalog is read by name
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = ''clients''::regclass)' INTO distributed;
    END IF;
    IF distributed THEN
        -- The foreign keys added next in the same migration are created shard by shard over one connection per worker.
        PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
        EXECUTE format('SELECT create_distributed_table(%L, %L, colocate_with => %L)', t, 'agency_id', 'clients');
    END IF;
END
$$;
REVOKE ALL ON FUNCTION trellis_distribute_tenant_table(regclass) FROM PUBLIC;
