"""symparam's speed against its targets, each as a ratio of two figures from one run.

    python benchmarks/bench.py [--runs N]

- start-up: a fresh `symparam count` of a concrete network against a bare
  `python -c "import lark, click"`; and whether that count imported SymPy;
- a 10,000-layer chain, concrete and symbolic, parsed and counted in process against
  Lark alone parsing the same text with a minimal grammar; and the time for 20,000
  layers against 10,000;
- a sweep over 1,000,000 points against SymPy's subs point by point, in one process.

Run it with the interpreter where symparam is installed (`pip install '.[plot]'`: the
sweep needs NumPy). Figures are the least of several runs, as timeit advises: a slower
run is slower only by what else the machine did. Ratios of figures taken in one run
move much less than the figures. Nothing here is a test: it reports.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import subprocess
import sys
import time

CONCRETE = "in(784) -> dense(16) -> dense(16) -> dense(10)"
GPT3 = "in(d) -> (dense(4*d) -> gelu -> dense(d)) * L"
DEPTH = 10_000
GRID = 1000  # d and L each over 1..GRID: GRID**2 points
SUBS_SAMPLE = 2000  # SymPy's subs is timed on this many points, then scaled to the grid

# The floor: Lark alone, with the least grammar that reads the same chain. A size is
# a number or a name, inline: a rule of its own would be a step more per size.
FLOOR_GRAMMAR = r"""
start: call ("->" call)*
call: NAME "(" [(NUMBER | NAME) ("," (NUMBER | NAME))*] ")"
NAME: /[A-Za-z][A-Za-z0-9_]*/
NUMBER: /[0-9]+/
%ignore /[ \t\f\r\n]+/
"""


# ------------------------------------------------------------------ measuring


def best_time(function, runs: int) -> float:
    """Least seconds of `function()` over `runs` calls, each after a full collection
    so that one run's garbage is not collected in the next one's time."""
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def best_times(functions: dict, runs: int) -> dict:
    """Least seconds of each function, the runs interleaved so that a change in the
    machine's load falls on all of them alike. The least, as timeit advises: the other
    runs are slower only by what else the machine was doing."""
    times = {name: [] for name in functions}
    for _ in range(runs):
        for name, function in functions.items():
            times[name].append(best_time(function, 1))
    return {name: min(values) for name, values in times.items()}


def fresh_process(command: list[str]):
    return lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def report(label: str, figure: str, ratio: float | None = None, target: str = "", met=None):
    """One line: a figure, then its ratio and its target when it has them."""
    ratio_text = "" if ratio is None else f"{ratio:,.0f}" if ratio >= 100 else f"{ratio:.2f}"
    line = f"  {label:<44}{figure:>11}   {'ratio' if ratio_text else '':5} {ratio_text:>9}"
    if target:
        line += f"   target {target:<9} {'ok' if met else 'MISSED'}"
    print(line.rstrip())


# ------------------------------------------------------------------ start-up


def symparam_command() -> list[str]:
    """The `symparam` script beside this interpreter, as users run it; else -m symparam
    (runpy's own imports then add some milliseconds)."""
    script = os.path.join(os.path.dirname(sys.executable), "symparam")
    return [script] if os.access(script, os.X_OK) else [sys.executable, "-m", "symparam"]


def startup(runs: int) -> None:
    python = sys.executable
    count = [*symparam_command(), "count", CONCRETE]
    print(f"start-up, fresh processes (best of {runs})")
    base = fresh_process([python, "-c", "import lark, click"])
    times = best_times({"base": base, "count": fresh_process(count)}, runs)
    report("python -c 'import lark, click'", duration(times["base"]))
    ratio = times["count"] / times["base"]
    figure = duration(times["count"])
    report("symparam count (concrete, 3 layers)", figure, ratio, "<= 1.3", ratio <= 1.3)
    sympy = imports_sympy(count)
    report("SymPy imported by that count", "yes" if sympy else "no", None, "no", not sympy)


def imports_sympy(command: list[str]) -> bool:
    """Does the command import SymPy? -X importtime lists every module it imports."""
    run = subprocess.run(
        command, check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    return any(line.rsplit("|", 1)[-1].strip() == "sympy" for line in run.stderr.splitlines())


# ------------------------------------------------------------------ long chains


def dense_chain(depth: int, width: str) -> str:
    return f"in({width}) -> " + " -> ".join(f"dense({width})" for _ in range(depth))


def long_chains(runs: int) -> None:
    from lark import Lark

    import symparam
    from symparam.syntax import parse_network

    floor = Lark(FLOOR_GRAMMAR, parser="lalr")
    symparam.parse("in(d) -> dense(d)").total  # SymPy's import is no part of a count's time
    print(f"\n{DEPTH:,}-layer chains in process, parsed and counted (best of {runs})")
    for kind, width, target in (("concrete", "64", 2.0), ("symbolic", "d", 3.0)):
        text, double = dense_chain(DEPTH, width), dense_chain(2 * DEPTH, width)
        times = best_times(
            {
                "floor": lambda: floor.parse(text),
                "syntax": lambda: parse_network(text),
                "parse": lambda: symparam.parse(text),
                "double": lambda: symparam.parse(double),
            },
            runs,
        )
        network = symparam.parse(text)
        times["compute"] = best_time(network.compute, runs)
        print(f"  {kind}: in({width}) -> dense({width}) -> ...")
        figures = {name: duration(seconds) for name, seconds in times.items()}
        report("Lark alone, minimal grammar (the floor)", figures["floor"])
        ratio = times["syntax"] / times["floor"]  # the parser's share of the budget
        report("the parser alone (parse_network)", figures["syntax"], ratio, "<= 1.3", ratio <= 1.3)
        ratio = times["parse"] / times["floor"]
        report("symparam.parse", figures["parse"], ratio, f"<= {target:g}", ratio <= target)
        growth = times["double"] / times["parse"]
        report(f"symparam.parse, {2 * DEPTH:,} layers vs {DEPTH:,}", figures["double"], growth,
               "<= 2.2", growth <= 2.2)
        ratio = times["compute"] / times["parse"]  # the same linear walk, once more
        report("its compute (Network.compute) vs its count", duration(times["compute"]), ratio,
               "<= 1", ratio <= 1)


# ------------------------------------------------------------------ sweep


def sweep_vs_subs(runs: int) -> None:
    import symparam

    grid = {"d": range(1, GRID + 1), "L": range(1, GRID + 1)}
    points = GRID * GRID
    print(f"\nsweep of {GPT3!r} over d, L in 1..{GRID} ({points:,} points), in process")
    try:
        symparam.parse(GPT3).sweep(d=[1], L=[1])  # NumPy's import is no part of a sweep's time
        seconds = best_time(lambda: symparam.parse(GPT3).sweep(**grid), runs)
    except symparam.SymparamError as error:  # NumPy missing: sweep says what to install
        print(f"  sweep unavailable: {error}")
        return
    subs = subs_seconds(symparam.parse(GPT3), grid) * points / SUBS_SAMPLE
    report("SymPy expr.subs, point by point (scaled)", duration(subs))
    ratio = subs / seconds
    report("symparam.parse(...).sweep(...)", duration(seconds), ratio, ">= 10000", ratio >= 10_000)
    print(f"  (subs timed on {SUBS_SAMPLE:,} points spread over the grid and scaled to {points:,};"
          f" all of them would take {subs / 60:.0f} minutes)")


def sample_points() -> list[tuple[int, int]]:
    """SUBS_SAMPLE distinct (d, L) points of the grid, the same every run."""
    indices = random.Random(0).sample(range(GRID * GRID), SUBS_SAMPLE)
    return [(1 + index // GRID, 1 + index % GRID) for index in indices]


def subs_seconds(network, grid: dict) -> float:
    """Seconds for SymPy to substitute the sample points into the total, one by one;
    the values are checked against the sweep's, or the comparison would mean nothing."""
    total, d, layers = network.total, network.symbols["d"], network.symbols["L"]
    points = sample_points()
    start = time.perf_counter()
    values = [total.subs({d: a, layers: b}) for a, b in points]
    seconds = time.perf_counter() - start
    counts = network.sweep(**grid).counts  # axes in the order of the grid: d, then L
    if any(int(value) != int(counts[a - 1, b - 1]) for value, (a, b) in zip(values, points)):
        raise AssertionError("the sweep and SymPy's subs disagree")
    return seconds


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=9, help="runs per figure (default 9)")
    runs = options.parse_args().runs
    heavy = max(5, runs // 2)  # a 20,000-layer count takes a second or two: fewer runs
    startup(runs)
    long_chains(heavy)
    sweep_vs_subs(runs)


if __name__ == "__main__":
    main()
