"""CI annotations for diagnostics: GitHub Actions workflow commands and Azure DevOps ``task.logissue``.

Each diagnostic becomes one line that the runner turns into an annotation on the file's line and column
(shown on the pull request's diff). Pure formatting; the values are escaped as each runner documents, so a
message quoting what the user wrote cannot end the command early or start another (issue 12 item 4):

- GitHub: ``::error file=F,line=L,col=C,title=T::message``; in properties ``% CR LF : ,`` are written
  ``%25 %0D %0A %3A %2C``, in the message ``% CR LF`` (docs.github.com/actions/reference/workflows-and-actions/
  workflow-commands, "Setting an error message"; the escapes are those of @actions/core's command.ts).
- Azure DevOps: ``##vso[task.logissue type=error;sourcepath=F;linenumber=L;columnnumber=C;code=C]message``;
  ``% CR LF`` are ``%AZP25 %0D %0A`` everywhere, and in properties ``;`` and ``]`` are ``%3B %5D``
  (learn.microsoft.com/azure/devops/pipelines/scripts/logging-commands, "Formatting commands" and "LogIssue").
"""

from __future__ import annotations

from provision.diagnostics import Diagnostic, printable

FORMATS = ("github", "azure-devops")


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _devops_data(text: str) -> str:
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def _devops_property(text: str) -> str:
    return _devops_data(text).replace(";", "%3B").replace("]", "%5D")


def annotation(fmt: str, diagnostic: Diagnostic | None, note: str = "", file: str | None = None) -> str:
    """One annotation line for ``diagnostic`` (or, with ``note``, an informational one on ``file``)."""
    if diagnostic is None:
        severity, code, message, line, column = "notice", "", printable(note), None, None
    else:
        severity, code, file, line, column = diagnostic.severity, diagnostic.code, diagnostic.file, diagnostic.line, diagnostic.column
        message = printable(diagnostic.message) + (f"\nfix: {printable(diagnostic.fix)}" if diagnostic.fix else "")
    if fmt == "github":
        props = [("file", file), ("line", line), ("col", column), ("title", code)]
        text = ",".join(f"{k}={_github_property(str(v))}" for k, v in props if v not in (None, ""))
        return f"::{severity} {text}::{_github_data(message)}" if text else f"::{severity}::{_github_data(message)}"
    if fmt == "azure-devops":
        kind = {"error": "error", "warning": "warning"}.get(severity, "warning")
        if diagnostic is None:  # Azure DevOps has no notice issue: a plain log line keeps it out of the warnings
            return f"{file}: info: {message}" if file else f"info: {message}"
        props = [("type", kind), ("sourcepath", file), ("linenumber", line), ("columnnumber", column), ("code", code)]
        text = ";".join(f"{k}={_devops_property(str(v))}" for k, v in props if v not in (None, ""))
        return f"##vso[task.logissue {text}]{_devops_data(message)}"
    raise ValueError(f"unknown annotation format {fmt!r}: use one of {', '.join(FORMATS)}")
