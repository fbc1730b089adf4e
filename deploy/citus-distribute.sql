-- The one-off conversion of a migrated Trellis database into a Citus one (run as a superuser on the coordinator,
-- after `CREATE EXTENSION citus` and the workers are added; deploy/citus.sh does all of it, docs/scaling.md says why).
--
--   agencies                      a reference table: one small row per agency, on every node
--   every table with agency_id    distributed by agency_id, all colocated with clients (one agency's rows, one shard)
--   trellis_* tables              stay plain tables on the coordinator: the queue (its triggers, its NULL agency for
--                                 system jobs and its recursive fetch do not distribute), its leader lease and cron
--                                 slots, the migration log. A domain write and its enqueue commit in one transaction.
--
-- Citus distributes a table only when every table it references is distributed or a reference table already, and a
-- table that references agencies would be turned into a coordinator-local Citus table the moment agencies becomes a
-- reference table; so the tenant tables' foreign keys are taken off, the tables distributed, and the same keys put
-- back, all in one transaction (sequential mode: the keys are created shard by shard over one connection per worker).

BEGIN;
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

-- The functions the row-level security policies call must exist on the workers, where the shards are checked.
SELECT create_distributed_function('trellis_current_agency()');

-- Names, not oids: a table's oid changes when Citus converts it.
CREATE TEMPORARY TABLE trellis_tenant_tables ON COMMIT DROP AS
SELECT c.relname::text AS t
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'agencies' AND c.relname NOT LIKE 'trellis\_%'
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'agency_id' AND NOT a.attisdropped);

-- Every foreign key of a tenant table: to another tenant table, or to agencies (the reference table).
CREATE TEMPORARY TABLE trellis_tenant_keys ON COMMIT DROP AS
SELECT k.conrelid::regclass::text AS t, k.conname::text AS conname, pg_get_constraintdef(k.oid) AS definition
FROM pg_constraint k
WHERE k.contype = 'f' AND k.conrelid::regclass::text IN (SELECT t FROM trellis_tenant_tables);

DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM trellis_tenant_keys LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', r.t, r.conname);
    END LOOP;
END
$$;

-- The triggers that announce an agency's writes to the API processes (sql/0014) would run on the worker nodes, where
-- no API listens: they go, and the API serves nothing from memory on Citus.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT t FROM trellis_tenant_tables UNION ALL SELECT 'agencies' LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS announce_tenant_change ON %I', r.t);
    END LOOP;
END
$$;

SELECT create_reference_table('agencies');

DO $$
DECLARE r record;
BEGIN
    PERFORM create_distributed_table('clients', 'agency_id');
    FOR r IN SELECT * FROM trellis_tenant_tables WHERE t <> 'clients' ORDER BY t LOOP
        PERFORM create_distributed_table(r.t, 'agency_id', colocate_with => 'clients');
    END LOOP;
    -- Keys to agencies first (a reference table), then between tenant tables.
    FOR r IN SELECT * FROM trellis_tenant_keys ORDER BY definition NOT LIKE '%REFERENCES agencies%', t, conname LOOP
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', r.t, r.conname, r.definition);
    END LOOP;
END
$$;

COMMIT;

-- SET LOCAL trellis.agency_id reaches the workers within the transaction that set it (the store's mechanism).
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET citus.propagate_set_commands = %L', current_database(), 'local');
END
$$;
