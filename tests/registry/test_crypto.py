"""AES-GCM sealing, keyrings, key files, and key rotation (library and CLI)."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from jbgrade import KeyringError
from jbgrade.cli import main
from jbgrade.registry import Keyring, Registry, generate_key, key_id
from tests.registry.conftest import World


def test_seal_open_round_trip_and_binding() -> None:
    ring = Keyring.generate()
    a = ring.seal("secret text ✓", case_id="case_1", field="payload")
    b = ring.seal("secret text ✓", case_id="case_1", field="payload")
    assert a != b  # a fresh random nonce each time
    assert a.startswith(f"jbg1.{ring.active}.") and "secret" not in a
    blob = base64.urlsafe_b64decode(a.split(".")[2])
    assert len(blob) == 12 + len("secret text ✓".encode()) + 16  # nonce + ct + tag
    assert ring.open(a, case_id="case_1", field="payload") == "secret text ✓"
    for case_id, field in (("case_2", "payload"), ("case_1", "transcripts")):
        with pytest.raises(KeyringError, match="failed authentication"):
            ring.open(a, case_id=case_id, field=field)
    raw = bytearray(blob)
    raw[20] ^= 1  # one bit of the ciphertext
    flipped = ".".join([*a.split(".")[:2], base64.urlsafe_b64encode(bytes(raw)).decode()])
    with pytest.raises(KeyringError):
        ring.open(flipped, case_id="case_1", field="payload")
    with pytest.raises(KeyringError, match="lacks"):
        Keyring.generate().open(a, case_id="case_1", field="payload")
    assert "keys" not in repr(ring) or "ids" in repr(ring)
    assert base64.b64encode(ring.keys[ring.active]).decode() not in repr(ring)


def test_keyring_from_env_and_file(tmp_path: Path) -> None:
    k1, k2 = generate_key(), generate_key()
    ring = Keyring.from_env_value(f"{k1},{k2}")
    assert ring.active == key_id(base64.b64decode(k1)) and len(ring.keys) == 2
    env = {"JBGRADE_KEY": k2}
    assert Keyring.from_environment(env=env).active == key_id(base64.b64decode(k2))
    with pytest.raises(KeyringError, match="no encryption key"):
        Keyring.from_environment(env={})
    with pytest.raises(KeyringError, match="32 bytes"):
        Keyring.from_env_value(base64.b64encode(b"short").decode())
    with pytest.raises(KeyringError, match="base64"):
        Keyring.from_env_value("not base64 !!")
    p = tmp_path / "keys.json"
    ring.save(p)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert Keyring.from_file(p) == ring
    assert Keyring.from_environment(env={"JBGRADE_KEY_FILE": str(p)}) == ring
    doc = json.loads(p.read_text())
    doc["keys"][ring.active] = k2 if doc["keys"][ring.active] != k2 else k1
    p.write_text(json.dumps(doc))
    with pytest.raises(KeyringError, match="does not match"):
        Keyring.from_file(p)
    p.write_text("{}")
    with pytest.raises(KeyringError, match="not a jbgrade key file"):
        Keyring.from_file(p)
    made = Keyring.load_or_create(tmp_path / "sub" / "new.json")
    assert Keyring.load_or_create(tmp_path / "sub" / "new.json") == made


def test_rotation_reencrypts_everything_and_keeps_audit_intact(world: World) -> None:
    reg = world.reg
    a = world.u("lab", "assessor")
    from jbgrade.evidence import compute_evidence

    cases = [
        reg.report_case(a, title=f"c{i}", payload=f"p{i}", transcripts=f"t{i}") for i in range(5)
    ]
    reg.report_case(a, title="no payload")
    reg.attach_evidence(a, cases[0].id, compute_evidence([], {}), transcripts="ev-t")
    old = reg.keyring
    assert old is not None
    assert reg.key_usage() == {old.active: 11}
    new = old.with_new_active()
    assert reg.rotate_keys(new, batch=2) == 11
    assert reg.key_usage() == {new.active: 11}
    assert reg.rotate_keys(new) == 0  # idempotent: nothing left under old keys
    alone = Registry(reg.engine, new.only(new.active))
    for i, c in enumerate(cases):
        got = alone.get_case(a, c.id, include_payload=True)
        assert got.payload is not None and got.payload.get_secret_value() == f"p{i}"
    ev = alone.list_evidence(a, cases[0].id, include_transcripts=True)[0].transcripts
    assert ev is not None and ev.get_secret_value() == "ev-t"
    with pytest.raises(KeyringError):
        Registry(reg.engine, old.only(old.active)).get_case(a, cases[1].id, include_payload=True)
    assert reg.verify_audit().ok


def test_cli_keys_generate_rotate_status(
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reg = world.reg
    a = world.u("lab", "assessor")
    keyfile = tmp_path / "ring.json"
    assert reg.keyring is not None
    reg.keyring.save(keyfile)
    c = reg.report_case(a, title="t", payload="p")
    url = reg.engine.url.render_as_string(hide_password=False)
    monkeypatch.delenv("JBGRADE_KEY", raising=False)
    monkeypatch.delenv("JBGRADE_KEY_FILE", raising=False)

    def run(*args: str) -> int:
        with pytest.raises(SystemExit) as ex:
            main(list(args))
        return int(ex.value.code or 0)

    assert run("keys", "generate") == 0
    assert len(base64.b64decode(capsys.readouterr().out.strip())) == 32
    assert run("keys", "generate", "--out", str(tmp_path / "k.json")) == 0
    assert run("keys", "generate", "--out", str(tmp_path / "k.json")) == 2  # never overwrite
    capsys.readouterr()
    old = reg.keyring.active
    assert run("keys", "rotate", "--db", url, "--key-file", str(keyfile)) == 0
    out = capsys.readouterr().out
    ring = Keyring.from_file(keyfile)
    assert ring.active != old and old in ring.keys and f"under key {ring.active}" in out
    assert run("keys", "rotate", "--db", url, "--key-file", str(keyfile), "--prune") == 0
    pruned = Keyring.from_file(keyfile)
    assert set(pruned.keys) == {pruned.active}
    got = Registry(reg.engine, pruned).get_case(a, c.id, include_payload=True).payload
    assert got is not None and got.get_secret_value() == "p"
    capsys.readouterr()
    assert run("keys", "status", "--db", url, "--key-file", str(keyfile)) == 0
    assert f"{pruned.active}\t1\theld (active)" in capsys.readouterr().out
    # Environment keys: the new key first, the old one after; rotate; then drop the old.
    new_b64 = generate_key()
    old_b64 = base64.b64encode(pruned.keys[pruned.active]).decode()
    monkeypatch.setenv("JBGRADE_KEY", f"{new_b64},{old_b64}")
    assert run("keys", "rotate", "--db", url) == 0
    monkeypatch.setenv("JBGRADE_KEY", new_b64)
    ring2 = Keyring.from_environment()
    got = Registry(reg.engine, ring2).get_case(a, c.id, include_payload=True).payload
    assert got is not None and got.get_secret_value() == "p"
    # Rotating without the key that a ciphertext needs fails clearly (exit 2, one line).
    monkeypatch.setenv("JBGRADE_KEY", generate_key())
    capsys.readouterr()
    assert run("keys", "rotate", "--db", url) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "absent from the keyring" in err[0]
    assert reg.verify_audit().ok
