"""``jbgrade report verify | sign | keygen``: check and sign ``report.json``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from jbgrade._errors import InputError, ReportIntegrityError
from jbgrade.cli._common import fail, out_console

__all__ = ["register"]


def _read_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the key: {exc.strerror or exc}", path=str(path)) from exc


def verify_cmd(
    report: Annotated[Path, typer.Argument(help="The report.json to verify.")],
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            help="Ed25519 public key (PEM or base64) the report must be signed with.",
        ),
    ] = None,
) -> None:
    """Validate a report strictly, recompute its grade and decisions, check hash and signature.

    Exit 0: it verifies; 1: one line naming the first field or check that fails;
    2: unreadable input.
    """
    from jbgrade.assess import load_public_key, read_report, verify_report

    pub = load_public_key(_read_key(key), str(key)) if key is not None else None
    try:
        rep = read_report(report)
        check = verify_report(rep, source=str(report), public_key=pub)
    except ReportIntegrityError as exc:
        raise fail(str(exc), code=1) from None
    who = f"signed by key {check.signed_by[:16]}" if check.signed_by else "not signed"
    out_console.print(
        f"{report}: ok ({rep.grade.severity} {rep.grade.score:.1f}, "
        f"{len(rep.decisions)} decisions; {who})",
        markup=False,
        highlight=False,
    )
    for note in check.notes:
        out_console.print(f"note: {note}", markup=False, highlight=False)


def sign_cmd(
    report: Annotated[Path, typer.Argument(help="The report.json to sign (rewritten in place).")],
    key: Annotated[
        Path, typer.Option("--key", help="Ed25519 private key (PEM, PKCS#8, unencrypted).")
    ],
) -> None:
    """Sign a report: it must verify first; the signature is stored in the report itself."""
    import json

    from jbgrade.assess import read_report, sign_report, verify_report

    pem = _read_key(key)
    try:
        rep = read_report(report)
        verify_report(rep, source=str(report))
    except ReportIntegrityError as exc:
        raise fail(f"refusing to sign: {exc}", code=1) from None
    signed = sign_report(rep, pem, source=str(key))
    data = json.dumps(signed.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    tmp = report.with_name(f".{report.name}.tmp")
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, report)
    assert signed.signature is not None
    out_console.print(
        f"{report}: signed by key {signed.signature.key_id[:16]}", markup=False, highlight=False
    )


def keygen_cmd(
    out: Annotated[
        Path, typer.Argument(help="Private key file to write; the public key goes to OUT.pub.")
    ],
) -> None:
    """Generate an Ed25519 key pair for signing reports."""
    from jbgrade.assess import generate_signing_key

    if out.exists():
        raise fail(f"{out} exists; not overwriting a key")
    priv, pub = generate_signing_key()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(priv)
    Path(f"{out}.pub").write_bytes(pub)
    out_console.print(f"wrote {out} (private, mode 600) and {out}.pub", markup=False)


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Verify and sign assessment reports.", no_args_is_help=True)
    sub.command("verify")(verify_cmd)
    sub.command("sign")(sign_cmd)
    sub.command("keygen")(keygen_cmd)
    app.add_typer(sub, name="report")
