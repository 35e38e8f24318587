"""`use "file";`: the definitions of other files, read relative to the file that says it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import symparam
from symparam.cli import main


@pytest.fixture
def files(tmp_path):
    """A model using a library in a folder below it, which uses another file beside it."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "blocks.sp").write_text(
        '# shared blocks\nuse "more.sp";\n'
        "let ffn(d, f) = dense(f) -> relu -> dense(d);\n"
        "let block(d) = residual(layer_norm -> ffn(d, 4*d));\n"
    )
    (tmp_path / "lib" / "more.sp").write_text("let stem(d) = dense(d) -> relu;\n")
    (tmp_path / "model.sp").write_text('use "lib/blocks.sp";\nin(8) -> stem(16) -> block(16) * 2\n')
    return tmp_path


# stem(16) on 8: 8·16 + 16; block(16): 2·16 (the norm) + 16·64 + 64 + 64·16 + 16
EXPECTED = 144 + 2 * (32 + 1088 + 1040)


def test_a_used_file_brings_its_definitions_and_those_it_uses(files):
    text = (files / "model.sp").read_text()
    assert symparam.parse(text, path=files / "model.sp").value == EXPECTED
    assert symparam.count(text, path=files / "model.sp") == EXPECTED
    written_out = ("let stem(d) = dense(d) -> relu;\nlet ffn(d, f) = dense(f) -> relu -> dense(d);\n"
                   "let block(d) = residual(layer_norm -> ffn(d, 4*d));\n"
                   "in(8) -> stem(16) -> block(16) * 2")
    assert symparam.parse(written_out).value == EXPECTED


def test_the_command_line_reads_uses_relative_to_the_file(files, monkeypatch):
    monkeypatch.chdir(files / "lib")  # not where model.sp is
    result = CliRunner().invoke(main, ["count", "-f", str(files / "model.sp")])
    assert (result.exit_code, result.output) == (0, f"{EXPECTED}\n")


def test_an_expression_reads_uses_relative_to_the_current_folder(files, monkeypatch):
    monkeypatch.chdir(files)
    result = CliRunner().invoke(main, ["count", 'use "lib/blocks.sp"; in(8) -> stem(16)'])
    assert (result.exit_code, result.output) == (0, "144\n")


def test_the_api_reads_files_only_when_given_the_texts_path(files, monkeypatch):
    monkeypatch.chdir(files)
    with pytest.raises(symparam.SymparamError, match=r"1:1: 'use \"lib/blocks.sp\"' reads a file: give the "
                       r"text's own path, parse\(text, path=...\), to read it from there"):
        symparam.parse('use "lib/blocks.sp"; in(8) -> stem(16)')


def test_a_file_used_twice_is_read_once(files):
    text = 'use "lib/more.sp";\nuse "lib/blocks.sp";\nin(8) -> stem(16)'
    assert symparam.parse(text, path=files / "x.sp").value == 144


def test_an_error_inside_a_used_file_names_that_file(files):
    (files / "lib" / "broken.sp").write_text("let broken = dnse(3);\n")
    (files / "bad.sp").write_text('use "lib/broken.sp";\nin(8) -> broken\n')
    with pytest.raises(symparam.SymparamError) as info:
        symparam.parse((files / "bad.sp").read_text(), path=files / "bad.sp")
    assert str(info.value).startswith("lib/broken.sp:1:14: unknown layer 'dnse'; did you mean 'dense'?")
    assert "  let broken = dnse(3);\n               ^~~~" in str(info.value)
    result = CliRunner().invoke(main, ["count", "-f", str(files / "bad.sp")])
    assert result.exit_code == 2 and result.stderr.startswith("error: lib/broken.sp:1:14: unknown layer")


@pytest.mark.parametrize(
    "layout, text, message",
    [
        ({}, 'use "nothere.sp";\nin(3) -> dense(2)', r"1:1: cannot read 'nothere.sp' \(.*nothere.sp\): No such file"),
        ({"a.sp": 'use "b.sp";', "b.sp": 'use "a.sp";'}, 'use "a.sp";\nin(3) -> dense(2)',
         r"b.sp:1:1: 'a.sp' is used in a cycle: a.sp uses b.sp \(at a.sp:1:1\), and b.sp uses a.sp \(at b.sp:1:1\)"),
        ({"a.sp": "let f = dense(2);"}, 'use "a.sp";\nlet f = dense(3);\nin(3) -> f',
         r"2:5: 'f' is defined twice \(first at a.sp:1:5\)"),
        ({"a.sp": "in(3) -> dense(2)"}, 'use "a.sp";\nin(3) -> dense(2)', r"a.sp:1:1: unexpected 'in'"),
    ],
    ids=["missing", "cycle", "defined-twice", "a-chain-in-a-used-file"],
)
def test_errors(tmp_path, layout, text, message):
    for name, content in layout.items():
        (tmp_path / name).write_text(content)
    with pytest.raises(symparam.SymparamError, match=message):
        symparam.parse(text, path=tmp_path / "model.sp")
