"""Payload canaries: never in the database in clear, in logs, in reprs or exports,
or in what roles without access get back."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from jbgrade import JbgradeError, KeyringError, NotFoundError, PermissionDeniedError
from jbgrade.evidence import compute_evidence
from jbgrade.registry import ROLES, Keyring, Registry
from tests.registry.conftest import Clock, World

CANARY = "JBG-CANARY-7f3a9c1e-payload"
CANARY_T = "JBG-CANARY-7f3a9c1e-transcript"
CANARY_E = "JBG-CANARY-7f3a9c1e-evidence"
STEM = "7f3a9c1e"
HIGH = "JBG:1.0/LY:C/UN:U/RL:H/TR:M/HD:W/UP:F/AG:A/AC:L/AU:Y/EX:P/ST:P"


def _all_rows_text(reg: Registry) -> str:
    out = []
    with reg.engine.connect() as c:
        for t in sa.inspect(c).get_table_names():
            for row in c.execute(sa.text(f"SELECT * FROM {t}")):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def test_canary_never_leaks(world: World, caplog: pytest.LogCaptureFixture, clock: Clock) -> None:
    reg = world.reg
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # SQL and its parameters
    rep = world.u("researchers", "reporter")
    lab_a = world.u("lab", "assessor")
    case = reg.report_case(
        rep,
        title="Canary case",
        owning_org_id=world.lab,
        payload=CANARY,
        transcripts=CANARY_T,
        embargo_until=clock.now + timedelta(days=30),
    )
    reg.attach_evidence(lab_a, case.id, compute_evidence([], {}), transcripts=CANARY_E)
    reg.add_assessment(lab_a, case.id, HIGH)
    reg.grant_access(lab_a, case.id, world.gov, payload=False)

    # Entitled: they get it, but only by asking, and only through get_secret_value().
    full = reg.get_case(lab_a, case.id, include_payload=True)
    assert full.payload is not None and full.payload.get_secret_value() == CANARY
    assert full.transcripts is not None and full.transcripts.get_secret_value() == CANARY_T
    ev = reg.list_evidence(lab_a, case.id, include_transcripts=True)
    assert ev[0].transcripts is not None and ev[0].transcripts.get_secret_value() == CANARY_E
    for shown in (repr(full), str(full), full.model_dump_json(), repr(ev), ev[0].model_dump_json()):
        assert STEM not in shown

    # Everyone else, in every role: the case without payload, or nothing at all.
    for org in ("lab", "researchers", "gov", "other"):
        for role in ROLES:
            actor = world.u(org, role)
            try:
                view = reg.get_case(actor, case.id)
            except NotFoundError as exc:
                assert org == "other" and STEM not in str(exc)
                continue
            assert view.payload is None and view.transcripts is None
            assert STEM not in view.model_dump_json()
            assert STEM not in repr(reg.list_cases(actor, limit=500))
            assert STEM not in repr(reg.list_assessments(actor, case.id, history=True))
            assert STEM not in repr(reg.list_evidence(actor, case.id))
            assert STEM not in repr(reg.audit_trail(actor, case.id))
            if not view.payload_access:
                with pytest.raises(PermissionDeniedError) as exc:
                    reg.get_case(actor, case.id, include_payload=True)
                assert STEM not in str(exc.value)
                with pytest.raises(PermissionDeniedError):
                    reg.list_evidence(actor, case.id, include_transcripts=True)

    # A registry with the wrong key fails without echoing anything.
    wrong = Registry(reg.engine, Keyring.generate(), clock=clock)
    with pytest.raises(KeyringError) as exc:
        wrong.get_case(lab_a, case.id, include_payload=True)
    assert STEM not in str(exc.value)

    # Nothing in the logs, nothing in clear in the database.
    assert "INSERT INTO cases" in caplog.text  # the SQL log was on
    assert STEM not in caplog.text
    assert STEM not in _all_rows_text(reg)
    if reg.engine.dialect.name == "sqlite":
        db = Path(reg.engine.url.database or "")
        files = [p for p in db.parent.iterdir() if p.name.startswith(db.name)]
        assert db in files
        for p in files:  # the database, its WAL and shared-memory files
            assert STEM.encode() not in p.read_bytes(), p


def test_ciphertext_is_bound_to_its_case_and_field(world: World) -> None:
    reg = world.reg
    a = world.u("lab", "assessor")
    c1 = reg.report_case(a, title="one", payload=CANARY, transcripts=CANARY_T)
    c2 = reg.report_case(a, title="two", payload="other")
    with reg.engine.begin() as c:
        if reg.engine.dialect.name == "postgresql":
            c.exec_driver_sql("SET LOCAL session_replication_role = replica")
        ct = c.execute(
            sa.text("SELECT payload_ct, transcripts_ct FROM cases WHERE id = :i"), {"i": c1.id}
        ).one()
        c.execute(
            sa.text("UPDATE cases SET payload_ct = :p WHERE id = :i"), {"p": ct[0], "i": c2.id}
        )
        c.execute(
            sa.text("UPDATE cases SET payload_ct = :t, transcripts_ct = :p WHERE id = :i"),
            {"p": ct[0], "t": ct[1], "i": c1.id},
        )
    for cid in (c1.id, c2.id):
        with pytest.raises(KeyringError, match="failed authentication") as exc:
            reg.get_case(a, cid, include_payload=True)
        assert STEM not in str(exc.value)
    assert not reg.verify_audit().ok  # and the audit chain saw the rows change


def test_no_key_means_no_payload_but_metadata_still_works(world: World, clock: Clock) -> None:
    reg = world.reg
    a = world.u("lab", "assessor")
    c = reg.report_case(a, title="t", payload=CANARY)
    keyless = Registry(reg.engine, None, clock=clock)
    assert keyless.get_case(a, c.id).has_payload
    with pytest.raises(KeyringError, match="no encryption key"):
        keyless.get_case(a, c.id, include_payload=True)
    with pytest.raises(KeyringError):
        keyless.report_case(a, title="t2", payload="x")
    keyless.report_case(a, title="t3")  # no payload, no key needed


def test_payload_errors_do_not_echo_the_payload(world: World) -> None:
    reg = world.reg
    a = world.u("lab", "assessor")
    with pytest.raises(JbgradeError) as exc:
        reg.report_case(a, title="", payload=CANARY)
    assert STEM not in str(exc.value)
