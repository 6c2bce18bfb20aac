"""The Jinja environment templates render in: sandboxed, and bounded in time and output.

A ``--templates`` folder is code from whoever can change the repository, and ``plan`` runs on
pull requests with the pipeline's Azure credentials, so a template must not reach Python
(issue 12 item 1: ``{{ cycler.__init__.__globals__.os.popen("id").read() }}`` ran ``id``).

- Jinja's ``ImmutableSandboxedEnvironment`` refuses attributes that lead out of the template
  (``__globals__``, ``__init__``, ``mro``, function internals) and methods that mutate
  (``list.append``, ``dict.update``): the documented way to run untrusted templates
  (https://jinja.palletsprojects.com/en/stable/sandbox/).
- ``range`` is the sandbox's bounded one (at most ``jinja2.sandbox.MAX_RANGE`` items), and
  ``*`` and ``**`` refuse results larger than the output bound; filters refuse numbers that
  would build more than that (``center(10**9)``).
- Rendering stops after ``RENDER_SECONDS`` (checked on every line of template code, so an
  empty nested loop is stopped too) and once the output passes ``MAX_OUTPUT`` characters.

A template that breaks a bound raises ``TemplateBoundError``; render.py names the template.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

# Azure Resource Manager refuses a template or request body over 4 MB ("Template limits",
# learn.microsoft.com/azure/azure-resource-manager/templates/best-practices#template-limits);
# no rendered body can usefully be larger.
MAX_OUTPUT = 4 * 1024 * 1024
# The default templates render in about a millisecond; a real one that needs seconds is a bug.
RENDER_SECONDS = 10.0
# Check the clock every this many template lines (a clock read per line costs more than the line).
_LINES_PER_CHECK = 256


class TemplateBoundError(SecurityError):
    """A template broke one of the sandbox's bounds (time, output size, a number too large)."""


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """``ImmutableSandboxedEnvironment`` whose arithmetic and filters cannot build huge values."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator: str, left, right):
        if operator == "**":
            if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right * abs(left).bit_length() > 8 * MAX_OUTPUT:
                raise TemplateBoundError(f"{left} ** {right} is too large a number for a template")
            return left**right
        for sequence, count in ((left, right), (right, left)):
            if isinstance(sequence, (str, list, tuple)) and isinstance(count, int) and len(sequence) * count > MAX_OUTPUT:
                raise TemplateBoundError(f"repeating a value {count} times builds more than {MAX_OUTPUT} items")
        return left * right

    def add_filters(self, filters: dict[str, Callable]) -> None:
        """Register ``filters`` (and wrap every filter already there) so numbers they get are bounded."""
        self.filters.update(filters)
        for name, function in list(self.filters.items()):
            self.filters[name] = _bounded_filter(name, function)


def _bounded_filter(name: str, function: Callable) -> Callable:
    if getattr(function, "_bounded", False):
        return function

    # the value being filtered may be anything (a large number is fine); what it gets besides is bounded
    skip = 2 if hasattr(function, "jinja_pass_arg") else 1

    def bounded(*args, **kwargs):
        for value in (*args[skip:], *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
                raise TemplateBoundError(f"the filter '{name}' was given {value}, more than a template may build ({MAX_OUTPUT})")
        return function(*args, **kwargs)

    # Jinja passes the context or environment to filters marked for it; keep the mark.
    if hasattr(function, "jinja_pass_arg"):
        bounded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    bounded._bounded = True  # type: ignore[attr-defined]
    return bounded


def render_bounded(template, context: dict[str, Any]) -> str:
    """``template.render(**context)``, stopped by ``TemplateBoundError`` at the time or output bound."""
    deadline = time.monotonic() + RENDER_SECONDS
    countdown = _LINES_PER_CHECK

    def on_line(frame, event, arg):
        nonlocal countdown
        countdown -= 1
        if countdown <= 0:
            countdown = _LINES_PER_CHECK
            if time.monotonic() > deadline:
                raise TemplateBoundError(f"the template ran for more than {RENDER_SECONDS:.0f} s")
        return on_line

    def on_call(frame, event, arg):
        # Only the template's own compiled code is traced line by line; library code runs untraced.
        return on_line if isinstance(frame.f_globals.get("environment"), BoundedEnvironment) else None

    # A debugger or coverage tool already tracing keeps its tracer (the time bound is then not enforced).
    previous = sys.gettrace()
    if previous is None:
        sys.settrace(on_call)
    try:
        parts: list[str] = []
        size = 0
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateBoundError(f"the template's output passed {MAX_OUTPUT} characters (Azure refuses bodies over 4 MB)")
            parts.append(chunk)
        return "".join(parts)
    finally:
        if previous is None:
            sys.settrace(None)
