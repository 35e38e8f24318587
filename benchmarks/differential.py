"""The long differential run: random architectures over every layer kind and structure
(tests/test_tree.py's generator), each built layer by layer with PyTorch or Keras by
`symparam check`, compared row by row with symparam's count; or, with --export, each
written as a PyTorch module by `symparam export` (its sizes as constructor arguments),
run on the meta device, its parameters and output shape compared; or, with --compute,
each exported module run under PyTorch's FlopCounterMode, its FLOPs compared with
2 × symparam's MACs.

    python benchmarks/differential.py [--examples N] [--against torch|keras] [--export | --compute]

Prints how many architectures were checked, how many the framework cannot build (a
layer it has no class for, a Σ over a growing repetition) and every disagreement with
its smallest form as Hypothesis shrinks it; exit code 1 on a disagreement.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
os.environ.setdefault("KERAS_BACKEND", "torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402

import symparam  # noqa: E402
from symparam.check import check  # noqa: E402
from test_tree import architectures  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--against", choices=("torch", "keras"), default="torch")
    parser.add_argument("--export", action="store_true", help="export to PyTorch, run, compare")
    parser.add_argument("--compute", action="store_true", help="export to PyTorch, count its FLOPs, compare")
    args = parser.parse_args()
    tally = {"checked": 0, "not built": 0, "not run": 0}
    if args.export:
        return exported(args.examples, tally)
    if args.compute:
        return computed(args.examples, tally)

    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(architectures())
    def agrees(arch):
        if arch.convention != args.against:  # drawn for the other convention
            return
        network = symparam.parse(arch.concrete, convention=args.against, **arch.concrete_sizes)
        try:
            result = check(network, args.against)
        except symparam.SymparamError:
            tally["not built"] += 1
            return
        tally["checked"] += 1
        assert result.agrees, arch.concrete

    failed, seconds = timed(agrees)
    print(f"{args.against}: {tally['checked']:,} architectures checked, {tally['not built']:,} not built, "
          f"{'a disagreement' if failed else 'all agree'} ({seconds:.0f} s)")
    return 1 if failed else 0


def timed(search) -> tuple[bool, float]:
    """Run a Hypothesis search: (whether it found a disagreement, which it prints; seconds)."""
    start = time.perf_counter()
    try:
        search()
        failed = False
    except AssertionError as error:
        print(f"disagreement: {error}")
        failed = True
    return failed, time.perf_counter() - start


def exported(examples: int, tally: dict) -> int:
    from hypothesis import assume

    from symparam.export import to_torch
    from test_export import READS_IDS, expected, run

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(architectures())
    def agrees(arch):
        try:  # drawn for either convention: exported as PyTorch counts it
            network = symparam.parse(arch.symbolic, convention="torch", **arch.symbolic_sizes)
        except symparam.SymparamError:
            return
        kinds = [node.kind for node, _ in network.tree.walk() if not node.children]
        if any(kind in READS_IDS for kind in kinds[2:]):  # ids fed by another layer's output
            return
        try:
            code = to_torch(network)
        except symparam.SymparamError:  # a layer PyTorch has no class for
            tally["not built"] += 1
            assume(False)
        try:
            result = run(code, network)
        except (ValueError, RuntimeError) as error:  # a norm over one step; ids read by a router
            if "spatial element" not in str(error) and "Long" not in str(error):
                raise
            tally["not run"] += 1
            assume(False)
        tally["checked"] += 1
        assert result == expected(network), arch.symbolic

    failed, seconds = timed(agrees)
    print(f"export to PyTorch: {tally['checked']:,} architectures run, {tally['not built']:,} not written, "
          f"{tally['not run']:,} that PyTorch refuses to run, "
          f"{'a disagreement' if failed else 'all agree'} ({seconds:.0f} s)")
    return 1 if failed else 0


def computed(examples: int, tally: dict) -> int:
    from test_compute_torch import agrees_with_pytorch

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(architectures())
    def agrees(arch):
        agrees_with_pytorch(arch, tally)

    failed, seconds = timed(agrees)
    print(f"compute against PyTorch's FlopCounterMode: {tally['checked']:,} architectures run, "
          f"{'a disagreement' if failed else 'all agree'} ({seconds:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
