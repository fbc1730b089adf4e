"""procrastinate peer for Benchmarks/queue: enqueue N no-op jobs (batch_defer, 1,000 per call), then
drain them with one worker (`wait=False`, concurrency C). Prints `queue peer=procrastinate drain_per_s=… jobs=N …`.

Usage: procrastinate_bench.py DSN [--jobs N] [--concurrency C]
"""
import argparse
import asyncio
import logging
import time

import procrastinate
import psycopg


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dsn")
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=args.dsn))

    @app.task(name="noop", queue="bench")
    async def noop() -> None:
        return None

    async with app.open_async():
        with psycopg.connect(args.dsn, autocommit=True) as setup:
            installed = setup.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]
            if not installed:
                await app.schema_manager.apply_schema_async()
            setup.execute("TRUNCATE procrastinate_jobs CASCADE")

            started = time.perf_counter()
            for offset in range(0, args.jobs, 1_000):
                n = min(1_000, args.jobs - offset)
                await noop.batch_defer_async(*([{}] * n))
            enqueue_s = time.perf_counter() - started
            queued = setup.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'").fetchone()[0]
            assert queued == args.jobs, f"expected {args.jobs} queued jobs, found {queued}"

            started = time.perf_counter()
            await app.run_worker_async(
                queues=["bench"], concurrency=args.concurrency, wait=False, install_signal_handlers=False
            )
            drain_s = time.perf_counter() - started
            done = setup.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'").fetchone()[0]
            assert done == args.jobs, f"only {done} of {args.jobs} jobs succeeded"
    print(
        f"queue peer=procrastinate drain_per_s={args.jobs / drain_s:.0f} jobs={args.jobs} drain_s={drain_s:.2f} "
        f"enqueue_batch_per_s={args.jobs / enqueue_s:.0f} concurrency={args.concurrency}"
    )


if __name__ == "__main__":
    asyncio.run(main())
