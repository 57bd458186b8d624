"""jbgrade._yaml: the one YAML loader (YAML 1.2 scalars, lines for every path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jbgrade._errors import CaseFileError, InputError, PolicyError
from jbgrade._yaml import load_located, read_located


def test_yaml_1_2_scalars() -> None:
    doc = load_located(
        "a: no\nb: yes\nc: on\nd: n\ne: true\nf: FALSE\ng: 1e25\nh: .5e3\ni: 3.0e+26\n"
        "j: 2026-06-11\nk: '2026-06-11'\nl: ~\nm: 12\n",
        "t.yaml",
    )
    assert doc.data == {
        "a": "no",
        "b": "yes",
        "c": "on",
        "d": "n",
        "e": True,
        "f": False,
        "g": 1e25,
        "h": 500.0,
        "i": 3e26,
        "j": "2026-06-11",
        "k": "2026-06-11",
        "l": None,
        "m": 12,
    }


def test_keys_keep_their_text() -> None:
    doc = load_located("yes: 1\ntrue: 2\nnull: 3\n2026-01-01: 4\n7: 5\n", "t.yaml")
    assert list(doc.data) == ["yes", "true", "null", "2026-01-01", "7"]


def test_lines_of_keys_values_and_items() -> None:
    doc = load_located("top:\n  inner:\n    - x\n    - y: 1\nother: 2\n", "t.yaml")
    assert doc.line_of(("top",)) == 1  # the key's line, not its block value's
    assert doc.line_of(("top", "inner")) == 2
    assert doc.line_of(("top", "inner", 1)) == 4
    assert doc.line_of(("top", "inner", 1, "y")) == 4
    assert doc.line_of(("top", "inner", 1, "nope")) == 4  # nearest known ancestor
    assert doc.line_of(("other",)) == 5
    err = doc.error("bad", ("top", "inner", 0), cls=CaseFileError)
    assert isinstance(err, CaseFileError)
    assert str(err) == "t.yaml:3: top.inner[0]: bad"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb:\n  c: 1\n  c: 2\n", 4, "b.c: duplicate key 'c'"),
        ("a: 1\nd: 2026-13-01\n", 2, "d: invalid value '2026-13-01'"),
        ("a: [unclosed\n", 2, "invalid YAML: while parsing a flow sequence"),
        ("a: 1\n---\nb: 2\n", 3, "expected one YAML document, found several"),
        ("# only a comment\n", 1, "empty document"),
        ("? [a, b]\n: 1\n", 1, "mapping keys must be plain scalars"),
        ("a: &x [1, *x]\n", 1, "a[1]: an alias refers to a collection that contains it"),
        ("b: &b {p: 1}\nc:\n  <<: *b\n  <<: *b\n", 4, "c: duplicate key '<<'"),
        ("c:\n  <<: [1]\n", 2, "c: '<<' merges a mapping or a list of mappings"),
    ],
)
def test_errors_name_source_line_and_field(text: str, line: int, fragment: str) -> None:
    with pytest.raises(PolicyError) as ei:
        load_located(text, "p.yaml", cls=PolicyError)
    assert ei.value.path == "p.yaml" and ei.value.line == line
    assert fragment in str(ei.value)


def test_read_located_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match="no such file"):
        read_located(tmp_path / "gone.yaml", cls=CaseFileError)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: \xff\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_located(bad)
    ok = tmp_path / "ok.yaml"
    ok.write_text("designated: no\n", encoding="utf-8")
    doc = read_located(ok)
    assert doc.data == {"designated": "no"} and doc.path == str(ok)
    assert doc.text == "designated: no\n"


def test_merge_keys_own_keys_win_then_the_first_merged() -> None:
    doc = load_located(
        "x: &x {a: 1, b: 1}\ny: &y {b: 2, c: 2}\nz:\n  c: 3\n  <<: [*x, *y]\nw: {<<: *y}\n",
        "t.yaml",
    )
    assert doc.data["z"] == {"a": 1, "b": 1, "c": 3}
    assert doc.data["w"] == {"b": 2, "c": 2}
    # A merged value's line is where it is written (the anchor); an own key's is its own.
    assert (doc.line_of(("z",)), doc.line_of(("z", "a")), doc.line_of(("z", "c"))) == (3, 1, 4)


def test_alias_expansion_is_capped_and_deep_nesting_is_an_error() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        laughs += f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n"
    with pytest.raises(InputError, match="aliases expand to more than 100,000 copied values"):
        load_located(laughs, "t.yaml")
    with pytest.raises(InputError, match=r"nested (too deeply|deeper than)"):
        load_located("a: " + "[" * 2000 + "]" * 2000 + "\n", "t.yaml")
    # Ordinary reuse is fine.
    assert load_located("a: &a [1, 2]\nb: *a\nc: *a\n", "t.yaml").data["c"] == [1, 2]


def test_allow_empty_reads_no_document_as_none(tmp_path: Path) -> None:
    assert load_located("# nothing\n", "t.yaml", allow_empty=True).data is None
    f = tmp_path / "e.yaml"
    f.write_text("")
    assert read_located(f, allow_empty=True).data is None
    with pytest.raises(InputError, match="empty document"):
        read_located(f)


# -- hostile input (issue 14, point 3) ----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 30_000 + "]" * 30_000 + "\n",  # flow nesting, 60 KB
        "- " * 30_000 + "x\n",  # compact block sequences, 60 KB
        "a: " + "{b: " * 20_000 + "c" + "}" * 20_000 + "\n",
    ],
    ids=["flow", "block", "mappings"],
)
def test_deep_nesting_is_refused_before_composing(text: str) -> None:
    from jbgrade._yaml import MAX_DEPTH

    with pytest.raises(InputError, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_located(text, "<deep>")


def test_nesting_up_to_the_limit_loads() -> None:
    from jbgrade._yaml import MAX_DEPTH

    text = "a: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n"
    data = load_located(text, "<ok>").data["a"]
    for _ in range(MAX_DEPTH - 2):
        data = data[0]
    assert data == [1]


@pytest.mark.parametrize(
    "text",
    ["a: !!int ''", "a: !!float ''", "a: !!timestamp foo", "a: !!bool maybe", "!!int x: 1"],
)
def test_explicit_tags_that_do_not_fit_are_input_errors(text: str) -> None:
    with pytest.raises(InputError, match=r"<t>:1: .*invalid value"):
        load_located(text, "<t>")


@pytest.mark.parametrize("text", ["a: !!binary aGVsbG8=", "a: !!python/name:os.system x"])
def test_tags_that_build_no_plain_value_are_refused(text: str) -> None:
    with pytest.raises(InputError, match="<t>:1"):
        load_located(text, "<t>")


def test_too_many_values_and_too_large_files_are_refused(tmp_path: Path) -> None:
    from jbgrade._yaml import MAX_NODES, MAX_YAML_BYTES, read_bytes_limited, read_located

    many = "[" + "1," * (MAX_NODES + 1) + "1]"
    with pytest.raises(InputError, match="more than"):
        load_located(many, "<many>")
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(MAX_YAML_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(InputError, match="larger than"):
        read_located(big)
    with pytest.raises(InputError, match="payload file larger than 10 bytes"):
        read_bytes_limited(big, max_bytes=10, what="payload file")
