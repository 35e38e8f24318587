"""symparam's speed, measured: start-up of a concrete count, and scaling with depth.

    python benchmarks/bench.py [--runs N]

Prints each figure and its ratio. Run it with the interpreter where symparam is
installed (`pip install .`). Figures are medians over several runs; wall-clock times
move with the machine's load, ratios taken in one run move much less.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CONCRETE = "in(784) -> dense(16) -> dense(16) -> dense(10)"
GPT3 = "in(d) -> (dense(4*d) -> gelu -> dense(d)) * L"


def wall(command: list[str], runs: int) -> float:
    """Median wall-clock seconds of a fresh process running `command`."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dense_chain(depth: int, width: str) -> str:
    return f"in({width}) -> " + " -> ".join(f"dense({width})" for _ in range(depth))


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=15)
    runs = options.parse_args().runs
    python = sys.executable

    print("start-up, fresh processes (median of", runs, "runs)")
    base = wall([python, "-c", "import lark, click"], runs)
    sympy = wall([python, "-c", "import sympy"], runs)
    count = wall([python, "-m", "symparam", "count", CONCRETE], runs)
    modules = subprocess.run(
        [python, "-c", f"import sys, symparam; symparam.count({CONCRETE!r}); "
         "print('sympy' in sys.modules)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    print(f"  python -c 'import lark, click'      {base * 1000:8.1f} ms")
    print(f"  python -c 'import sympy'            {sympy * 1000:8.1f} ms   ratio {sympy / base:5.2f}")
    print(f"  symparam count (concrete, 3 layers) {count * 1000:8.1f} ms   ratio {count / base:5.2f}"
          "   (target <= 1.5)")
    print(f"  SymPy imported by a concrete count: {modules}")

    import symparam

    print("\nin-process counts (median)")
    for label, text, sizes in [
        ("GPT-3 MLP stack, symbolic", GPT3, {}),
        ("GPT-3 MLP stack, d=12288 L=96", GPT3, {"d": 12288, "L": 96}),
    ]:
        seconds = in_process(lambda text=text, sizes=sizes: symparam.count(text, **sizes), runs)
        print(f"  {label:<36} {seconds * 1000:8.2f} ms   = {symparam.count(text, **sizes)}")

    print("\nscaling with depth (time per layer should stay flat)")
    for kind, width in (("concrete", "64"), ("symbolic", "d")):
        previous = None
        for depth in (250, 1000, 4000):
            text = dense_chain(depth, width)
            seconds = in_process(lambda text=text: symparam.parse(text), max(3, runs // 5))
            per_layer = seconds / depth * 1e6
            ratio = "" if previous is None else f"   x{seconds / previous:4.1f} for x4 layers"
            print(f"  {kind:<9} {depth:5d} layers {seconds * 1000:9.1f} ms  {per_layer:7.1f} µs/layer{ratio}")
            previous = seconds


if __name__ == "__main__":
    main()
