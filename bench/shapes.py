"""Every shape, every size: this engine against micrograd and PyTorch autograd on scalars.

    python bench/shapes.py [--sizes 1000,10000,100000,1000000] [--repeats 3]
                           [--peers-max 100000] [--shapes dag,window,chain] [--before DIR]
    python bench/shapes.py --calibrate     # the executor's cost model, measured here

Three shapes of graph, generated once per size from a fixed seed and built the same way in every
framework (``+``, ``*`` and ``tanh``, the operators micrograd has):

- ``dag``: each node's left child is a random earlier node, its right child a random bounded
  node (an input or a tanh) from the whole graph: few, wide levels.
- ``window``: children among the last 32 nodes: thousands of narrow levels.
- ``chain``: ``x = x + tanh(x)``: one node per level.

Every figure is the median of ``--repeats`` runs, each in a fresh process (so one run's garbage
and allocator state do not leak into the next):

- build: making the nodes through the Python API (micrograd and PyTorch compute values as
  they build: that is their forward pass, and it is counted there too);
- compile: this engine's collect + layout (the others have none);
- run: forward + back-prop, ns per node: the engine's ``compute_forward`` + ``back_prop`` of a
  compiled graph, the second time (every later pass costs that); "first run" is the first time,
  which also lays out the executor's stretches; micrograd's and PyTorch's build +
  ``backward()`` (they rebuild for every pass). Ratios are of "run";
- memory: the peak resident size of the process during build + compile + run, less its size
  before, per node; "before" is after a run of a 200-node graph of the same shape, so code
  loaded on first use (about 1.2 MB here, 120 B/node at 10k) is not counted as the graph's.

Growth exponents are least-squares slopes of log(time) against log(nodes) over the sizes run:
1.0 is linear. Peers are skipped above ``--peers-max`` nodes (they take minutes there); the
output says so. The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The engine measured: this checkout's (not an installed one), or --before's in its column.
ENGINE_ROOT = Path(os.environ.get("BENCH_ENGINE_ROOT", ROOT))
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # this folder would shadow the `engine` package
sys.path.insert(0, str(ENGINE_ROOT))
SHAPES = ("dag", "window", "chain")
FRAMEWORKS = ("engine", "micrograd", "torch")
WINDOW = 32
N_INPUTS = 16


# -- the graphs, as plain lists shared by every framework ---------------------------------------
def spec(shape: str, size: int, seed: int = 0) -> tuple[list[str], list[int], list[int]]:
    """Operators and child indices of nodes N_INPUTS.. (the first N_INPUTS are inputs)."""
    import random

    rng = random.Random(seed)
    ops: list[str] = []
    left: list[int] = []
    right: list[int] = []
    if shape == "chain":  # x = x + tanh(x): tanh(x), then x + that
        x = 0
        for i in range(N_INPUTS, size):
            if (i - N_INPUTS) % 2 == 0:
                ops.append("tanh"), left.append(x), right.append(-1)
            else:
                ops.append("+"), left.append(x), right.append(i - 1)
                x = i
        return ops, left, right
    bounded = list(range(N_INPUTS))  # |value| <= 1: inputs and tanh outputs
    for i in range(N_INPUTS, size):
        if shape == "dag":
            a = rng.randrange(i)
            near = bounded
        else:
            a = i - rng.randint(1, min(WINDOW, i))
            near = [b for b in bounded[-WINDOW:] if b >= i - WINDOW]
        # + and * take one bounded operand, so values grow at most by 1 per level.
        op = rng.choice(("tanh", "+", "+", "*")) if near else "tanh"
        ops.append(op)
        left.append(a)
        right.append(rng.choice(near) if op != "tanh" else -1)
        if op == "tanh":
            bounded.append(i)
    return ops, left, right


def input_values() -> list[float]:
    return [0.1 + 0.8 * k / N_INPUTS for k in range(N_INPUTS)]


# -- one measured run per framework, in this (child) process ---------------------------------
def run_engine(ops, left, right) -> dict:
    from engine import graph, node, tanh

    t0 = time.perf_counter()
    nodes = [node("input", v) for v in input_values()]
    for op, a, b in zip(ops, left, right, strict=True):
        nodes.append(tanh(nodes[a]) if op == "tanh" else
                     node(op, nodes[a], nodes[b]))
    t1 = time.perf_counter()
    g = graph(nodes[:N_INPUTS], [], [nodes[-1]])
    g.feed(input_values(), [])
    g.program()
    t2 = time.perf_counter()
    g.compute_forward()
    g.back_prop()
    t3 = time.perf_counter()
    g.compute_forward()  # again: what every later pass costs (the first also lays out stretches)
    g.back_prop()
    t4 = time.perf_counter()
    check = (float(nodes[-1].forward), float(nodes[0].backward))
    return {"build": t1 - t0, "compile": t2 - t1, "first": t3 - t2, "run": t4 - t3,
            "check": check}


def _mg_tanh(v):
    """tanh for micrograd, whose PyPI release lacks it, written the way its operators are."""
    from micrograd.engine import Value

    t = math.tanh(v.data)
    out = Value(t, (v,), "tanh")

    def _backward():
        v.grad += (1 - t * t) * out.grad
    out._backward = _backward
    return out


def run_micrograd(ops, left, right) -> dict:
    from micrograd.engine import Value

    sys.setrecursionlimit(10 * len(ops) + 10_000)  # its topological sort recurses
    t0 = time.perf_counter()
    values = [Value(v) for v in input_values()]
    for op, a, b in zip(ops, left, right, strict=True):
        x = values[a]
        values.append(_mg_tanh(x) if op == "tanh" else x + values[b] if op == "+" else
                      x * values[b])
    t1 = time.perf_counter()
    values[-1].backward()
    t2 = time.perf_counter()
    return {"build": t1 - t0, "compile": 0.0, "run": t2 - t0, "first": t2 - t0,
            "check": (values[-1].data, values[0].grad)}


def run_torch(ops, left, right) -> dict:
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in input_values()]
    values = list(leaves)
    for op, a, b in zip(ops, left, right, strict=True):
        x = values[a]
        values.append(torch.tanh(x) if op == "tanh" else x + values[b] if op == "+" else
                      x * values[b])
    t1 = time.perf_counter()
    values[-1].backward()
    t2 = time.perf_counter()
    grad = leaves[0].grad
    return {"build": t1 - t0, "compile": 0.0, "run": t2 - t0, "first": t2 - t0,
            "check": (values[-1].item(), grad.item() if grad is not None else 0.0)}


WARM_UP_NODES = 200


def child(framework: str, shape: str, size: int) -> None:
    import gc
    import resource

    ops, left, right = spec(shape, size)
    if framework == "torch":
        import torch  # noqa: F401  (its import is not the graph's memory)
    elif framework in ("engine", "before"):
        import engine
        assert Path(engine.__file__).resolve().is_relative_to(ENGINE_ROOT), engine.__file__
    else:
        import micrograd.engine  # noqa: F401
    run = {"engine": run_engine, "before": run_engine, "micrograd": run_micrograd,
           "torch": run_torch}[framework]
    # A small graph of the same shape first: the code each framework runs the first time
    # (library pages, numpy's and torch's first-call setups; ~1.2 MB for this engine) is
    # resident after it, so the figure below is what the graph itself takes.
    run(*spec(shape, WARM_UP_NODES))
    gc.collect()
    before = _rss_bytes()
    result = run(ops, left, right)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result["memory"] = max(peak - before, 0) / size
    print(json.dumps(result))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- the parent: runs, medians, ratios -----------------------------------------------------------
def measure(framework: str, shape: str, size: int, repeats: int,
            before: Path | None = None) -> dict | None:
    runs = []
    root = before if framework == "before" and before is not None else ROOT
    for _ in range(repeats):
        done = subprocess.run([sys.executable, __file__, "--child", framework, shape, str(size)],
                              capture_output=True, text=True, cwd=root,
                              env=os.environ | {"PYTHONPATH": str(root),
                                                "BENCH_ENGINE_ROOT": str(root)})
        if done.returncode != 0:
            print(f"  {framework} {shape} {size}: failed: {done.stderr.strip()[-300:]}")
            return None
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs)
            for key in ("build", "compile", "first", "run", "memory")} | {"check": runs[0]["check"]}


def slope(sizes: list[int], times: list[float]) -> float:
    xs, ys = [math.log(s) for s in sizes], [math.log(max(t, 1e-9)) for t in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
            / sum((x - mx) ** 2 for x in xs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peers-max", type=int, default=100_000,
                        help="largest size micrograd and PyTorch run at")
    parser.add_argument("--before", type=Path,
                        help="a checkout of the engine to measure alongside, e.g. "
                             "`git worktree add /tmp/before <commit>`")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--calibrate", action="store_true",
                        help="measure the executor's cost model (engine/executor.py COSTS)")
    args = parser.parse_args()
    if args.calibrate:
        from engine.executor import calibrate

        print(f"load average: {os.getloadavg()}")
        print(calibrate())
        return
    if args.child:
        framework, shape, size = args.child
        child(framework, shape, int(size))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average before: {os.getloadavg()}; {args.repeats} runs each, medians")
    table: dict[tuple[str, str, int], dict] = {}
    for shape in args.shapes.split(","):
        for size in sizes:
            for framework in ("before", *FRAMEWORKS) if args.before else FRAMEWORKS:
                if framework in ("micrograd", "torch") and size > args.peers_max:
                    continue
                found = measure(framework, shape, size, args.repeats, args.before)
                if found is not None:
                    table[framework, shape, size] = found
            report_row(table, shape, size, args.peers_max)
        report_growth(table, shape, sizes)
    print(f"load average after: {os.getloadavg()}")


def report_row(table: dict, shape: str, size: int, peers_max: int) -> None:
    e = table.get(("engine", shape, size))
    if e is None:
        return
    ns = lambda r, key: 1e9 * r[key] / size  # noqa: E731
    line = (f"{shape:6} {size:>8,}  engine build {ns(e, 'build'):6.0f}  compile "
            f"{ns(e, 'compile'):6.0f}  first run {ns(e, 'first'):6.0f}  run {ns(e, 'run'):6.0f}"
            f" ns/node  "
            f"mem {e['memory']:5.0f} B/node")
    for peer in ("before", "micrograd", "torch"):
        p = table.get((peer, shape, size))
        if p is None and peer == "before":
            continue
        if p is None:
            line += f" | {peer}: skipped (> {peers_max:,} nodes)" if size > peers_max else ""
            continue
        line += (f" | {peer} run {ns(p, 'run'):7.0f} ns/node mem {p['memory']:5.0f} B/node"
                 f" -> engine {p['run'] / e['run']:6.1f}x")
        if peer == "before":
            line += (f" (build {ns(p, 'build'):6.0f}, compile {ns(p, 'compile'):6.0f}, first "
                     f"run {ns(p, 'first'):6.0f} ns/node)")
        if not math.isclose(p["check"][0], e["check"][0], rel_tol=1e-9, abs_tol=1e-12):
            line += f" (values differ: {p['check'][0]} vs {e['check'][0]})"
    print(line, flush=True)


def report_growth(table: dict, shape: str, sizes: list[int]) -> None:
    for framework in ("before", *FRAMEWORKS):
        have = [s for s in sizes if (framework, shape, s) in table]
        if len(have) < 2:
            continue
        parts = []
        for key in ("build", "compile", "first", "run"):
            if framework in ("micrograd", "torch") and key in ("compile", "first"):
                continue
            times = [table[framework, shape, s][key] for s in have]
            parts.append(f"{key} n^{slope(have, times):.2f}")
        print(f"  growth {shape} {framework}: {', '.join(parts)}")


if __name__ == "__main__":
    main()
