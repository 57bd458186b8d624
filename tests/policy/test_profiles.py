from __future__ import annotations

import importlib.resources as r
from pathlib import Path

import jsonschema
import pytest

from jbgrade import PolicyError, UnknownProfileError, load_profile
from jbgrade.policy import list_profiles, parse_profile, profile_schema
from tests.policy.conftest import SHIPPED, p10


def _text(name: str) -> str:
    return r.files("jbgrade.policy").joinpath(f"data/profiles/jbg-1.0/{name}.yaml").read_text()


def test_shipped_profiles_are_listed_and_load() -> None:
    assert list_profiles() == sorted(SHIPPED)
    for name in SHIPPED:
        p = p10(name)
        assert p.id == name
        assert len(p.bundle_sha256) == 64
        jsonschema.validate(p.document, profile_schema())
        # Honest labelling: every rule cites a source or says it is illustrative.
        for rule in p.rules:
            assert rule.citation.illustrative or rule.citation.source in p.sources


def test_unknown_profile_lists_the_available_ones() -> None:
    with pytest.raises(UnknownProfileError) as exc:
        p10("eu-ai-act")
    for name in SHIPPED:
        assert name in str(exc.value)


def test_profile_by_path(tmp_path: Path) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text(_text("g7-baseline"))
    p = load_profile(str(f))
    assert p.source == str(f)
    assert p.bundle_sha256 == p10("g7-baseline").bundle_sha256
    with pytest.raises(PolicyError, match="no such profile file"):
        load_profile(tmp_path / "missing.yaml")


def _err(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as exc:
        parse_profile(text, "bad.yaml")
    return exc.value


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_schema_error_names_file_and_line() -> None:
    text = _text("g7-baseline").replace("action: mitigate", "action: escalate", 1)
    e = _err(text)
    assert e.path == "bad.yaml"
    assert e.line == _line_of(text, "action: escalate")
    assert str(e).startswith(f"bad.yaml:{e.line}: ")


def test_unknown_metric_letter_names_the_line() -> None:
    text = _text("g7-baseline").replace("ST: {in: [A]}", "ST: {in: [Q]}")
    e = _err(text)
    assert e.line == _line_of(text, "ST: {in: [Q]}")
    assert "'Q' is not a value of ST" in str(e)


def test_unknown_obligation_and_duplicate_rule() -> None:
    text = _text("g7-baseline").replace("obligations: [track]", "obligations: [trak]")
    e = _err(text)
    assert "unknown obligation 'trak'" in str(e)
    assert e.line == _line_of(text, "obligations: [trak]")
    text = _text("g7-baseline").replace("- id: low-track", "- id: baseline")
    e = _err(text)
    assert "duplicate rule id 'baseline'" in str(e)
    second = [i for i, ln in enumerate(text.splitlines(), 1) if "- id: baseline" in ln][1]
    assert e.line == second


def test_undeclared_context_field_and_unordered_at_least() -> None:
    text = _text("us-export").replace("weights: {in: [closed]}", "weights: {at_least: closed}")
    assert "not ordered" in str(_err(text))
    text = _text("lab-frontier").replace(
        "deployment: {at_least: limited}", "deploy: {at_least: limited}"
    )
    e = _err(text)
    assert "context field 'deploy' is not declared" in str(e)
    assert e.line == _line_of(text, "deploy: {at_least: limited}")


def test_malformed_yaml_and_duplicate_keys() -> None:
    e = _err("format: jbgrade-policy/1\nid: [unclosed\n")
    assert e.line is not None and "invalid YAML" in str(e)
    e = _err("format: jbgrade-policy/1\nid: a\nid: b\n")
    assert e.line == 3 and "duplicate key 'id'" in str(e)


def test_impossible_condition_rejected() -> None:
    text = _text("g7-baseline").replace(
        "severity: {at_least: Low}", "severity: {at_least: High, at_most: Low}"
    )
    assert "can never hold" in str(_err(text))


def test_rescinded_needs_date() -> None:
    text = _text("g7-baseline").replace("status: active", "status: rescinded")
    assert "rescinded_on" in str(_err(text))


def test_entry_point_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jbgrade._plugins as kernel
    from jbgrade import PluginError
    from jbgrade.policy import ENTRY_POINT_GROUP, PROFILES

    d = tmp_path / "profiles"
    d.mkdir()
    (d / "acme-lab.yaml").write_text(
        _text("g7-baseline").replace("id: g7-baseline", "id: acme-lab")
    )

    class EP:
        name = "acme"
        value = "acme_policies:PROFILES"

        def load(self) -> Path:
            return d

    monkeypatch.setattr(
        kernel, "entry_points", lambda group: [EP()] if group == ENTRY_POINT_GROUP else []
    )
    monkeypatch.setattr(PROFILES, "_plugins", dict(PROFILES._plugins))
    PROFILES.refresh()  # the plug-in kernel reads entry points once; a new one needs this
    assert "acme-lab" in list_profiles()
    assert PROFILES.info("acme-lab").origin == "entry-point:acme_policies:PROFILES"
    p = p10("acme-lab")
    assert p.id == "acme-lab" and p.source == str(d / "acme-lab.yaml")
    # A shipped name taken again by a plug-in is a duplicate registration, every time.
    (d / "g7-baseline.yaml").write_text(_text("g7-baseline"))
    for _ in range(2):
        with pytest.raises(PluginError, match="'g7-baseline' is already registered"):
            PROFILES.refresh()
            list_profiles()
    monkeypatch.setattr(kernel, "entry_points", lambda group: [])
    PROFILES.refresh()
    assert "acme-lab" not in list_profiles()
