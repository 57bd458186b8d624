"""A case stores its attack kind and MITRE ATLAS technique ids (migration 0004); cases
and audit entries from before 0004 still verify. (API: tests/api/test_case_atlas.py;
exports: tests/interop/test_export_case.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from jbgrade._errors import InputError
from jbgrade.registry import Keyring, Registry, make_engine, upgrade
from tests.registry.conftest import World


def test_case_stores_attack_kind_and_atlas_ids(world: World) -> None:
    reg, lab = world.reg, world.u("lab", "assessor")
    c = reg.report_case(
        lab,
        title="Injected instructions",
        attack_kind="Prompt-Injection",
        atlas_techniques=["AML.T0051.000", "AML.T0054", "AML.T0051.000"],
    )
    assert c.attack_kind == "prompt-injection"
    assert c.atlas_techniques == ["AML.T0051.000", "AML.T0054"]
    again = reg.get_case(world.u("lab", "reporter"), c.id)
    assert (again.attack_kind, again.atlas_techniques) == (
        "prompt-injection",
        ["AML.T0051.000", "AML.T0054"],
    )
    plain = reg.report_case(lab, title="No attack details")
    assert plain.attack_kind is None and plain.atlas_techniques == []
    assert reg.verify_audit().ok


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"atlas_techniques": ["T0054"]}, "atlas_techniques"),
        ({"atlas_techniques": ["AML.T54"]}, "atlas_techniques"),
        ({"atlas_techniques": "AML.T0054"}, "atlas_techniques"),
        ({"attack_kind": "role play!"}, "attack_kind"),
    ],
)
def test_bad_attack_details_are_input_errors(
    world: World, kw: dict[str, object], field: str
) -> None:
    with pytest.raises(InputError) as exc:
        world.reg.report_case(world.u("lab", "assessor"), title="x", **kw)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_migration_0004_keeps_earlier_cases_and_their_audit(tmp_path: Path) -> None:
    """Down to 0003 and up again: a case stored without attack details keeps verifying
    against its audit entry, and the columns come back empty for it."""
    from alembic import command

    from jbgrade.registry._db import _alembic_config, current_revision

    eng: Engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    upgrade(eng)
    reg = Registry(eng, Keyring.generate())
    admin, _ = reg.bootstrap("Operator", "root")
    org = reg.create_org(admin, "Lab", kind="lab").id
    user = Registry.actor_of(reg.create_user(admin, org, "a", "assessor"))
    old = reg.report_case(user, title="Before 0004")
    with eng.begin() as conn:
        command.downgrade(_alembic_config(conn), "0003")
    assert current_revision(eng) == "0003"
    with eng.connect() as conn:
        cols = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(cases)")}
    assert "atlas_techniques" not in cols and "attack_kind" not in cols
    assert upgrade(eng) == "0004"
    reg = Registry(eng, Keyring.generate())
    got = reg.get_case(user, old.id)
    assert got.attack_kind is None and got.atlas_techniques == []
    reg.report_case(user, title="After 0004", atlas_techniques=["AML.T0054"])
    assert reg.verify_audit().ok
    eng.dispose()
