"""Federated tokens from a running emulator's OIDC issuer, for shells and CI scripts (``provision emulator
federated-token``): what a CI system writes to ``AZURE_FEDERATED_TOKEN_FILE``, minted locally.

The token's ``iss`` is the running emulator's ``/issuer`` URL (from the state dir's lock file, so it names the port
that serves the keys), and it is signed with the state dir's key (read-only from its SQLite meta table; the
running ``serve`` stays the only writer).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from provision.emulator import identity, signing
from provision.emulator.server import DB_FILE, running_emulator


class NoRunningIssuer(Exception):
    """No emulator serves the state dir, so no issuer URL would verify the token."""


def federated_token(state_dir: Path, subject: str, audience: str, lifetime: float = 3600) -> str:
    running = running_emulator(state_dir)
    if running is None or not running.get("url"):
        raise NoRunningIssuer(f"no emulator serves '{state_dir}'")
    try:
        db = sqlite3.connect(f"file:{Path(state_dir) / DB_FILE}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key=?", (identity.SIGNING_KEY_META,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error as error:
        raise NoRunningIssuer(f"cannot read the emulator state in '{state_dir}': {error}") from None
    if row is None:
        raise NoRunningIssuer(f"the emulator state in '{state_dir}' has no signing key yet")
    tokens = identity.TokenService(signing.SigningKey(row[0]))
    return identity.federated_token(tokens, running["url"], subject, audience, lifetime)
