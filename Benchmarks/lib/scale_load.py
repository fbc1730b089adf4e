#!/usr/bin/env python3
"""The load of Benchmarks/scale: agencies built through the API, then plan edits, timeline reads, client lists and
calendar changes (each one a plan.recompute job per plan of the client), with the CPU time the server's processes
spent on each phase, read from /proc. Standard library only. Prints `scale …` key=value lines.

Usage: scale_load.py --api URL --tokens FILE --server-pids PID,PID… --postmaster PID --worker-pid PID --db-url URL
"""
import argparse
import concurrent.futures
import json
import os
import random
import subprocess
import threading
import time
import urllib.error
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """utime + stime of the given processes and all their children alive now, in seconds."""
    seen, total, stack = set(), 0, list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total / TICK


class Client:
    def __init__(self, api, token):
        self.api, self.token = api, token

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.api + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload = response.read()
                return response.status, (json.loads(payload) if payload[:1] in (b"{", b"[") else payload)
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def build(client, clients, plans_per_client, seed):
    """Clients and plans (the built-in template, 41 tasks) for one agency; returns its plans' leaf tasks."""
    rng = random.Random(seed)
    made = []
    for c in range(clients):
        slug = f"brand-{seed}-{c}"
        status, created = client.call("POST", "/v1/clients", {"name": f"Brand {seed}-{c}", "slug": slug, "timeZone": rng.choice(
            ["Europe/Madrid", "America/New_York", "Asia/Tokyo", "Europe/London"])})
        assert status == 201, (status, created)
        for p in range(plans_per_client):
            status, plan = client.call("POST", "/v1/plans", {"clientId": created["id"], "startsOn": f"2026-{1 + (c + p) % 12:02d}-05"})
            assert status == 201, (status, plan)
            leaves = [t["id"] for t in plan["tasks"] if not any(u.get("parentId") == t["id"] for u in plan["tasks"])]
            made.append((created["id"], plan["plan"]["id"], leaves))
    return made


def run_phase(name, seconds, threads, work, pids):
    """`work(rng)` once per request on `threads` threads for `seconds`; prints requests/s and requests per CPU-second."""
    stop = time.monotonic() + seconds
    counts, errors = [0] * threads, [0] * threads

    def loop(i):
        rng = random.Random(i)
        while time.monotonic() < stop:
            ok = work(rng)
            counts[i] += 1
            errors[i] += 0 if ok else 1

    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed, cpu = time.monotonic() - t0, cpu_seconds(pids) - cpu0
    done = sum(counts)
    print(f"scale op={name} requests={done} errors={sum(errors)} seconds={elapsed:.1f} rps={done / elapsed:.0f} "
          f"server_cpu_s={cpu:.1f} per_core_s={done / cpu if cpu else 0:.0f}", flush=True)
    return done / cpu if cpu else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--server-pids", required=True)
    parser.add_argument("--worker-pid", type=int, required=True)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--plans-per-client", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    server = [int(p) for p in args.server_pids.split(",")]
    tokens = [line.strip() for line in open(args.tokens) if line.strip()]
    agencies = [Client(args.api, t) for t in tokens]

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        built = list(pool.map(lambda ia: (ia[1], build(ia[1], args.clients, args.plans_per_client, ia[0])), enumerate(agencies)))
    print(f"scale built agencies={len(agencies)} clients={len(agencies) * args.clients} "
          f"plans={sum(len(m) for _, m in built)} tasks={sum(len(l) for _, m in built for _, _, l in m)} (leaf tasks) "
          f"seconds={time.monotonic() - t0:.1f}", flush=True)

    plans = [(client, cid, pid, leaves) for client, made in built for cid, pid, leaves in made]

    def edit(rng):
        client, _, plan, leaves = rng.choice(plans)
        status, _ = client.call("PATCH", f"/v1/plans/{plan}/tasks/{rng.choice(leaves)}", {"durationDays": rng.randint(1, 6)},
                                {"If-Match": "*"})
        return status == 200

    def timeline(rng):
        client, _, plan, _ = rng.choice(plans)
        return client.call("GET", f"/v1/plans/{plan}/timeline")[0] == 200

    def client_list(rng):
        return rng.choice(agencies).call("GET", "/v1/clients?limit=50")[0] == 200

    per_core = {}
    per_core["edit"] = run_phase("plan_edit", args.seconds, args.threads, edit, server)
    per_core["timeline"] = run_phase("timeline_read", args.seconds, args.threads, timeline, server)
    per_core["clients"] = run_phase("client_list", args.seconds, args.threads, client_list, server)

    # Jobs: every client's calendar gets a holiday; each change commits a plan.recompute per plan of the client, which the
    # worker drains. The CPU counted is the worker's and PostgreSQL's (the API's part, the PUTs, is done before).
    def count_waiting():
        out = subprocess.run(["psql", "-X", "-At", args.db_url, "-c",
                              "SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute' AND state NOT IN ('completed', 'discarded', 'cancelled')"],
                             capture_output=True, text=True)
        return int(out.stdout.strip() or "0")

    before = subprocess.run(["psql", "-X", "-At", args.db_url, "-c", "SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute' AND state = 'completed'"],
                            capture_output=True, text=True).stdout.strip()
    subprocess.run(["kill", "-STOP", str(args.worker_pid)])
    changed = set()
    for client, cid, _, _ in plans:
        if cid in changed:
            continue
        changed.add(cid)
        status, calendar = client.call("GET", f"/v1/clients/{cid}/calendar")
        calendar["holidays"] = sorted(set((calendar.get("holidays") or []) + ["2026-12-24"]))
        status, _ = client.call("PUT", f"/v1/clients/{cid}/calendar", calendar, {"If-Match": "*"})
        assert status == 200, status
    waiting = count_waiting()
    pids = server + [args.worker_pid]
    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    subprocess.run(["kill", "-CONT", str(args.worker_pid)])
    while count_waiting() > 0 and time.monotonic() - t0 < 600:
        time.sleep(0.05)
    elapsed, cpu = time.monotonic() - t0, cpu_seconds(pids) - cpu0
    after = subprocess.run(["psql", "-X", "-At", args.db_url, "-c", "SELECT count(*) FROM trellis_jobs WHERE kind = 'plan.recompute' AND state = 'completed'"],
                           capture_output=True, text=True).stdout.strip()
    jobs = int(after) - int(before)
    per_core["jobs"] = jobs / cpu if cpu else 0
    print(f"scale op=plan_recompute_job jobs={jobs} waiting_at_start={waiting} seconds={elapsed:.1f} jobs_per_s={jobs / elapsed:.0f} "
          f"server_cpu_s={cpu:.1f} per_core_s={per_core['jobs']:.0f}", flush=True)
    print("scale per_core " + " ".join(f"{k}={v:.0f}" for k, v in per_core.items()), flush=True)


if __name__ == "__main__":
    main()
