"""Organisation isolation: the cross-organisation takeover is refused at every step,
and each refusal is audited under the acting user (issue 14, point 1)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from jbgrade._errors import InputError, NotFoundError, PermissionDeniedError
from jbgrade.registry import Registry
from jbgrade.registry._models import AuditEntry
from tests.registry.conftest import World


def _refusals(reg: Registry) -> list[tuple[str, str, str]]:
    with reg.engine.connect() as c:
        rows = c.execute(
            sa.select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.object_id)
            .where(AuditEntry.action.like("%.refused"))
            .order_by(AuditEntry.seq)
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def test_cross_org_takeover_refused_and_audited(world: World) -> None:
    reg = world.reg
    attacker = world.u("other", "admin")
    victim = world.u("lab", "assessor")
    # 1. An API token for a user of another organisation.
    with pytest.raises(NotFoundError):
        reg.issue_token(attacker, victim.user_id, name="takeover")
    # 2. A user created inside another organisation (any role).
    for role in ("reporter", "admin"):
        with pytest.raises(PermissionDeniedError):
            reg.create_user(attacker, world.lab, f"mole-{role}", role)
    # 3. Another organisation's password reset, role change, deactivation.
    with pytest.raises(NotFoundError):
        reg.set_password(attacker, victim.user_id, "a long enough password")
    with pytest.raises(NotFoundError):
        reg.set_role(attacker, victim.user_id, "reporter")
    with pytest.raises(NotFoundError):
        reg.set_user_active(attacker, victim.user_id, False)
    # 4. A new organisation, and a super-administrator of one's own.
    with pytest.raises(PermissionDeniedError):
        reg.create_org(attacker, "Shadow org")
    with pytest.raises(PermissionDeniedError):
        reg.create_user(attacker, attacker.org_id, "shadow-root", "superadmin")
    refused = _refusals(reg)
    assert [a for a, _, _ in refused] == [attacker.user_id] * 8
    assert [act for _, act, _ in refused] == [
        "token.issue.refused",
        "user.create.refused",
        "user.create.refused",
        "user.set_password.refused",
        "user.set_role.refused",
        "user.set_active.refused",
        "org.create.refused",
        "user.create.refused",
    ]
    assert refused[0][2] == victim.user_id and refused[1][2] == world.lab
    # Nothing changed: the victim's account and credentials are as they were.
    assert reg.get_user(victim, victim.user_id).active
    assert reg.verify_audit().ok
    # Own organisation: all of it works.
    mine = reg.create_user(attacker, attacker.org_id, "new-hire", "reporter")
    reg.issue_token(attacker, mine.id)
    reg.set_password(attacker, mine.id, "a long enough password")
    assert reg.set_role(attacker, mine.id, "assessor").role == "assessor"
    assert not reg.set_user_active(attacker, mine.id, False).active
    assert {u.org_id for u in reg.list_users(attacker)} == {attacker.org_id}


def test_superadmin_manages_every_org_but_reads_no_foreign_case_data(world: World) -> None:
    reg = world.reg
    root = world.u("gov", "superadmin")
    victim = world.u("lab", "assessor")
    reg.issue_token(root, victim.user_id)
    u = reg.create_user(root, world.lab, "lab-newcomer", "admin")
    assert reg.set_role(root, u.id, "reporter").role == "reporter"
    assert len({x.org_id for x in reg.list_users(root)}) == 5  # with the operators
    case = reg.report_case(victim, title="lab-only", payload="secret", embargo_until=None)
    with pytest.raises(PermissionDeniedError):
        reg.get_case(root, case.id, include_payload=True)


def test_admin_cannot_promote_or_change_itself(world: World) -> None:
    reg = world.reg
    admin = world.u("lab", "admin")
    with pytest.raises(PermissionDeniedError):
        reg.set_role(admin, world.u("lab", "reporter").user_id, "superadmin")
    with pytest.raises(PermissionDeniedError):
        reg.set_role(admin, world.u("lab", "superadmin").user_id, "reporter")
    with pytest.raises(InputError, match="own role"):
        reg.set_role(admin, admin.user_id, "reporter")
    with pytest.raises(InputError, match="yourself"):
        reg.set_user_active(admin, admin.user_id, False)
    with pytest.raises(InputError, match="unknown role"):
        reg.set_role(admin, world.u("lab", "reporter").user_id, "root")
