"""The audit chain: intact after real work; every kind of tampering by hand is found
and the first broken link named (on SQLite and on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jbgrade.cli import main
from jbgrade.registry import Registry
from jbgrade.registry._audit import entry_hash
from tests.registry.conftest import World

LOW = "JBG:1.0/LY:S/UN:N/RL:L/TR:S/HD:W/UP:P/AG:T/AC:M/AU:N/EX:P/ST:U"
HIGH = "JBG:1.0/LY:C/UN:U/RL:H/TR:M/HD:W/UP:F/AG:A/AC:L/AU:Y/EX:P/ST:P"
INSERT_ENTRY = (
    "INSERT INTO audit_log (seq, at, actor_id, actor_org_id, action, object_type, "
    "object_id, case_id, state_sha256, prev_sha256, entry_sha256) VALUES (:seq, :at, "
    ":actor_id, :actor_org_id, :action, :object_type, :object_id, :case_id, "
    ":state_sha256, :prev_sha256, :entry_sha256)"
)


def raw(engine: Engine, sql: str, **params: Any) -> None:
    """Tamper as someone with direct database access would. On PostgreSQL the
    append-only triggers must be switched off first (superuser only)."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.exec_driver_sql("SET LOCAL session_replication_role = replica")
        c.execute(sa.text(sql), params)


def rows(engine: Engine) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(sa.text("SELECT * FROM audit_log ORDER BY seq")).mappings())


@pytest.fixture
def busy(world: World) -> World:
    """A registry with some history: cases, assessments, evidence, a decision."""
    reg = world.reg
    a = world.u("lab", "assessor")
    for i in range(3):
        c = reg.report_case(
            world.u("researchers", "reporter"),
            title=f"c{i}",
            owning_org_id=world.lab,
            payload=f"p{i}",
        )
        reg.transition(a, c.id, "triaged")
        reg.add_assessment(a, c.id, LOW)
        reg.add_assessment(a, c.id, HIGH)
    reg.decide(a, c.id, "lab-frontier")
    return world


def verify(reg: Registry) -> tuple[bool, list[str]]:
    r = reg.verify_audit()
    return r.ok, [str(p) for p in r.problems]


def test_intact_chain_verifies(busy: World) -> None:
    r = busy.reg.verify_audit()
    assert r.ok and r.entries > 30 and r.head_seq == r.entries
    assert r.objects_checked > 20
    assert "intact" in r.summary()


@pytest.mark.parametrize(
    "column,value",
    [
        ("action", "'case.delete'"),
        ("actor_id", "'usr_intruder'"),
        ("object_id", "'case_other'"),
        ("state_sha256", "'" + "1" * 64 + "'"),
        ("prev_sha256", "'" + "2" * 64 + "'"),
        ("entry_sha256", "'" + "3" * 64 + "'"),
        ("case_id", "NULL"),
        ("actor_org_id", "'org_x'"),
    ],
)
def test_editing_any_field_is_found_and_named(busy: World, column: str, value: str) -> None:
    reg = busy.reg
    target = next(r["seq"] for r in rows(reg.engine)[10:] if r["case_id"] is not None)
    raw(reg.engine, f"UPDATE audit_log SET {column} = {value} WHERE seq = :s", s=target)
    ok, problems = verify(reg)
    assert not ok
    assert problems[0].startswith(f"seq {target}:"), problems


def test_editing_the_timestamp_is_found(busy: World) -> None:
    reg = busy.reg
    raw(reg.engine, "UPDATE audit_log SET at = :t WHERE seq = 7", t=rows(reg.engine)[0]["at"])
    ok, problems = verify(reg)
    assert not ok and problems[0].startswith("seq 7: entry hash mismatch")


def test_deleting_an_entry_is_found(busy: World) -> None:
    reg = busy.reg
    raw(reg.engine, "DELETE FROM audit_log WHERE seq = 12")
    ok, problems = verify(reg)
    assert not ok
    assert problems[0] == "seq 13: entries 12..12 are missing (deleted)", problems


def test_deleting_the_last_entries_is_found(busy: World) -> None:
    reg = busy.reg
    last = rows(reg.engine)[-1]["seq"]
    raw(reg.engine, "DELETE FROM audit_log WHERE seq >= :s", s=last - 1)
    ok, problems = verify(reg)
    assert not ok
    assert any(f"the head records seq {last}" in p for p in problems), problems


def test_appending_a_forged_entry_is_found(busy: World) -> None:
    reg = busy.reg
    last = rows(reg.engine)[-1]
    fields = {
        "seq": last["seq"] + 1,
        "at": last["at"],
        "actor_id": "usr_intruder",
        "actor_org_id": None,
        "action": "case.transition",
        "object_type": "case",
        "object_id": last["object_id"],
        "case_id": last["case_id"],
        "state_sha256": "4" * 64,
        "prev_sha256": last["entry_sha256"],
    }
    # A careful forger computes a valid hash; the head row and the data still disagree.
    at = reg.verify_audit()  # sanity: intact before
    assert at.ok
    e = {**fields, "entry_sha256": entry_hash(**{**fields, "at": _as_dt(last["at"])})}
    raw(
        reg.engine,
        INSERT_ENTRY,
        **e,
    )
    ok, problems = verify(reg)
    assert not ok
    assert any("head records" in p for p in problems), problems


def _as_dt(v: Any) -> Any:
    from datetime import UTC, datetime

    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return v if v.tzinfo else v.replace(tzinfo=UTC)


def test_inserting_an_entry_in_the_middle_is_found(busy: World) -> None:
    """Make room by renumbering (seq is the key), then slip a valid-looking entry in."""
    reg = busy.reg
    n = next(r for r in rows(reg.engine)[14:] if r["object_type"] == "case")
    raw(reg.engine, "UPDATE audit_log SET seq = seq + 1000 WHERE seq > :s", s=n["seq"])
    raw(reg.engine, "UPDATE audit_log SET seq = seq - 999 WHERE seq > :s", s=n["seq"] + 999)
    fields = {
        "seq": n["seq"] + 1,
        "at": _as_dt(n["at"]),
        "actor_id": "usr_intruder",
        "actor_org_id": None,
        "action": "case.transition",
        "object_type": "case",
        "object_id": n["object_id"],
        "case_id": n["case_id"],
        "state_sha256": n["state_sha256"],
        "prev_sha256": n["entry_sha256"],
    }
    raw(
        reg.engine,
        INSERT_ENTRY,
        **fields,
        entry_sha256=entry_hash(**fields),
    )
    ok, problems = verify(reg)
    assert not ok
    # The forged entry links fine to its predecessor; the next one does not, and says
    # which entry was slipped in.
    first_link = next(p for p in problems if "prev_sha256" in p)
    assert first_link == (
        f"seq {n['seq'] + 2}: prev_sha256 points to seq {n['seq']}, not seq {n['seq'] + 1}: "
        f"seq {n['seq'] + 1} was inserted, or entries were reordered"
    ), problems


def test_reordering_entries_is_found(busy: World) -> None:
    reg = busy.reg
    raw(reg.engine, "UPDATE audit_log SET seq = -1 WHERE seq = 8")
    raw(reg.engine, "UPDATE audit_log SET seq = 8 WHERE seq = 9")
    raw(reg.engine, "UPDATE audit_log SET seq = 9 WHERE seq = -1")
    ok, problems = verify(reg)
    assert not ok and problems[0].startswith("seq 8:"), problems


def test_rows_edited_deleted_or_inserted_behind_the_registry_are_found(busy: World) -> None:
    reg = busy.reg
    eng = reg.engine
    with eng.connect() as c:
        asm = c.execute(sa.text("SELECT id FROM assessments ORDER BY id LIMIT 1")).scalar_one()
        dec = c.execute(sa.text("SELECT id FROM decisions LIMIT 1")).scalar_one()
        case = c.execute(sa.text("SELECT id FROM cases ORDER BY id LIMIT 1")).scalar_one()
    raw(eng, "UPDATE assessments SET vector = :v, score = 0.1 WHERE id = :i", v=LOW, i=asm)
    raw(eng, "DELETE FROM decisions WHERE id = :i", i=dec)
    raw(eng, "UPDATE cases SET title = 'nothing to see' WHERE id = :i", i=case)
    raw(
        eng,
        "INSERT INTO organizations (id, name, kind, created_at) "
        "VALUES ('org_ghost', 'Ghost', 'lab', '2026-01-01 00:00:00+00')",
    )
    ok, problems = verify(reg)
    text = "\n".join(problems)
    assert not ok
    assert f"assessment {asm} differs" in text
    assert f"decision {dec} was deleted" in text
    assert f"case {case} differs" in text
    assert "organization org_ghost has no audit entry" in text


def test_cli_verify_exit_codes_and_lines(busy: World, capsys: pytest.CaptureFixture[str]) -> None:
    reg = busy.reg
    url = reg.engine.url.render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as ex:
        main(["audit", "verify", "--db", url])
    assert ex.value.code == 0
    out = capsys.readouterr()
    assert out.out.startswith("audit chain intact:") and out.err == ""
    head = reg.verify_audit()
    raw(reg.engine, "UPDATE audit_log SET action = 'x' WHERE seq = 5")
    raw(reg.engine, "DELETE FROM audit_log WHERE seq = 20")
    with pytest.raises(SystemExit) as ex:
        main(["audit", "verify", "--db", url])
    assert ex.value.code == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "jbgrade: audit: seq 5: entry hash mismatch: this entry was edited"
    assert any("seq 21: entries 20..20 are missing" in ln for ln in lines)
    with pytest.raises(SystemExit) as ex:
        main(["audit", "verify", "--db", url, "--anchor", f"{head.head_seq}:{'0' * 64}"])
    assert ex.value.code == 1
    with pytest.raises(SystemExit) as ex:
        main(["audit", "verify", "--db", url, "--anchor", "nonsense"])
    assert ex.value.code == 2


def test_concurrent_writers_keep_one_unbroken_chain(world: World) -> None:
    """Writers in parallel threads (own connections) still append consecutive links."""
    from concurrent.futures import ThreadPoolExecutor

    reg = world.reg
    actors = [world.u(o, "assessor") for o in ("lab", "researchers", "gov", "other")]

    def work(i: int) -> None:
        a = actors[i % len(actors)]
        c = reg.report_case(a, title=f"parallel {i}")
        reg.add_assessment(a, c.id, LOW)

    before = reg.verify_audit().entries
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(work, range(24)))
    r = reg.verify_audit()
    assert r.ok, r.problems[:3]
    assert r.entries == before + 48
