"""Where the registry's encryption key file lives by default (design 0201).

The key file is kept apart from the database, so that one copy of the data
directory (a backup, a tarball sent for debugging, a volume snapshot) does not
carry both the ciphertexts and the key that opens them:

- database: ``$JBGRADE_DATA_DIR``, else ``$XDG_DATA_HOME/jbgrade``, else
  ``~/.local/share/jbgrade`` (``registry.db``, ``session.key``);
- key file: ``$JBGRADE_KEY_DIR``, else ``$XDG_CONFIG_HOME/jbgrade``, else
  ``~/.config/jbgrade`` (``keys.json``, mode 0600 in a 0700 directory).

Installs before this change kept ``keys.json`` beside ``registry.db``;
:func:`move_legacy_key_file` moves it to the key directory (once, keeping its
mode) and the commands that find it say so on stderr.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "KEY_FILE_NAME",
    "default_key_dir",
    "default_key_file",
    "move_legacy_key_file",
    "xdg_dir",
]

KEY_FILE_NAME = "keys.json"


def xdg_dir(override: str, xdg: str, fallback: str, env: Mapping[str, str] | None = None) -> Path:
    """``$override``, else ``$xdg/jbgrade``, else ``~/fallback/jbgrade`` (XDG base directories)."""
    e = os.environ if env is None else env
    if e.get(override):
        return Path(e[override])
    base = Path(e[xdg]) if e.get(xdg) else Path.home() / fallback
    return base / "jbgrade"


def default_key_dir(env: Mapping[str, str] | None = None) -> Path:
    """``JBGRADE_KEY_DIR``, else ``$XDG_CONFIG_HOME/jbgrade``, else ``~/.config/jbgrade``."""
    return xdg_dir("JBGRADE_KEY_DIR", "XDG_CONFIG_HOME", ".config", env)


def default_key_file(env: Mapping[str, str] | None = None) -> Path:
    """The key file used when neither ``--key-file`` nor ``JBGRADE_KEY(_FILE)`` is given."""
    return default_key_dir(env) / KEY_FILE_NAME


def move_legacy_key_file(data_dir: Path, key_file: Path) -> Path | None:
    """Move ``data_dir/keys.json`` (the old default) to ``key_file`` when only the old
    one exists; return the old path when it moved, else None.

    Same file system: one atomic rename. Otherwise the key is written to a
    temporary file beside ``key_file`` (0600, fsynced), renamed into place, and
    only then is the old file removed: at every instant one complete copy exists.
    """
    old = data_dir / KEY_FILE_NAME
    if not old.is_file() or key_file.exists():
        return None
    if old.resolve() == key_file.resolve():
        return None
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.replace(old, key_file)
    except OSError:
        tmp = key_file.with_name(key_file.name + ".moving")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as dst, old.open("rb") as src:
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, key_file)
        old.unlink()
    key_file.chmod(0o600)
    return old
