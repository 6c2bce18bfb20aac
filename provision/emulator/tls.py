"""TLS material for the emulator: a CA made once per state dir and reused, and a leaf for 127.0.0.1/localhost.

Users trust ``ca.pem`` once (``REQUESTS_CA_BUNDLE`` or ``connection_verify``)
and it stays valid across restarts on the same state dir (sdk-notes.md §4.1, §4.4 item 3).
The server context refuses anything older than TLS 1.2.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
LEAF_FILE = "server.pem"  # leaf certificate chain
LEAF_KEY_FILE = "server-key.pem"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def ensure_certificates(state_dir: Path) -> Path:
    """Create the CA and the server certificate in ``state_dir`` unless present; return the CA path."""
    import trustme  # imported lazily: only needed the first time a state dir is used

    ca_path = state_dir / CA_FILE
    paths = [ca_path, state_dir / CA_KEY_FILE, state_dir / LEAF_FILE, state_dir / LEAF_KEY_FILE]
    if all(p.exists() for p in paths):
        return ca_path
    if ca_path.exists() and (state_dir / CA_KEY_FILE).exists():
        ca = trustme.CA.from_pem(ca_path.read_bytes(), (state_dir / CA_KEY_FILE).read_bytes())
    else:
        ca = trustme.CA(organization_name="provision local Azure emulator")
        _write_private(state_dir / CA_KEY_FILE, ca.private_key_pem.bytes())
        ca_path.write_bytes(ca.cert_pem.bytes())
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    _write_private(state_dir / LEAF_KEY_FILE, leaf.private_key_pem.bytes())
    (state_dir / LEAF_FILE).write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    return ca_path


def server_context(state_dir: Path) -> ssl.SSLContext:
    """Server-side context: TLS 1.2 minimum, the leaf certificate for 127.0.0.1 and localhost."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(state_dir / LEAF_FILE, state_dir / LEAF_KEY_FILE)
    return context
