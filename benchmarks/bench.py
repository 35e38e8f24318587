"""symparam's speed, as ratios taken in one run (never as timed tests).

    python benchmarks/bench.py [--runs N]

- start-up: a concrete count in a fresh process vs `python -c "import lark, click"`
  (target <= 1.3x), and whether SymPy was imported;
- depth: a 10,000-layer chain parsed and counted in process vs Lark alone parsing the
  same text with a minimal LALR grammar, the floor for a Lark-based parser (targets
  <= 2x concrete, <= 3x symbolic), and 20,000 layers vs 10,000 (target <= 2.2x);
- sweep: 10^6 points vs SymPy's subs point by point (target >= 10,000x); subs is timed
  on a sample of points and scaled, since 10^6 calls would take many minutes.

Run it with the interpreter where symparam is installed. Medians over --runs runs;
wall-clock times move with the machine's load, ratios from one run much less.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CONCRETE = "in(784) -> dense(16) -> dense(16) -> dense(10)"
MLP_STACK = "in(d) -> (dense(4*d) -> gelu -> dense(d)) * L"
FLOOR_GRAMMAR = r"""
start: call ("->" call)*
call: NAME "(" [ATOM ("," ATOM)*] ")"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
ATOM: /[0-9]+/ | NAME
%ignore " "
"""


def median_seconds(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fresh_process(command: list[str], runs: int) -> float:
    return median_seconds(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL), runs)


def chain(depth: int, width: str) -> str:
    return f"in({width}) -> " + " -> ".join(f"dense({width})" for _ in range(depth))


def line(label: str, seconds: float, ratio: float | None = None, target: str = "") -> None:
    ratio_text = f"   ratio {ratio:6.2f}" if ratio is not None else ""
    print(f"  {label:<44} {seconds * 1000:9.1f} ms{ratio_text}   {target}".rstrip())


def startup(runs: int) -> None:
    python = sys.executable
    print(f"start-up, fresh processes (median of {runs})")
    base = fresh_process([python, "-c", "import lark, click"], runs)
    count = fresh_process([python, "-m", "symparam", "count", CONCRETE], runs)
    imported = subprocess.run(
        [python, "-c", f"import sys, symparam; symparam.count({CONCRETE!r}); print('sympy' in sys.modules)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    line("python -c 'import lark, click'", base)
    line("symparam count (concrete, 3 layers)", count, count / base, "(target <= 1.3)")
    print(f"  SymPy imported by a concrete count: {imported}")


def depth(runs: int) -> None:
    from lark import Lark

    import symparam

    floor_parser = Lark(FLOOR_GRAMMAR, parser="lalr")
    print(f"\n10,000-layer chains, parsed and counted in process (median of {runs})")
    for kind, width, target in (("concrete", "64", 2.0), ("symbolic", "d", 3.0)):
        text = chain(10_000, width)
        floor = median_seconds(lambda text=text: floor_parser.parse(text), runs)
        counted = median_seconds(lambda text=text: symparam.parse(text), runs)
        doubled_text = chain(20_000, width)
        doubled = median_seconds(lambda: symparam.parse(doubled_text), runs)
        line(f"Lark alone, minimal grammar ({kind} text)", floor)
        line(f"symparam.parse, {kind}", counted, counted / floor, f"(target <= {target})")
        line(f"symparam.parse, {kind}, 20,000 layers", doubled, doubled / counted, "(target <= 2.2)")


def sweep(runs: int) -> None:
    import symparam

    network = symparam.parse(MLP_STACK)
    grid = {"d": range(1, 1001), "L": range(1, 1001)}
    network.sweep(d=[1], L=[1])  # NumPy's import is not the sweep's time
    swept = median_seconds(lambda: network.sweep(**grid), runs)
    total, d, L = network.total, network.symbols["d"], network.symbols["L"]
    sample = [(value, value % 97 + 1) for value in range(1, 2001)]
    per_point = median_seconds(lambda: [total.subs({d: a, L: b}) for a, b in sample], 3) / len(sample)
    print(f"\nsweep of 10^6 points, {MLP_STACK!r}")
    line("network.sweep(d=1..1000, L=1..1000)", swept)
    line("SymPy subs, per point (2,000 sampled)", per_point)
    subs = per_point * 10**6
    line("SymPy subs, 10^6 points (scaled)", subs, subs / swept, "(sweep faster by; target >= 10000)")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=9)
    runs = options.parse_args().runs
    startup(runs)
    depth(max(3, runs // 3))
    sweep(runs)


if __name__ == "__main__":
    main()
