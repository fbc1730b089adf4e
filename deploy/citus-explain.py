#!/usr/bin/env python3
"""EXPLAIN of what the API sent to a Citus coordinator (deploy/citus.sh): the statements of the role trellis_api read with
their parameters from the coordinator's log (log_min_duration_statement = 0 for that role), explained again as
trellis_api in a transaction scoped to the agency, with the number of shards each touches. First the plan edit (the
transaction that locks the plan, inside the smoke's PATCH window), then every statement of the whole smoke run; the
statements inside the credential functions are explained with each call's values. CITUS_EXPLAIN_FULL=1 prints the
edit's plans whole. Prints `explain one_shard=… coordinator_only=… more_shards=… failed=… …`.

Usage: citus-explain.py COORDINATOR_LOG PATCH_START,PATCH_END AGENCY_ID TRELLIS_API_URL SMOKE_START,SMOKE_END
"""
import datetime, os, re, subprocess, sys
log, window, agency, url = sys.argv[1], sys.argv[2].split(","), sys.argv[3], sys.argv[4]
start, end = float(window[0]) - 0.05, float(window[1]) + 0.05
entries, current = [], None
for line in open(log, encoding="utf-8", errors="replace"):
    m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (\w+) \[(\d+)\] (\S*) (LOG|ERROR|WARNING|STATEMENT|DETAIL|CONTEXT|HINT):\s*(.*)", line)
    if m:
        stamp = datetime.datetime.strptime(m.group(1) + " " + m.group(2), "%Y-%m-%d %H:%M:%S.%f %Z")
        current = {"t": stamp.replace(tzinfo=datetime.timezone.utc).timestamp(), "pid": m.group(3), "user": m.group(4), "kind": m.group(5),
                   "text": m.group(6)}
        entries.append(current)
    elif current is not None:
        current["text"] += "\n" + line.rstrip("\n")
def statements(start, end, pid=None):
    found = []
    for k, e in enumerate(entries):
        m = re.match(r"duration: [\d.]+ ms  execute [^:]*: (.*)", e["text"], re.S)
        if not m or e["user"] != "trellis_api" or not (start <= e["t"] <= end) or (pid and e["pid"] != pid):
            continue
        sql = m.group(1)
        detail = entries[k + 1]["text"] if k + 1 < len(entries) and entries[k + 1]["kind"] == "DETAIL" else ""
        params = dict((int(n), v) for n, v in re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", detail))
        for n in sorted(params, reverse=True):
            sql = re.sub(r"\$%d(?!\d)" % n, lambda _: params[n], sql)
        found.append(sql)
    return found
full, plans = os.environ.get("CITUS_EXPLAIN_FULL") == "1", []

def explain(sql):
    script = f"BEGIN;\nSET LOCAL trellis.agency_id = '{agency}';\nEXPLAIN (COSTS OFF) {sql};\nROLLBACK;\n"
    out = subprocess.run(["psql", "-X", "-At", url], input=script, capture_output=True, text=True)
    if out.returncode != 0 or "ERROR" in out.stderr:
        return None, "EXPLAIN failed: " + (out.stderr.strip().splitlines() or ["?"])[0][:60]
    if "Citus" not in out.stdout:
        return 0, "coordinator (not distributed)"
    tasks = [int(n) for n in re.findall(r"Task Count: (\d+)", out.stdout)]
    if full:
        plans.append(out.stdout)
    return max(tasks), "shards: " + "+".join(map(str, tasks))

def scoped(sql):
    head = " ".join(sql.split())
    return not head.upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SET LOCAL", "SELECT 1"))

# The edit is the transaction that locks the plan (FOR UPDATE OF p) inside the request's window (other requests' statements
# come within milliseconds of it): its connection's statements from the credential check before it to its COMMIT.
edit = []
for e in entries:
    if e["user"] == "trellis_api" and start <= e["t"] <= end and "FOR UPDATE OF p" in e["text"] and "execute" in e["text"]:
        same = [(e2["t"], e2["text"]) for e2 in entries if e2["pid"] == e["pid"] and e2["user"] == "trellis_api"
                and "execute" in e2["text"] and start <= e2["t"] <= end]
        texts = [t for _, t in same]
        lock = texts.index(e["text"])
        first = max([i for i, t in enumerate(texts[:lock]) if "trellis_authenticate" in t] or [0])
        last = next((i for i, t in enumerate(texts) if i > lock and "COMMIT" in t), len(texts) - 1)
        window_pid, edit_range = e["pid"], (same[first][0], same[last][0])
        edit = statements(edit_range[0], edit_range[1], window_pid)
        break
# A credential function runs its own statements; they are explained with the call's values.
def inner(sql):
    m = re.search(r"FROM trellis_authenticate_session\('([^']+)', '([^']+)'\)", sql)
    if m:
        return [f"SELECT s.agency_id, s.id, s.member_id, m.role, m.client_id, s.csrf_token FROM sessions s JOIN members m "
                f"ON m.agency_id = s.agency_id AND m.id = s.member_id WHERE s.agency_id = '{m.group(1)}' AND m.agency_id = '{m.group(1)}' "
                f"AND s.secret_hash = '{m.group(2)}' AND s.expires_at > now()"]
    m = re.search(r"FROM trellis_resolve_feed\('([^']+)', '([^']+)'\)", sql)
    if m:
        return [f"SELECT f.agency_id, f.plan_id, f.member_id FROM calendar_feeds f WHERE f.agency_id = '{m.group(1)}' AND f.token_hash = '{m.group(2)}'"]
    m = re.search(r"FROM trellis_find_login\('([^']+)', '([^']+)'\)", sql)
    if m:
        return [f"SELECT a.id FROM agencies a WHERE a.slug = '{m.group(1)}'",
                f"SELECT m.agency_id, m.id, m.password_hash FROM members m WHERE m.agency_id = '{agency}' "
                f"AND lower(m.email) = lower('{m.group(2)}') AND m.password_hash IS NOT NULL"]
    m = re.search(r"FROM trellis_authenticate_token\('([^']+)', '([^']+)'\)", sql)
    if not m:
        return []
    agency_id, token_hash = m.group(1), m.group(2)
    return [f"SELECT t.agency_id, t.id, t.member_id, m.role, m.client_id FROM api_tokens t JOIN members m ON m.agency_id = t.agency_id "
            f"AND m.id = t.member_id WHERE t.agency_id = '{agency_id}' AND m.agency_id = '{agency_id}' AND t.token_hash = '{token_hash}' "
            f"AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())",
            f"UPDATE api_tokens t SET last_used_at = now() WHERE t.agency_id = '{agency_id}' AND t.token_hash = '{token_hash}' "
            f"AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute')"]

shown = 0
for sql in filter(scoped, edit):
    _, where = explain(sql)
    print(f"  {where:<32} {' '.join(sql.split())[:110]}")
    for statement in inner(sql):
        _, where = explain(statement)
        print(f"    {where:<30} (inside) {' '.join(statement.split())[:101]}")
    shown += 1
print(f"  ({shown} statements)")
for plan in plans:  # CITUS_EXPLAIN_FULL=1: the edit's plans as EXPLAIN printed them
    print("\n".join("      " + line for line in plan.strip().splitlines()))
full = False
# Every statement of the whole smoke on Citus: how many reach one shard, and any that reach more.
all_start, all_end = (float(x) for x in sys.argv[5].split(","))
counts, wide, local, inside = {}, [], {}, {}
for sql in filter(scoped, statements(all_start, all_end)):
    tasks, where = explain(sql)
    counts[tasks] = counts.get(tasks, 0) + 1
    if tasks is None or tasks > 1:
        wide.append(f"  {where:<32} {' '.join(sql.split())[:110]}")
    for statement in inner(sql):
        inner_tasks, where = explain(statement)
        inside[inner_tasks] = inside.get(inner_tasks, 0) + 1
        if inner_tasks is None or inner_tasks > 1:
            wide.append(f"  {where:<32} (inside) {' '.join(statement.split())[:101]}")
    if tasks == 0:
        head = " ".join(sql.split())
        m = re.search(r"FROM (trellis_\w+)|INTO (trellis_\w+)|UPDATE (trellis_\w+)", head)
        key = next((g for g in (m.groups() if m else ()) if g), head[:40])
        local[key] = local.get(key, 0) + 1
print("  the whole smoke: " + ", ".join(f"{n} statement(s) on {'the coordinator only' if t == 0 else 'EXPLAIN failed' if t is None else f'{t} shard(s)'}"
                                     for t, n in sorted(counts.items(), key=lambda kv: -1 if kv[0] is None else kv[0])))
print("\n".join(wide))
print("  on the coordinator: " + ", ".join(f"{k} ×{n}" for k, n in sorted(local.items(), key=lambda kv: -kv[1])))
print("  inside the credential functions: " + ", ".join(f"{n} statement(s) on {'EXPLAIN failed' if t is None else f'{t} shard(s)'}"
                                                      for t, n in sorted(inside.items(), key=lambda kv: -1 if kv[0] is None else kv[0])))
print(f"explain one_shard={counts.get(1, 0)} coordinator_only={counts.get(0, 0)} more_shards={sum(n for t, n in counts.items() if t and t > 1)} "
      f"failed={counts.get(None, 0)} inside_functions_one_shard={inside.get(1, 0)} inside_functions_more={sum(n for t, n in inside.items() if t is None or t > 1)}")
