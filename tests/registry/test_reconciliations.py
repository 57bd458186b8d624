"""Reconciliation records stored on a case: validated, immutable, audited, permitted
per the table (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from jbgrade import InputError, NotFoundError, PermissionDeniedError
from jbgrade.assess import store_reconciliation
from tests.registry.conftest import Clock, World, disputed_case


def test_store_list_and_audit(world: World, clock: Clock) -> None:
    reg = world.reg
    case_id, rec = disputed_case(world)
    gov = world.u("gov", "assessor")
    first = store_reconciliation(reg, gov, case_id, rec)
    assert first.id.startswith("rcn_") and first.case_id == case_id
    assert (first.stored_by_name, first.org_name) == ("gov-assessor", "AI Safety Institute")
    assert first.record == rec and first.status == rec["status"]
    clock.advance(minutes=1)
    # Immutable: storing again (by a regulator of the owning lab) adds a record.
    second = reg.add_reconciliation(world.u("lab", "regulator"), case_id, rec)
    listed = reg.list_reconciliations(world.u("lab", "assessor"), case_id)
    assert [x.id for x in listed] == [first.id, second.id]
    trail = reg.audit_trail(gov, case_id)
    stored = [e for e in trail if e.action == "reconciliation.add"]
    assert [e.object_id for e in stored] == [first.id, second.id]
    assert all(e.object_type == "reconciliation" for e in stored)
    report = reg.verify_audit()
    assert report.ok, report.summary()


def test_editing_a_stored_record_breaks_verification(world: World) -> None:
    reg = world.reg
    case_id, rec = disputed_case(world)
    v = reg.add_reconciliation(world.u("gov", "assessor"), case_id, rec)
    assert reg.verify_audit().ok
    forged = v.record | {"status": "settled" if v.status == "open" else "open"}
    with reg.engine.begin() as c:
        c.execute(
            sa.text("UPDATE reconciliations SET body = :b WHERE id = :i"),
            {"b": json.dumps(forged), "i": v.id},
        )
    report = reg.verify_audit()
    assert not report.ok and v.id in report.summary() + " ".join(map(str, report.problems))


def test_bad_records_are_refused(world: World) -> None:
    reg = world.reg
    case_id, rec = disputed_case(world)
    gov = world.u("gov", "assessor")
    other = reg.report_case(world.u("lab", "assessor"), title="other", owning_org_id=world.lab)
    with pytest.raises(InputError, match="is about case"):
        reg.add_reconciliation(world.u("lab", "assessor"), other.id, rec)
    with pytest.raises(InputError, match="not a jbgrade reconciliation"):
        reg.add_reconciliation(gov, case_id, {**rec, "kind": "something"})
    with pytest.raises(InputError, match="two parties"):
        reg.add_reconciliation(gov, case_id, {**rec, "parties": rec["parties"][:1]})
    # The full model (a layer above the registry) catches what the structure does not.
    broken = {**rec, "differences": [{"item": "UN"}]}
    with pytest.raises(InputError, match=r"not a valid reconciliation record: differences\.0"):
        store_reconciliation(reg, gov, case_id, broken)
    assert reg.list_reconciliations(gov, case_id) == []


def test_who_may_store_and_see(world: World, clock: Clock) -> None:
    reg = world.reg
    case_id, rec = disputed_case(world)
    reg.add_reconciliation(world.u("gov", "regulator"), case_id, rec)
    # Reporters and admins may see the case but not its reconciliations.
    for actor in (world.u("lab", "reporter"), world.u("lab", "admin")):
        reg.get_case(actor, case_id)
        with pytest.raises(PermissionDeniedError):
            reg.list_reconciliations(actor, case_id)
        with pytest.raises(PermissionDeniedError):
            reg.add_reconciliation(actor, case_id, rec)
    # An unrelated organisation: denied while the case is public, not found under embargo.
    with pytest.raises(PermissionDeniedError):
        reg.list_reconciliations(world.u("other", "assessor"), case_id)
    hidden = reg.report_case(
        world.u("lab", "assessor"),
        title="embargoed",
        owning_org_id=world.lab,
        embargo_until=clock.now + timedelta(days=3),
    )
    with pytest.raises(NotFoundError):
        reg.list_reconciliations(world.u("other", "assessor"), hidden.id)
    with pytest.raises(NotFoundError):
        reg.add_reconciliation(
            world.u("other", "regulator"), hidden.id, rec | {"case_id": hidden.id}
        )
