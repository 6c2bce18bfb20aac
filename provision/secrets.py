"""Which process-environment variables hold secrets, and where their values must never appear.

A scenario may use ``${VAR}`` from the process environment (README §Variables), but a pull
request could then write ``description: "build ${AZURE_CLIENT_SECRET}"`` and have plan print
the pipeline's secret and apply send it to Azure (issue 12 item 5). The rule, stated in the README:

- a variable is a *secret variable* when its name is one azure-identity reads a credential from
  (``EnvironmentCredential``, ``WorkloadIdentityCredential``, ``ManagedIdentityCredential``), a CI
  system's token variable, or when the name contains ``SECRET``, ``PASSWORD``, ``PASSWD``, ``TOKEN``,
  ``CREDENTIAL``, ``PRIVATE``, ``CONNECTION_STRING`` or ends in ``KEY`` / ``KEYS`` (any case);
- scenarios cannot read secret variables from the process environment (``--var`` stays explicit);
- the values of secret variables found in a rendered body stop plan and apply before any call,
  and are replaced by ``***`` in printed plans and outputs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

# Where azure-identity reads credentials from the environment (azure/identity/_constants.py EnvironmentVariables),
# plus the token variables of GitHub Actions and Azure Pipelines.
CREDENTIAL_VARIABLES = frozenset({
    "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD",
    "AZURE_USERNAME", "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_HEADER", "MSI_SECRET", "IDENTITY_SERVER_THUMBPRINT",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_RUNTIME_TOKEN", "GITHUB_TOKEN",
    "SYSTEM_ACCESSTOKEN",
})
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|CONNECTION_?STRING|KEYS?$", re.IGNORECASE)
# Shorter values are too likely to occur by chance ("1", "true") to be searched for.
MIN_SECRET_LENGTH = 6
REDACTED = "***"


def is_secret_variable(name: str) -> bool:
    return name.upper() in CREDENTIAL_VARIABLES or bool(_SECRET_NAME.search(name))


def readable(environ: Mapping[str, str]) -> dict[str, str]:
    """The process environment as a scenario may read it: without the secret variables."""
    return {k: v for k, v in environ.items() if not is_secret_variable(k)}


def secret_values(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """value -> variable name, for every secret variable set in ``environ`` (default: the process's)."""
    environ = os.environ if environ is None else environ
    return {v: k for k, v in environ.items() if is_secret_variable(k) and v and len(v) >= MIN_SECRET_LENGTH}


def found_in(text: str, values: Mapping[str, str]) -> list[str]:
    """Names of the secret variables whose value occurs in ``text`` (``values``: from ``secret_values``)."""
    return sorted({name for value, name in values.items() if value in text})


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with the value of every secret variable replaced by ``***`` (longest first)."""
    for value in sorted(secret_values(environ), key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text
