"""A Plan as text for people (colour on a terminal), JSON for programs, Markdown for pull requests. Pure."""

from __future__ import annotations

import json

from provision import secrets
from provision.plan import CREATE, DATA, DELETE, IDENTITY, IMPOSSIBLE, IRREVERSIBLE, MIGRATE, NOOP, REPLACE, SAFE, UPDATE, Plan

PLAN_FORMATS = ("text", "json", "markdown")
_SYMBOL = {CREATE: "+", UPDATE: "~", REPLACE: "-/+", DELETE: "-", NOOP: " ", MIGRATE: ">"}
_COLOUR = {CREATE: "green", UPDATE: "yellow", REPLACE: "magenta", DELETE: "red", MIGRATE: "yellow"}
_CLASS_COLOUR = {SAFE: "green", DATA: "yellow", IDENTITY: "magenta", IMPOSSIBLE: "red", IRREVERSIBLE: "yellow"}
_ANSI = {"green": 32, "yellow": 33, "red": 31, "magenta": 35, "bold": 1, "dim": 2}


def _paint(text: str, colour: str | None, enabled: bool) -> str:
    if not enabled or not colour:
        return text
    return f"\x1b[{_ANSI[colour]}m{text}\x1b[0m"


_MAX = 120


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX else text[:_MAX - 3] + "..."


def _value(v) -> str:
    return _shorten(json.dumps(v))


def _change(before, after) -> tuple[str, str]:
    """Both sides of a change, shortened so that the part that differs stays visible: a long common
    prefix (e.g. the subscription and resource group of two ARM ids) becomes '...'."""
    b, a = json.dumps(before), json.dumps(after)
    if len(b) <= _MAX and len(a) <= _MAX:
        return b, a
    common = 0  # ignoring case: ARM ids compare case-insensitively, and live ones often come back lower-cased
    while common < min(len(a), len(b)) and a[common].lower() == b[common].lower():
        common += 1
    cut = max(b.rfind("/", 0, common), b.rfind(",", 0, common), common - 20) if common > 40 else 0
    if cut > 1:
        b, a = b[:1] + "..." + b[cut:], a[:1] + "..." + a[cut:]
    return _shorten(b), _shorten(a)


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    migrate = f"{s[MIGRATE]} to migrate, " if s.get(MIGRATE) else ""  # only plans that migrate a classic table
    return (f"{migrate}{s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
            f"{s['delete']} to delete, {s['no-op']} unchanged")


def format_text(plan: Plan, title: str = "", colour: bool = False) -> str:
    lines = [title] if title else []
    for problem in plan.problems:
        lines.append(_paint(problem.format(), "red" if problem.is_error else "yellow", colour))
    if plan.problems:
        lines.append("")
    for warning in plan.warnings:
        lines.append(_paint(warning.format(), "yellow", colour))
    if plan.warnings:
        lines.append("")
    for change in plan.pending:
        head = f"{_SYMBOL[change.action]} {change.action} {change.label}"
        tag = _paint(f"[{change.cls}]", _CLASS_COLOUR[change.cls], colour)
        lines.append(f"  {_paint(head, _COLOUR.get(change.action), colour)}  {tag}")
        for d in change.diffs:
            sym = {"add": "+", "remove": "-", "change": "~"}[d.op]
            if d.op == "add":
                text = f"{sym} {d.path}: {_value(d.after)}"
            elif d.op == "remove":
                text = f"{sym} {d.path}: {_value(d.before)}"
            else:
                before, after = _change(d.before, d.after)
                text = f"{sym} {d.path}: {before} -> {after}"
            if d.cls != SAFE:
                text += f"  ({d.cls})"
            lines.append("      " + text)
        for why in change.explanations:
            lines.append("      " + _paint(f"! {why}", _CLASS_COLOUR[change.cls], colour))
    if not plan.has_changes:
        lines.append("No changes: Azure already matches the scenario.")
    else:
        lines.append("")
        lines.append(_paint(f"Plan: {summary_line(plan)}.", "bold", colour))
        for text, cls in _consequences(plan):
            lines.append(_paint(text, _CLASS_COLOUR[cls], colour))
    return "\n".join(lines)


def _consequences(plan: Plan, options_are: str = "above") -> list[tuple[str, str]]:
    """What apply will do with this plan: refuse impossible changes, want --allow-destructive for the others."""
    out = []
    if plan.impossible:
        out.append(((f"{len(plan.impossible)} change(s) Azure cannot make (impossible): apply refuses this plan; "
                     f"see the options {options_are}."), IMPOSSIBLE))
    destructive = [c for c in plan.destructive if c.cls != IMPOSSIBLE]
    if destructive:
        cls = IDENTITY if any(c.cls == IDENTITY for c in destructive) else DATA
        out.append((f"{len(destructive)} change(s) delete data or rotate identities: apply needs --allow-destructive.",
                    cls))
    irreversible = [c for c in plan.pending if c.cls == IRREVERSIBLE]
    if irreversible:  # allowed without a flag (the scenario asked for it), but said: it cannot be undone
        out.append((f"{len(irreversible)} change(s) cannot be undone (irreversible): a migrated table stays DCR-based.",
                    IRREVERSIBLE))
    return out


def format_markdown(plan: Plan, title: str = "") -> str:
    lines = [f"### {title or 'provision plan'}", "", f"**{summary_line(plan)}**", ""]
    consequences = _consequences(plan, options_are="in the table below") if plan.has_changes else []
    if consequences:
        lines += [f"> ⚠ {text}" for text, _ in consequences] + [""]
    if plan.problems:
        lines += ["**Problems:**", ""] + [f"- `{p.code}` {p.message}" + (f" (fix: {p.fix})" if p.fix else "")
                                         for p in plan.problems] + [""]
    if plan.warnings:
        lines += ["**Validation warnings:**", ""] + [
            f"- `{w.code}` {w.message}" + (f" (line {w.line})" if w.line else "") + (f" (fix: {w.fix})" if w.fix else "")
            for w in plan.warnings] + [""]
    if plan.has_changes:
        lines += ["| action | kind | name | class | details |", "|---|---|---|---|---|"]
        for c in plan.pending:
            details = "<br>".join(f"`{d.path}` {d.op}: {_md_diff(d)}" for d in c.diffs)
            if c.explanations:
                details += ("<br>" if details else "") + "<br>".join(f"⚠ {e}" for e in c.explanations)
            lines.append(f"| {c.action} | {c.kind} | `{c.name}` | {c.cls} | {details or c.label} |")
    else:
        lines.append("No changes.")
    return "\n".join(lines)


def _md_diff(d) -> str:
    """The value a reviewer must see: both sides of a change, the value added or removed (a removal is a loss)."""
    if d.op == "change":
        return "{} → {}".format(*map(_md_text, _change(d.before, d.after)))
    return _md_text(_value(d.after if d.op == "add" else d.before))


def _md_text(text: str) -> str:
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def format_plan(plan: Plan, fmt: str = "text", title: str = "", colour: bool = False, extra: dict | None = None) -> str:
    """The plan as ``text``, ``markdown`` or ``json``, values of secret variables shown as ``***`` (secrets.py)."""
    if fmt == "json":
        text = json.dumps({**(extra or {}), **plan.to_dict()}, indent=2)
    elif fmt == "markdown":
        text = format_markdown(plan, title)
    else:
        text = format_text(plan, title, colour)
    return secrets.redact(text)
