"""``jbgrade case list | show``: cases of the registry with their deadlines flagged.

Each command acts as a registry user (``--as``, as for ``jbgrade org | user``),
so it shows exactly what that user may see. Obligations are flagged OVERDUE
(due before the day) or "due soon" (within 7 days) by ``jbgrade.policy.due_status``,
the rule the web case page and the reports use.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jbgrade.cli._admin import AsOpt, JsonOpt
from jbgrade.cli._common import print_json
from jbgrade.cli._registry import DbOpt, open_registry

if TYPE_CHECKING:
    from jbgrade.registry import Actor, DecisionView, Registry

__all__ = ["register"]

WIDTH = 80
_FLAG = {"overdue": "OVERDUE", "due_soon": "due soon", "pending": ""}

OnOpt = Annotated[
    str | None,
    typer.Option(
        "--on",
        help="Flag deadlines as of this day (YYYY-MM-DD; default: today, UTC).",
        show_default=False,
    ),
]


def _day(on: str | None) -> dt.date:
    from jbgrade._errors import InputError

    if on is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(on)
    except ValueError:
        raise InputError(f"--on must be a date like 2026-12-01, not {on!r}", field="--on") from None


def _obligations(d: DecisionView, day: dt.date) -> list[dict[str, Any]]:
    from jbgrade.policy import Obligation, due_status

    out = []
    stored = d.result.get("obligations")
    for o in stored if isinstance(stored, list) else []:
        ob = Obligation.model_validate(o)
        due = ob.due
        out.append(
            {
                "due": due.isoformat(),
                "status": due_status(due, day),
                "days_left": (due - day).days,
                "party": ob.party,
                "what": ob.what,
            }
        )
    return sorted(out, key=lambda o: (o["due"], o["party"], o["what"]))


def _next_due(reg: Registry, actor: Actor, case_id: str, day: dt.date) -> dict[str, Any] | None:
    obs = [o for d in reg.list_decisions(actor, case_id) if d.current for o in _obligations(d, day)]
    return min(obs, key=lambda o: o["due"]) if obs else None


def case_list(
    db: DbOpt = None,
    as_user: AsOpt = None,
    on: OnOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many cases.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Cases you may see, most recently changed first, with their next deadline."""
    day = _day(on)
    with open_registry(db, None, need_key=False) as reg:
        actor = reg.operator(as_user)
        page = reg.list_cases(actor, limit=limit)
        rows = [(c, _next_due(reg, actor, c.id, day)) for c in page.items]
    if as_json:
        print_json(
            [
                {**c.model_dump(mode="json"), "next_due": nd, "as_of": day.isoformat()}
                for c, nd in rows
            ]
        )
        return
    if not rows:
        print("no cases visible to this user")
        return
    w = max(len(c.id) for c, _ in rows)
    print(f"Deadlines as of {day}: OVERDUE = past due, due soon = within 7 days")
    print(f"{'CASE':<{w}} {'STATE':<10} {'GRADE':<13} NEXT DUE")
    for c, nd in rows:
        grade = f"{c.severity} {c.score:.1f}" if c.severity and c.score is not None else "-"
        due = "-" if nd is None else f"{nd['due']} {_FLAG[nd['status']]}".rstrip()
        print(f"{c.id:<{w}} {c.state[:10]:<10} {grade:<13} {due}")
        print("    " + textwrap.shorten(c.title, WIDTH - 4, placeholder="..."))


def case_show(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    db: DbOpt = None,
    as_user: AsOpt = None,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A case: state, current assessments, decisions and every obligation, flagged."""
    day = _day(on)
    with open_registry(db, None, need_key=False) as reg:
        actor = reg.operator(as_user)
        case = reg.get_case(actor, case_id)
        assessments = [a for a in reg.list_assessments(actor, case_id) if a.current]
        decisions = [d for d in reg.list_decisions(actor, case_id) if d.current]
    obligations = {d.id: _obligations(d, day) for d in decisions}
    if as_json:
        print_json(
            {
                "case": case.model_dump(mode="json", exclude={"payload", "transcripts"}),
                "as_of": day.isoformat(),
                "assessments": [a.model_dump(mode="json") for a in assessments],
                "decisions": [
                    {
                        **d.model_dump(mode="json", exclude={"result"}),
                        "obligations": obligations[d.id],
                    }
                    for d in decisions
                ],
            }
        )
        return
    lines = [f"{case.id}  [{case.state}]", *textwrap.wrap(case.title, WIDTH)]
    lines.append(f"owner {case.owning_org_name}; reported by {case.reporting_org_name}")
    if case.embargoed and case.embargo_until is not None:
        lines.append(f"embargoed until {case.embargo_until:%Y-%m-%d %H:%M} UTC")
    lines.append("")
    lines.append("Assessments (current)" if assessments else "No assessment yet")
    for a in assessments:
        flags = "".join(
            f" {f}" for f, on_ in (("provisional", a.provisional), ("systemic", a.systemic)) if on_
        )
        lines.append(f"  {a.org_name}: {a.severity} {a.score:.1f}{flags}")
        lines.append(f"    {a.vector}")
    lines.append("")
    overdue = sum(o["status"] == "overdue" for obs in obligations.values() for o in obs)
    lines.append(f"Decisions and deadlines as of {day}")
    if overdue:
        lines.append(f"  OVERDUE: {overdue} obligation{'s' if overdue != 1 else ''} past due")
    if not decisions:
        lines.append("  no decision recorded")
    for d in decisions:
        prov = " (provisional)" if d.provisional else ""
        lines.append(f"  {d.profile_id} {d.profile_version}: {d.action}{prov}")
        for o in obligations[d.id]:
            flag = _FLAG[o["status"]]
            head = f"    {o['due']}" + (f" {flag}" if flag else "") + f"  {o['party']}: "
            lines += textwrap.wrap(
                head + o["what"], WIDTH, subsequent_indent=" " * 8, break_on_hyphens=False
            )
    print("\n".join(lines))


def register(app: typer.Typer) -> None:
    case = typer.Typer(help="Cases of the registry, deadlines flagged.", no_args_is_help=True)
    case.command("list")(case_list)
    case.command("show")(case_show)
    app.add_typer(case, name="case")
