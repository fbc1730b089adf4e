"""The load and the bookkeeping of Tests/deploy/failover.sh (standard library only; psql does the database side).

While API writers create clients through trellis-api and an enqueuer commits batches of no-op jobs, the
primary node is killed; afterwards every write the API confirmed (201) and every batch psql confirmed must be
there, and every job completed. Prints one `failover …` line; exits 1 when something was lost.
"""
import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request


def psql(url, sql):
    return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                          capture_output=True, text=True, timeout=30)


class Load:
    def __init__(self, api, token, db_url, queue):
        self.api, self.token, self.db_url, self.queue = api, token, db_url, queue
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.confirmed_clients = []      # ids answered 201
        self.refused = {}                # status → count (503 while the database is away)
        self.write_ok_after = []         # (start, finish) of confirmed writes
        self.jobs_confirmed = 0          # jobs in batches whose commit psql confirmed
        self.jobs_in_doubt = 0           # batches that failed: committed or not, nobody was told
        self.n = 0

    def write(self, worker):
        while not self.stop.is_set():
            with self.lock:
                self.n += 1
                n = self.n
            started = time.time()
            body = json.dumps({"name": f"Failover client {worker}-{n}", "timeZone": "Europe/Berlin"}).encode()
            request = urllib.request.Request(f"{self.api}/v1/clients", data=body, method="POST", headers={
                "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    created = json.load(response)
                    with self.lock:
                        self.confirmed_clients.append(created["id"])
                        self.write_ok_after.append((started, time.time()))
            except urllib.error.HTTPError as error:
                with self.lock:
                    self.refused[error.code] = self.refused.get(error.code, 0) + 1
                if error.code != 503 and sum(v for k, v in self.refused.items() if k != 503) <= 3:
                    print(f"failover: the API answered {error.code}: {error.read()[:300]!r}", file=sys.stderr)
                time.sleep(0.05)
            except (urllib.error.URLError, OSError) as error:
                with self.lock:
                    self.refused["io"] = self.refused.get("io", 0) + 1
                time.sleep(0.05)

    def enqueue(self, batch):
        sql = (f"INSERT INTO trellis_jobs (queue, kind, max_attempts) "
               f"SELECT '{self.queue}', 'system.noop', 25 FROM generate_series(1, {batch})")
        while not self.stop.is_set():
            try:
                done = psql(self.db_url, sql)
                ok = done.returncode == 0
            except subprocess.TimeoutExpired:
                ok = False
            with self.lock:
                if ok:
                    self.jobs_confirmed += batch
                else:
                    self.jobs_in_doubt += batch
            time.sleep(0.02 if ok else 0.2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--db-url", required=True, help="the multi-host URL, as the platform uses it")
    parser.add_argument("--standby-url", required=True, help="the standby alone, to see its promotion")
    parser.add_argument("--kill", required=True, help="a shell command that kills the primary node")
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--after", type=float, default=8, help="seconds of load once the platform is back")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--queue", default="failover")
    parser.add_argument("--drain-timeout", type=float, default=180)
    args = parser.parse_args()

    load = Load(args.api, args.token, args.db_url, args.queue)
    threads = [threading.Thread(target=load.write, args=(w,), daemon=True) for w in range(args.writers)]
    threads.append(threading.Thread(target=load.enqueue, args=(args.batch,), daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(args.warmup)
    with load.lock:
        before = len(load.confirmed_clients)
    if before == 0:
        print(f"failover: no write succeeded before the kill (refused: {load.refused})", file=sys.stderr)
        return 1

    killed = time.time()
    subprocess.run(["bash", "-c", args.kill], check=True)
    promoted_after = back_after = None
    deadline = killed + 240
    while time.time() < deadline and (promoted_after is None or back_after is None):
        if promoted_after is None:
            try:
                state = psql(args.standby_url, "SELECT pg_is_in_recovery()")
                if state.returncode == 0 and state.stdout.strip() == "f":
                    promoted_after = time.time() - killed
            except subprocess.TimeoutExpired:
                pass
        if back_after is None:
            with load.lock:
                after_kill = [finished for started, finished in load.write_ok_after if started > killed]
            if after_kill:
                # Back when the first write that started after the kill is confirmed (it may have waited in the API).
                back_after = min(after_kill) - killed
        time.sleep(0.1)
    if promoted_after is None or back_after is None:
        print(f"failover: not back within 240 s (promoted_after={promoted_after} back_after={back_after})", file=sys.stderr)
        return 1
    time.sleep(args.after)
    load.stop.set()
    for thread in threads:
        thread.join(timeout=15)

    # Every job the queue holds finishes: none waits for ever, none is lost.
    drain_started = time.time()
    while time.time() - drain_started < args.drain_timeout:
        left = psql(args.db_url, f"SELECT count(*) FROM trellis_jobs WHERE queue = '{args.queue}' AND state <> 'completed'")
        if left.returncode == 0 and left.stdout.strip() == "0":
            break
        time.sleep(0.5)
    counts = psql(args.db_url, f"""
        SELECT count(*), count(*) FILTER (WHERE state = 'completed'), count(*) FILTER (WHERE attempt > 1),
               coalesce(string_agg(DISTINCT state::text, ',') FILTER (WHERE state <> 'completed'), '')
          FROM trellis_jobs WHERE queue = '{args.queue}'""")
    if counts.returncode != 0:
        print(f"failover: cannot count jobs: {counts.stderr}", file=sys.stderr)
        return 1
    present, completed, reruns, stuck_states = counts.stdout.strip().split("|")
    present, completed, reruns = int(present), int(completed), int(reruns)

    ids = load.confirmed_clients
    found = psql(args.db_url, "SELECT count(*) FROM clients WHERE id = ANY('{%s}'::uuid[])" % ",".join(ids))
    if found.returncode != 0:
        print(f"failover: cannot count clients: {found.stderr}", file=sys.stderr)
        return 1
    writes_lost = len(ids) - int(found.stdout.strip())
    jobs_lost = max(0, load.jobs_confirmed - present) + (present - completed)
    refused = " ".join(f"refused_{k}={v}" for k, v in sorted(load.refused.items(), key=lambda kv: str(kv[0])))
    print(f"failover promoted_after_s={promoted_after:.1f} platform_back_after_s={back_after:.1f} "
          f"jobs={present} completed={completed} lost={jobs_lost} writes={len(ids)} writes_lost={writes_lost} "
          f"jobs_confirmed={load.jobs_confirmed} jobs_in_doubt={load.jobs_in_doubt} reruns={reruns} {refused}"
          + (f" not_completed_states={stuck_states}" if stuck_states else ""))
    # 503 (the database is away) and connection errors are expected during the switch; nothing else is.
    unexpected = sum(v for k, v in load.refused.items() if k not in (503, "io"))
    if writes_lost or jobs_lost or unexpected:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
