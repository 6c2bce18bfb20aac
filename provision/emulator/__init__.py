"""The local Azure: an HTTPS emulator of Entra ID, ARM (workspaces, tables, DCRs, DCEs, RBAC), Graph and Logs Ingestion.

Layout (moto-style): ``routes`` (URL table) -> ``backend`` (state, auth, LRO settling;
one method per Azure operation in the ``ops_*`` mixins) -> models (``tables``, ``dcr``, ``rbac``, ``ingest``, ``identity``) ->
``store`` (SQLite). ``server`` holds the HTTPS server and the ``Emulator`` object;
``knobs`` the latency and fault injection; ``seed`` the fixed identities.
"""

from provision.emulator.knobs import Fault
from provision.emulator.server import Call, Emulator, StateDirError, StateDirInUse, client_env, running_emulator

__all__ = ["Call", "Emulator", "Fault", "StateDirError", "StateDirInUse", "client_env", "running_emulator"]
