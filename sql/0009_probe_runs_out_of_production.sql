-- `system.probe` was test scaffolding in the production worker: it moved to the test-only `trellis-testbed`
-- executable, which records its runs in a table the test creates. Production keeps no probe table.
DROP TABLE IF EXISTS trellis_probe_runs;
