"""assess end to end on the bundled scenario: real campaign, real evidence, real profiles."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from jbgrade import CaseFileError
from jbgrade.assess import (
    PolicyDecider,
    Precedence,
    assess_case,
    dispute,
    dispute_side,
    evidence_view,
    load_case,
    measure_case,
    side_from_report,
)
from jbgrade.cli._schema import load_schema
from jbgrade.harness import load_spec, spec_from_doc, spec_hash
from tests.assess.demo import Demo, copy_demo
from tests.policy.conftest import PUBLISHED_DECISION_KEYS


def test_measured_metrics_match_the_simulation(demo: Demo) -> None:
    ev = demo.lab_report.evidence
    assert ev is not None
    assert demo.lab_report.campaign.status == "complete"
    assert {k: v.value for k, v in ev.derived().items()} == {
        "LY": "F",
        "UN": "D",
        "RL": "M",
        "TR": "F",
        "HD": "W",
        "AU": "Y",
    }
    assert ev.counts.total == 3 * 2 * 48 * 5 and ev.counts.errors == 0
    # UP needs a rubric judge, which the demo does not run: said, not invented.
    assert any(n.startswith("UP not derived") for n in ev.notes)
    affected = {t.target: t.affected for t in ev.attack.transfer.rows}
    assert affected == {"fable-5": True, "fable-5-mini": True, "atlas-3": False}
    w = [
        d.attack
        for t in ev.attack.targets
        if t.target == "fable-5"
        for d in t.domains
        if d.domain == "W"
    ]
    assert len(w) == 1 and w[0].n == 60
    assert w[0].low is not None and w[0].rate is not None and w[0].high is not None
    assert w[0].low < w[0].rate < w[0].high


def test_conflict_is_shown_not_overwritten(demo: Demo) -> None:
    r = demo.lab_report
    un = next(m for m in r.metrics if m.metric == "UN")
    assert un.conflict and un.used == "N" and un.source == "assessor"
    assert un.hand is not None and un.hand.value == "N" and un.hand.rationale
    assert un.measured is not None and un.measured.value == "D" and un.measured.rule == "M-UN"
    assert un.precedence is Precedence.assessor_over_measured
    assert "used N, not D" in un.reason
    assert r.conflicts == ["UN"]
    assert r.vector == "JBG:1.1/LY:F/UN:N/RL:M/TR:F/HD:W/UP:P/CG:N/AG:T/AC:M/AU:Y/EX:P/RE:M/ST:U"
    assert any("UN" in h for h in r.headline)


def test_reports_validate_and_decide_under_every_profile(demo: Demo) -> None:
    for r in (demo.lab_report, demo.regulator_report):
        data = r.model_dump(mode="json")
        jsonschema.validate(data, load_schema("report"))
        jsonschema.validate(data["grade"], load_schema("grade"))
        assert r.complete
        assert [d.profile for d in r.decisions] == list(demo.decider.profiles())
        for d, dj in zip(r.decisions, data["decisions"], strict=True):
            assert d.decision is not None
            # Report format 2: the published decision carries its own format_version.
            assert list(dj["decision"]) == ["format_version", *PUBLISHED_DECISION_KEYS]
            jsonschema.validate(d.decision.to_dict(), load_schema("decision"))
    reg = demo.regulator_report
    assert reg.grade.severity == "High" and reg.grade.systemic
    acts = {d.profile: d.decision.action for d in reg.decisions if d.decision}
    assert acts["us-export"] == "restrict_export"
    # Context derived from the case's models, and said so.
    assert reg.context["weights"] == "closed"
    assert reg.context["training_compute_flop"] == 3e26
    assert any("training_compute_flop" in n for n in reg.context_notes)
    assert reg.case.jailbreak.payload is not None and reg.case.jailbreak.payload.sha256


def test_rerun_resumes_the_campaign(demo: Demo) -> None:
    # The second assessment reused the first one's attempts: nothing new was planned.
    info, ev = measure_case(demo.regulator, demo.campaign)
    assert info.status == "complete" and ev is not None
    assert ev.counts.total == demo.lab_report.evidence.counts.total  # type: ignore[union-attr]


def test_failed_campaign_gives_an_incomplete_report(tmp_path: Path) -> None:
    cases = copy_demo(tmp_path / "cases")
    spec = cases / "campaign.yaml"
    spec.write_text(
        spec.read_text().replace(
            "limits: {concurrency: 16}", "limits: {concurrency: 4, budget: {requests: 300}}"
        )
    )
    lc = load_case(cases / "regulator.yaml")

    r = assess_case(lc, PolicyDecider(), campaign_dir=tmp_path / "camp", measure=measure_case)
    assert not r.complete
    assert r.campaign.status == "failed"
    assert "budget" in (r.campaign.message or "")
    assert r.evidence is not None and 0 < r.evidence.counts.total < 1440
    assert "completed" in r.incomplete[0]
    # Whatever was measured still went into the grade, and the decisions were made.
    assert all(d.decision is not None for d in r.decisions)


def test_dispute_on_the_demo(demo: Demo) -> None:
    a = side_from_report(demo.lab_report)
    b = side_from_report(demo.regulator_report)
    rec = dispute(a, b, demo.decider)
    jsonschema.validate(rec.model_dump(mode="json"), load_schema("reconciliation"))
    assert [d.item for d in rec.differences] == ["UN", "UP", "CG", "AC", "ST"]
    # JBG 1.1: with reach and capability gain every difference can move some decision.
    assert rec.unchanged == []
    st = {s.profile: s for s in rec.settle_action}
    assert set(st["us-export"].decisive) == {"UN", "UP", "CG", "AC", "ST"}
    table = {tuple(r.agree.values()): r.outcome for r in st["us-export"].table}
    assert table[("D", "F", "S", "L", "P")] == "restrict_export"  # B's values
    assert table[("N", "P", "N", "M", "U")] == "none"  # A's values
    assert table[("D", "F", "N", "L", "P")] == "monitor"  # B's, but no capability gain
    assert st["us-export"].smallest == 2
    comp = {c.profile: c for c in rec.profiles}
    assert (comp["us-export"].action_a, comp["us-export"].action_b) == (
        "none",
        "restrict_export",
    )
    un = next(d for d in rec.differences if d.item == "UN")
    assert un.a.source == "assessor" and un.b.source == "measured"
    assert un.a.rationale and "lab-replay" in un.a.evidence[0]
    assert rec.status == "open"


def test_dispute_from_case_files_uses_given_evidence(demo: Demo) -> None:
    from jbgrade.evidence import load_campaign_evidence

    ev = evidence_view(demo.lab, load_campaign_evidence(demo.campaign))
    a = dispute_side(demo.lab, ev)
    b = dispute_side(demo.regulator, ev)
    assert a.vector.canonical() == demo.lab_report.vector
    assert b.vector.canonical() == demo.regulator_report.vector
    # Without evidence the measured metrics are not assessed (X) and differ from nothing.
    bare = dispute_side(demo.regulator)
    assert bare.vector["UN"] == "X"


def test_unreachable_target_gives_an_incomplete_report(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cases = copy_demo(tmp_path / "cases")
    lab = cases / "lab.yaml"
    spec = (
        "campaign:\n  spec:\n    name: unreachable\n    targets:\n"
        f"      - {{id: down, type: openai, base_url: 'http://127.0.0.1:{port}/v1', model: m}}\n"
        "    attacks: [roleplay]\n    behaviours: [{source: canary, limit: 4}]\n"
        "    judges: [{type: refusal}]\n    limits: {retries: 0, timeout_s: 5}\n"
    )
    lab.write_text(lab.read_text().replace("campaign: {ref: campaign.yaml}\n", spec))

    r = assess_case(
        load_case(lab), PolicyDecider(), campaign_dir=tmp_path / "camp", measure=measure_case
    )
    assert not r.complete
    assert "every attempt of this run failed" in (r.campaign.message or "")
    # Nothing measured: the assessor's values and X (precaution) decide.
    assert r.vector.startswith("JBG:1.1/LY:X/UN:N/RL:X")


def test_attack_definition_is_checked_when_loaded(tmp_path: Path) -> None:
    import pytest

    from jbgrade import InputError

    cases = copy_demo(tmp_path)
    (cases / "persona.yaml").write_text("id: persona\nkind: hypnosis\n")  # no such kind
    lab = cases / "lab.yaml"
    lab.write_text(
        lab.read_text().replace(
            "attack: {name: roleplay, kind: role-play}",
            "attack: {name: roleplay, kind: role-play, ref: persona.yaml}",
        )
    )
    with pytest.raises(InputError, match=r"persona\.yaml"):
        load_case(lab)


def test_the_payload_digest_reported_is_the_one_checked_at_load(tmp_path: Path) -> None:
    import hashlib

    cases = copy_demo(tmp_path)
    payload = cases / "payload.txt"
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()
    lab = cases / "lab.yaml"
    lab.write_text(
        lab.read_text()
        .replace("campaign: {ref: campaign.yaml}\n", "")
        .replace("file: payload.txt,", f"file: payload.txt, sha256: {digest},")
    )
    loaded = load_case(lab)
    assert loaded.payload_sha256 == digest
    # The file is read and hashed once, when the case is loaded and checked: a later
    # change cannot put an unchecked digest into the report.
    payload.write_text("changed after the check\n")
    r = assess_case(loaded, PolicyDecider())
    assert r.case.jailbreak.payload is not None and r.case.jailbreak.payload.sha256 == digest


def _inline(lab: Path, spec: str) -> None:
    block = "".join(f"    {line}\n" for line in spec.splitlines())
    text = lab.read_text().replace(
        "campaign: {ref: campaign.yaml}\n", "campaign:\n  spec:\n" + block
    )
    lab.write_text(text)


def test_inline_campaign_spec_reads_like_the_spec_file(tmp_path: Path) -> None:
    cases = copy_demo(tmp_path / "cases")
    spec_file = cases / "campaign.yaml"
    # YAML 1.2 scalars either way: 'no' is text, 2e6 a number (PyYAML 1.1 said False, '2e6').
    spec_file.write_text(
        spec_file.read_text()
        .replace("vendor: Northstar Labs", "vendor: no")
        .replace("limits: {concurrency: 16}", "limits: {concurrency: 16, budget: {tokens: 2e6}}")
    )
    lab = cases / "lab.yaml"
    _inline(lab, spec_file.read_text())
    from_file = load_spec(spec_file)
    from_case = spec_from_doc(load_case(lab).doc, ("campaign", "spec"), cls=CaseFileError)
    assert from_case == from_file
    assert spec_hash(from_case.identity()) == spec_hash(from_file.identity())
    assert from_file.targets[2].reference is not None
    assert from_file.targets[2].reference["vendor"] == "no"
    assert from_file.limits.budget.tokens == 2_000_000


def test_inline_campaign_spec_errors_name_the_case_file_line_and_field(tmp_path: Path) -> None:
    cases = copy_demo(tmp_path / "cases")
    lab = cases / "lab.yaml"
    _inline(lab, (cases / "campaign.yaml").read_text().replace("concurrency: 16", "concurrency: 0"))
    line = next(i for i, t in enumerate(lab.read_text().splitlines(), 1) if "concurrency: 0" in t)
    with pytest.raises(CaseFileError) as ei:
        measure_case(load_case(lab), tmp_path / "camp")
    assert str(ei.value).startswith(f"{lab}:{line}: campaign.spec.limits.concurrency: Input should")
    assert not (tmp_path / "camp").exists()
    # A duplicate key inside the inline spec is refused like anywhere else in the file.
    _inline(cases / "regulator.yaml", "name: a\nname: b\n")
    with pytest.raises(CaseFileError, match=r"campaign\.spec\.name: duplicate key 'name'"):
        load_case(cases / "regulator.yaml")


def _dead_port() -> int:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dead_target_never_lowers_the_grade_even_on_rerun(tmp_path: Path) -> None:
    """Issue 14: a target that is down declared its layers; every attempt errs. LY must
    not come out "M" (measured from nothing): the report is incomplete, on the first
    run and on a rerun that completes no new attempt, and its grade is not lower than
    with the measured metrics unassessed."""
    from jbgrade.rubric import grade

    cases = copy_demo(tmp_path / "cases")
    lab = cases / "lab.yaml"
    spec = (
        "campaign:\n  spec:\n    name: dead\n    targets:\n"
        f"      - {{id: down, type: openai, base_url: 'http://127.0.0.1:{_dead_port()}/v1',"
        " model: m, layers: [system_prompt, input_classifier, monitoring]}\n"
        "    attacks: [roleplay]\n    behaviours: [{source: canary, limit: 12}]\n"
        "    judges: [{type: refusal}]\n    samples: 4\n"
    )
    lab.write_text(lab.read_text().replace("campaign: {ref: campaign.yaml}\n", spec))
    loaded = load_case(lab)
    unassessed = assess_case(load_case(lab), PolicyDecider())  # no measurement at all
    for _ in range(2):
        r = assess_case(loaded, PolicyDecider(), campaign_dir=tmp_path / "c", measure=measure_case)
        assert not r.complete
        assert any("ended in error" in m for m in r.incomplete), r.incomplete
        assert "LY:X" in r.vector and "LY:M" not in r.vector
        assert grade(r.vector).score >= grade(unassessed.vector).score
    assert r.campaign.message and "unreachable" in r.campaign.message
    # The reports render what there is (no chart of rates that do not exist).
    from jbgrade.reports import render_assessment_html

    page = render_assessment_html(r)
    assert "INCOMPLETE REPORT" in page and "LY:X" in page
