"""The secrets the embedded default keeps in files of its own (payload keys, the local signing key, the
audit key), made on first use; production gives them in the environment and a missing one stops it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def local_secret(path: Path, make: Callable[[], str], *, create: bool, missing: str) -> str:
    """A secret the embedded default keeps in a file of its own, made on first use where ``create``
    allows: written whole, then linked into place only if no other process got there first, so that
    every process reads the same one. Without ``create`` (production) a missing file stops the caller."""
    if not path.exists():
        if not create:
            raise FileNotFoundError(f"{missing} (none at {path})")
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(make(), encoding="utf-8")
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text(encoding="utf-8")


def local_key(path: Path, *, create: bool, missing: str) -> bytes:
    """A random key (the local signing key, the audit key) kept as ``local_secret`` keeps it."""
    return (
        local_secret(path, lambda: secrets.token_urlsafe(48), create=create, missing=missing).strip().encode()
    )
