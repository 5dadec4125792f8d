"""The store's cost per call on SQLite (the default) and PostgreSQL, in one run (not a test).

    .venv/bin/python bench/store.py [--calls 200]

Prints the median time of: appending a batch of 1 and of 20 step records (one transaction
each, as the server's batcher writes them), reading one run (its row and step count), and
reading all its records (21 per call made). PostgreSQL is a real one started as the tests start it
(tests/postgres.py: Debian's binaries, loopback, durability off), so its figures are the
protocol's and the planner's cost, not a disk's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # the repo root, not bench/

from server.store import Store  # noqa: E402
from tests.postgres import PostgresServer  # noqa: E402

RECORD = {"type": "step", "epoch": 1, "step": 1, "loss": 2.3025, "accuracy": 0.1,
          "lr": 0.003, "grad_norm": 1.2}


def median_ms(call, times: int) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent) * 1e3


def measure(store: Store, calls: int) -> dict[str, float]:
    run_id = store.add_run("ws", "bench", {"model": "mlp"})
    figures = {f"append {n:2d} records": median_ms(
        lambda n=n: store.add_metrics(run_id, [RECORD] * n), calls) for n in (1, 20)}
    figures[f"read a run ({calls * 21:,} rec.)"] = median_ms(lambda: store.run(run_id, "ws"),
                                                             calls)
    figures[f"read its {calls * 21:,} records"] = median_ms(lambda: store.metrics(run_id), 10)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, PostgresServer() as postgres:
        results = {"sqlite": measure(Store(Path(folder) / "bench.sqlite3"), args.calls),
                   "postgresql": measure(Store(postgres.new_database()), args.calls)}
    print(f"{'median, ms':28s} {'sqlite':>10s} {'postgresql':>12s}")
    for name in results["sqlite"]:
        print(f"{name:28s} {results['sqlite'][name]:10.3f} {results['postgresql'][name]:12.3f}")


if __name__ == "__main__":
    main()
