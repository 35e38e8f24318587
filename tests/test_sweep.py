"""Sweeps over grids: exact counts on the int64 path, on the Python-int path and through
lambdify, checked against hand arithmetic in Python ints and against Network.evaluate."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symparam
from symparam import sweep as grid

np = pytest.importorskip("numpy")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MLP_STACK = "in(d) -> (dense(4*d) -> gelu -> dense(d)) * L"
STRIDED_CONV = "in(n, n, 3) -> conv2d(8, 3, stride=2) -> flatten -> dense(10)"


def mlp_stack(d: int, L: int) -> int:
    # Each block: d·4d + 4d, then 4d·d + d.
    return L * ((d * 4 * d + 4 * d) + (4 * d * d + d))


def strided_conv(n: int, padding: str = "valid") -> int:
    side = (n - 3) // 2 + 1 if padding == "valid" else -(-n // 2)
    return (3 * 3 * 3 * 8 + 8) + (side * side * 8 * 10 + 10)


def program_of(network, names):
    total, symbols = grid._formula(network, [grid.Range.of(name, [1]) for name in names])
    return grid.compile_program(total, symbols)


# ------------------------------------------------------------------ values


def test_the_mlp_stack_at_chosen_points():
    result = symparam.parse(MLP_STACK).sweep(d=[1, 2, 768, 12288], L=[1, 12, 96])
    assert result.counts.dtype == np.int64
    assert list(result.rows) == [(d, L, mlp_stack(d, L)) for d in (1, 2, 768, 12288) for L in (1, 12, 96)]
    assert result.rows[0] == (1, 1, 13)
    assert result.rows[-1] == (12288, 96, 96 * (8 * 12288**2 + 5 * 12288))


def test_a_million_points():
    result = symparam.parse(MLP_STACK).sweep(d=range(1, 1001), L=range(1, 1001))
    d = np.arange(1, 1001, dtype=np.int64)[:, None]
    L = np.arange(1, 1001, dtype=np.int64)[None, :]
    assert result.counts.dtype == np.int64
    assert result.counts.shape == (1000, 1000)
    assert np.array_equal(result.counts, L * (8 * d * d + 5 * d))
    assert len(result.rows) == 10**6
    assert result.rows[123_456] == (124, 457, mlp_stack(124, 457))
    assert result.rows[-1] == (1000, 1000, mlp_stack(1000, 1000))


def test_values_beyond_int64_stay_exact():
    ds = [10**12, 2**62, 3 * 10**18]
    result = symparam.parse(MLP_STACK).sweep(d=ds, L=[1, 10**6])
    assert result.counts.dtype == object
    rows = list(result.rows)
    assert rows == [(d, L, mlp_stack(d, L)) for d in ds for L in (1, 10**6)]
    assert all(type(value) is int for row in rows for value in row)


def test_int64_is_used_up_to_its_last_value():
    network = symparam.parse("in(d) -> dense(1)")  # d + 1
    below = network.sweep(d=[2**63 - 2])
    above = network.sweep(d=[2**63 - 1])
    assert below.counts.dtype == np.int64 and list(below.rows) == [(2**63 - 2, 2**63 - 1)]
    assert above.counts.dtype == object and list(above.rows) == [(2**63 - 1, 2**63)]


def test_a_floor_of_a_numerator_past_int64():
    # d + 1 + 2·(floor(d²/10^6) + 1): the count fits in int64, d² does not.
    network = symparam.parse("in(d) -> dense(1) -> dense(d*d // 10^6 + 1)")
    d = 3_100_000_000
    result = network.sweep(d=[d])
    assert result.counts.dtype == object
    assert list(result.rows) == [(d, d + 1 + 2 * (d * d // 10**6 + 1))]
    assert network.sweep(d=[3_000_000_000]).counts.dtype == np.int64


def test_the_two_paths_agree_on_the_same_points():
    network = symparam.parse(MLP_STACK)
    small = network.sweep(d=range(1, 60), L=[1, 7, 48])
    large = network.sweep(d=[*range(1, 60), 10**12], L=[1, 7, 48])
    assert small.counts.dtype == np.int64 and large.counts.dtype == object
    assert large.rows[: len(small.rows)] == list(small.rows)


@pytest.mark.parametrize("text, names, values", [
    (MLP_STACK, ("d", "L"), range(1, 41)),
    (STRIDED_CONV, ("n",), range(1, 41)),  # floors of negative numbers too, below n = 3
    ("in(n, n, 3) -> conv2d(8, 3, stride=2, padding=same) -> flatten -> dense(10)", ("n",), range(1, 41)),
    ("in(n, n, 3) -> Conv2DTranspose(8, k, strides=3) -> flatten -> dense(10)", ("n", "k"), range(1, 41)),
    ("in(d) -> dense(d/2) -> dense(d // 3 + 1)", ("d",), range(2, 82, 2)),
])
def test_int64_and_python_ints_give_the_same_counts(text, names, values):
    network = symparam.parse(text)
    ranges = [grid.Range.of(name, values) for name in names]
    program = program_of(network, names)
    fast = grid.run_program(program, ranges, np.int64)
    exact = grid.run_program(program, ranges, object)
    assert fast.dtype == np.int64 and exact.dtype == object
    assert fast.tolist() == exact.tolist()


def test_floors_of_a_strided_convolution():
    network = symparam.parse(STRIDED_CONV)
    assert list(network.sweep(n=range(3, 200)).rows) == [(n, strided_conv(n)) for n in range(3, 200)]
    huge = [10**12 + 1, 10**12 + 2, 2**70 + 3]
    result = network.sweep(n=huge)
    assert result.counts.dtype == object
    assert list(result.rows) == [(n, strided_conv(n)) for n in huge]


def test_ceilings_of_same_padding():
    network = symparam.parse("in(n, n, 3) -> conv2d(8, 3, stride=2, padding=same) -> flatten -> dense(10)")
    values = [*range(1, 50), 2**40 + 1]
    assert list(network.sweep(n=values).rows) == [(n, strided_conv(n, "same")) for n in values]


def test_max_of_a_transposed_convolution():
    network = symparam.parse("in(n, n, 3) -> Conv2DTranspose(8, k, strides=3) -> flatten -> dense(10)")
    result = network.sweep(n=[1, 5, 64], k=[1, 2, 3, 7])

    def by_hand(n, k):
        side = 3 * n + max(0, k - 3)
        return (k * k * 3 * 8 + 8) + (side * side * 8 * 10 + 10)

    assert list(result.rows) == [(n, k, by_hand(n, k)) for n in (1, 5, 64) for k in (1, 2, 3, 7)]
    assert result.rows[5] == (5, 2, 18114)


def test_rational_coefficients_are_exact_and_checked():
    halves = symparam.parse("in(d) -> dense(d/2)")  # d·d/2 + d/2
    values = [2, 4, 10**10, 2**80]
    assert list(halves.sweep(d=values).rows) == [(d, d * (d // 2) + d // 2) for d in values]
    thirds = symparam.parse("in(d) -> dense(d/3)")  # d(d + 1)/3: not whole at d = 1
    with pytest.raises(symparam.SymparamError, match="a count came out as 2/3"):
        thirds.sweep(d=[3, 1])


def test_a_size_in_a_denominator_goes_through_lambdify():
    network = symparam.parse((EXAMPLES / "llama.sp").read_text(), K=8, V=32000, f=11008)
    with pytest.raises(grid.Unsupported):
        program_of(network, ("d", "L", "H"))
    result = network.sweep(d=[4096], L=[32], H=[32, 64])
    assert list(result.rows) == [(4096, 32, H, network.evaluate(d=4096, L=32, H=H)) for H in (32, 64)]
    assert result.rows[0][-1] == 5_933_109_248


def test_a_size_the_count_does_not_use():
    network = symparam.parse("in(16, 8) -> attention(H)")  # the heads change no count
    result = network.sweep(H=[1, 2, 4])
    assert result.counts.dtype == np.int64
    assert list(result.rows) == [(1, 288), (2, 288), (4, 288)]


# ------------------------------------------------------------------ rows


def test_rows_behave_as_a_sequence_of_tuples():
    rows = symparam.parse(MLP_STACK).sweep(d=[1, 2, 3], L=[1, 2]).rows
    expected = [(d, L, mlp_stack(d, L)) for d in (1, 2, 3) for L in (1, 2)]
    assert len(rows) == 6
    assert rows == expected and rows != expected[:-1]
    assert rows[-1] == expected[-1] and rows[2] == expected[2]
    assert rows[1:5:2] == expected[1:5:2] and rows[::-1] == expected[::-1]
    assert expected[3] in rows
    assert all(type(value) is int for value in rows[4])
    with pytest.raises(IndexError):
        rows[6]


def test_sweeps_compare_by_their_counts():
    network = symparam.parse(MLP_STACK)
    assert network.sweep(d=[1, 2], L=[3]) == network.sweep(d=[1, 2], L=[3])
    assert network.sweep(d=[1, 2], L=[3]) != network.sweep(d=[1, 3], L=[3])


def test_json_and_csv_read_the_rows(tmp_path):
    import io

    result = symparam.parse(MLP_STACK).sweep(d=[2, 10**10], L=[3])
    stream = io.StringIO()
    grid.write_csv(result, stream)
    assert stream.getvalue().splitlines() == ["d,L,params", f"2,3,{mlp_stack(2, 3)}",
                                              f"{10**10},3,{mlp_stack(10**10, 3)}"]
    assert grid.to_json_dict(result)["rows"][1] == {"d": 10**10, "L": 3, "params": mlp_stack(10**10, 3)}


def test_ranges_take_positive_whole_numbers():
    assert tuple(grid.Range.of("d", range(5, 0, -2)).values) == (5, 3, 1)  # kept a range
    assert grid.Range.of("d", iter([2, 1])).values == (2, 1)
    for values in (range(0, 3), range(3, 3), range(3, -1, -1), [], [0], [1, True], [1, 2.0]):
        with pytest.raises(symparam.SymparamError, match="positive whole numbers"):
            grid.Range.of("d", values)


def test_each_size_is_varied_once():
    network = symparam.parse(MLP_STACK)
    ranges = [grid.Range.of("d", [1]), grid.Range.of("L", [1]), grid.Range.of("d", [2])]
    with pytest.raises(symparam.SymparamError, match="vary each size once"):
        grid.sweep(network, ranges)


def test_too_many_points():
    with pytest.raises(symparam.SymparamError, match="at most 1,000,000"):
        symparam.parse(MLP_STACK).sweep(d=range(1, 1002), L=range(1, 1001))


# ------------------------------------------------------------------ property

SIZE = st.sampled_from(["a", "b", "2", "5", "a + 1", "3*a", "a*b", "b*b + a", "a // 2 + 1",
                        "(a + b) // 3 + 1", "2*a + b // 2 + 1", "a^2"])
VALUE = st.one_of(st.integers(1, 40), st.integers(1, 10**10))


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(SIZE, min_size=2, max_size=4),
       a_values=st.lists(VALUE, min_size=1, max_size=3, unique=True),
       b_values=st.lists(VALUE, min_size=1, max_size=3, unique=True),
       convention=st.sampled_from(["keras", "torch"]))
def test_sweep_equals_evaluate_at_every_point(sizes, a_values, b_values, convention):
    text = f"in({sizes[0]}) -> " + " -> ".join(f"dense({size})" for size in sizes[1:])
    network = symparam.parse(text, convention=convention)
    values = {"a": a_values, "b": b_values}
    names = sorted(network.free_names())
    result = network.sweep(**{name: values[name] for name in names})
    for row in result.rows:
        assert row[-1] == network.evaluate(**dict(zip(names, row[:-1])))


# ------------------------------------------------------------------ robustness: big ranges, names


def sweep_cli(*args):
    from click.testing import CliRunner

    from symparam.cli import main

    return CliRunner().invoke(main, ["sweep", *[str(arg) for arg in args]])


@pytest.mark.parametrize(
    "vary, points",
    [("d=1:10^9", 10**9), ("d=1:10^100", 10**100), ("d=1:10^100:3", (10**100 - 1) // 3 + 1)],
    ids=["billion", "googol", "googol_step_3"],
)
def test_too_many_values_refused_from_the_ends(vary, points):
    result = sweep_cli("in(d) -> dense(d)", "--vary", vary)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr == (f"error: --vary {vary}: {points:,} values; "
                             "a sweep has at most 1,000,000 points\n")


def test_huge_python_ranges_are_counted_not_built():
    network = symparam.parse("in(d) -> dense(d)")
    with pytest.raises(symparam.SymparamError, match=f"the grid has {10**100 - 1:,} points"):
        network.sweep(d=range(1, 10**100))
    assert grid.Range.of("d", range(1, 10**100, 7)).size == -(-(10**100 - 1) // 7)


def test_a_million_points_stay_a_range():
    vary = grid.parse_range("d=1:10^6")
    assert vary.values == range(1, 10**6 + 1) and vary.size == 10**6
    result = symparam.parse("in(d) -> dense(d)").sweep(d=vary.values)
    assert result.counts.dtype == np.int64
    assert result.rows[-1] == (10**6, 10**12 + 10**6)
    assert result.rows[4] == (5, 30)


def test_sweep_at_a_googol_is_exact():
    result = sweep_cli("in(d) -> dense(d)", "--vary", "d=10^100:10^100+2")
    assert result.exit_code == 0, result.output
    d = 10**100
    assert result.stdout.splitlines() == ["d,params"] + [f"{v},{v * v + v}" for v in (d, d + 1, d + 2)]


SHADOWING = ["floor", "Fraction", "ceiling", "Max", "Min", "numpy", "math", "builtins"]


@pytest.mark.parametrize("name", SHADOWING, ids=SHADOWING)
@pytest.mark.parametrize(
    "units, count",
    # in(n) -> dense(u): n·u + u, by hand. n // 2 is an integer program, 12 // n goes
    # through lambdify (a size in a denominator).
    [("{} // 2", lambda n: n * (n // 2) + n // 2), ("12 // {}", lambda n: n * (12 // n) + 12 // n)],
    ids=["program", "lambdify"],
)
def test_size_names_shadow_nothing(name, units, count):
    result = sweep_cli(f"in({name}) -> dense({units.format(name)})", "--vary", f"{name}=2:4")
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout.splitlines() == [f"{name},params"] + [f"{n},{count(n)}" for n in (2, 3, 4)]


def test_plot_past_the_largest_float_is_refused(tmp_path):
    pytest.importorskip("matplotlib")
    result = sweep_cli("in(d) -> dense(d)", "--vary", "d=10^200:10^200+1", "--plot", tmp_path / "x.png")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "past the largest float" in result.stderr


def _inside(figure, artist) -> bool:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(figure).get_renderer()
    box, frame = artist.get_window_extent(renderer), figure.bbox
    return frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1


def test_a_plot_over_many_values_is_a_heatmap_without_a_legend(tmp_path):
    pytest.importorskip("matplotlib")
    from symparam.sweep import plot

    network = symparam.parse("in(d) -> (dense(4*d) -> gelu -> dense(d)) * L")
    figure = plot(network.sweep(d=range(64, 4097, 64), L=range(1, 97)), tmp_path / "grid.png", logy=True)
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axes = figure.axes[0]
    assert axes.get_legend() is None and len(figure.axes) == 2  # the plot and its colour bar
    assert axes.get_xlabel() == "$d$" and axes.get_ylabel() == "$L$"


def test_a_plot_over_a_few_values_has_a_legend_inside_the_figure(tmp_path):
    pytest.importorskip("matplotlib")
    from symparam.sweep import plot

    network = symparam.parse("in(d) -> (dense(4*d) -> gelu -> dense(d)) * L")
    figure = plot(network.sweep(d=range(64, 4097, 64), L=[12, 24, 36, 48]), tmp_path / "lines.svg")
    legend = figure.axes[0].get_legend()
    assert legend is not None and len(legend.get_texts()) == 4 and _inside(figure, legend)
    assert (tmp_path / "lines.svg").read_text().lstrip().startswith("<?xml")


def test_a_plot_takes_its_format_from_the_extension(tmp_path):
    pytest.importorskip("matplotlib")
    result = sweep_cli("in(d) -> dense(d)", "--vary", "d=1:5", "--plot", tmp_path / "x.pdf")
    assert result.exit_code == 0 and (tmp_path / "x.pdf").read_bytes()[:4] == b"%PDF"
    result = sweep_cli("in(d) -> dense(d)", "--vary", "d=1:5", "--plot", tmp_path / "x.jpg")
    assert result.exit_code == 2 and "a plot is a .png, .svg or .pdf file" in result.stderr
