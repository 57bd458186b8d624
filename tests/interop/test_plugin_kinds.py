"""Importers and exporters are plug-in kinds on the kernel: contract tests over every
registered name, and a third-party exporter through an entry point."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from jbgrade import InputError, PluginError
from jbgrade._plugins import plugin_kinds
from jbgrade.interop import EXPORTS, IMPORTERS, Exporter, export_report, import_evidence

IMPORTER_NAMES = sorted(IMPORTERS.names())


def test_importer_and_exporter_are_kernel_kinds() -> None:
    kinds = plugin_kinds()
    assert kinds["importer"] is IMPORTERS and kinds["exporter"] is EXPORTS
    assert set(IMPORTER_NAMES) >= {
        "garak",
        "inspect",
        "pyrit",
        "promptfoo",
        "jailbreakbench",
        "harmbench",
    }
    assert set(EXPORTS.names()) >= {"csaf", "stix", "sarif", "avid", "atlas", "jef"}


@pytest.mark.parametrize("name", IMPORTER_NAMES)
def test_importer_contract_garbage_is_one_input_error_and_no_directory(
    name: str, tmp_path: Path
) -> None:
    """Every importer refuses a file that is not its format with an InputError that names
    the file, and leaves no half-written campaign directory behind."""
    bad = tmp_path / "garbage.bin"
    bad.write_bytes(b"\x00\x01 this is not a result file {\n")
    out = tmp_path / "c"
    with pytest.raises(InputError) as ei:
        import_evidence(name, bad, out)
    assert "garbage.bin" in str(ei.value) or ei.value.path == str(bad)
    assert not out.exists()


@pytest.mark.parametrize("name", IMPORTER_NAMES)
def test_importer_contract_factory_is_callable(name: str) -> None:
    info = IMPORTERS.info(name)
    assert callable(info.factory) and info.origin == "builtin"


def test_duplicate_exporter_is_refused() -> None:
    with pytest.raises(PluginError):
        EXPORTS.add("sarif", lambda report: {})


def test_third_party_exporter_via_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint("third", "json:loads", "jbgrade.exporters")

    def fake(*, group: str) -> list[EntryPoint]:
        return [ep] if group == "jbgrade.exporters" else []

    monkeypatch.setattr(EXPORTS, "_loaded", False)
    monkeypatch.setattr(EXPORTS, "_plugins", dict(EXPORTS._plugins))
    monkeypatch.setattr("jbgrade._plugins.entry_points", fake)
    assert "third" in EXPORTS.names()
    # a plain callable from an entry point is a JSON exporter
    assert export_report("third", '{"a": 1}') == {"a": 1}  # type: ignore[arg-type]


def test_scoped_exporter_serialises_as_declared() -> None:
    exp = Exporter("tmp-yaml", lambda report: {"id": report["case"]["id"]}, media="yaml")
    with EXPORTS.scoped("tmp-yaml", exp):
        from jbgrade.interop import render_export

        assert render_export("tmp-yaml", {"case": {"id": "JB-1"}}) == "id: JB-1\n"
    assert "tmp-yaml" not in EXPORTS
    with pytest.raises(InputError):
        export_report("tmp-yaml", {})
