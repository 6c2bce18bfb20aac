"""Errors the library raises; the CLI turns each into one clear paragraph and exit 1.

Every error a user can cause is a ``ProvisionError``. Anything else reaching the
CLI is a bug and is reported as such (a traceback only with ``PROVISION_DEBUG=1``;
``--debug`` prints the HTTP calls, provision/httplog.py). The one place that reports both is ``provision.cli.core.report``.
"""

from __future__ import annotations

from typing import Any


class ProvisionError(Exception):
    """A problem the user can fix. ``diagnostics`` holds every problem found."""

    exit_code = 1

    def __init__(self, message: str, diagnostics=(), hint: str = ""):
        super().__init__(message)
        self.message = message
        self.diagnostics = list(diagnostics)
        self.hint = hint

    def format(self) -> str:
        parts = [self.message]
        parts += [d.format() for d in self.diagnostics]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class SpecError(ProvisionError):
    """The scenario file is malformed or breaks a rule (nothing was sent to Azure)."""


class RenderError(ProvisionError):
    """A template failed to render (missing variable, bad JSON output)."""


class AzureError(ProvisionError):
    """Azure (or the local emulator) refused or failed a call."""

    status: int | None = None  # the HTTP status, when the service answered
    code: str = ""  # the service's error code, for callers that refine the hint


class PlanError(ProvisionError):
    """Live state makes the plan impossible (missing workspace, region mismatch...)."""


class ApplyError(ProvisionError):
    """Apply stopped; what it finished stays in place and a re-run completes it."""

    result: Any = None  # the stopped run's ApplyResult (provision.apply), for the CLI's summary
