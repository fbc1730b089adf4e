"""pgqueuer peer for Benchmarks/queue: enqueue N no-op jobs in batches, then drain them with one
QueueManager (asyncpg) and a no-op entrypoint. Prints `queue peer=pgqueuer drain_per_s=… jobs=N …`.

Usage: pgqueuer_bench.py DSN [--jobs N] [--batch-size B] [--concurrency C]
"""
import argparse
import asyncio
import time
from datetime import timedelta

import asyncpg
from pgqueuer import AsyncpgDriver, Queries, QueueManager
from pgqueuer.domain.types import QueueExecutionMode


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dsn")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=100, help="jobs dequeued per fetch")
    parser.add_argument("--concurrency", type=int, default=0, help="max_concurrent_tasks (0: unlimited)")
    args = parser.parse_args()

    setup = await asyncpg.connect(args.dsn)
    queries = Queries(AsyncpgDriver(setup))
    if not await queries.schema_is_installed():
        await queries.install()
    await setup.execute("TRUNCATE pgqueuer, pgqueuer_log, pgqueuer_statistics")

    started = time.perf_counter()
    for offset in range(0, args.jobs, 1_000):
        n = min(1_000, args.jobs - offset)
        await queries.enqueue(["noop"] * n, [None] * n, [0] * n)
    enqueue_s = time.perf_counter() - started
    queued = await setup.fetchval("SELECT count(*) FROM pgqueuer")
    assert queued == args.jobs, f"expected {args.jobs} queued jobs, found {queued}"

    worker = await asyncpg.connect(args.dsn)
    manager = QueueManager(Queries(AsyncpgDriver(worker)))

    @manager.entrypoint("noop")
    async def noop(job) -> None:  # noqa: ANN001 - the no-op under test
        return None

    started = time.perf_counter()
    await manager.run(
        mode=QueueExecutionMode.drain,
        batch_size=args.batch_size,
        max_concurrent_tasks=args.concurrency or None,
        dequeue_timeout=timedelta(seconds=1),
    )
    drain_s = time.perf_counter() - started
    left = await setup.fetchval("SELECT count(*) FROM pgqueuer")
    assert left == 0, f"{left} jobs left in pgqueuer after the drain"
    persistence = await setup.fetchval("SELECT relpersistence::text FROM pg_class WHERE relname = 'pgqueuer'")
    print(
        f"queue peer=pgqueuer drain_per_s={args.jobs / drain_s:.0f} jobs={args.jobs} "
        f"drain_s={drain_s:.2f} enqueue_batch_per_s={args.jobs / enqueue_s:.0f} "
        f"batch_size={args.batch_size} table={'logged' if persistence == 'p' else 'unlogged'}"
    )
    await worker.close()
    await setup.close()


if __name__ == "__main__":
    asyncio.run(main())
