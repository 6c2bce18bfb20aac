"""CLI commands that talk to Azure: ``plan``, ``apply``, ``outputs``, ``send``.

Each command: validate the scenario (offline; nothing is sent when it fails),
connect to the cloud, make the library calls, print, exit. The Azure SDKs are
imported only inside these command bodies (through ``provision.azure``), so
``provision --help`` stays fast.

Human-readable plan and progress go to stdout for ``--format text`` and to
stderr otherwise, so that stdout carries only the machine-readable output.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from provision.cli.options import Cloud, Debug, Env, OutputFormat, Parallelism, PlanFormat, ScenarioFile, State, Templates, Var, command
from provision.errors import ProvisionError

# --------------------------------------------------------------- helpers


@contextmanager
def _session_and_scenario(file: Path, env, var, cloud, state, debug: bool = False):
    """Validate (offline), then connect. For ``local`` the emulator's variables resolve in the scenario."""
    from provision.azure import cloud_name
    from provision.cli.scenario import parse_vars

    variables = parse_vars(var)
    name = cloud_name(cloud)
    _quiet_sdk_logs()
    stop_http_lines = _http_lines(debug)
    try:
        with _connected(file, env, variables, cloud, name, state) as pair:
            yield pair
    finally:
        stop_http_lines()


def _http_lines(debug: bool):
    """With --debug (or PROVISION_DEBUG=1, or AZURE_LOG_LEVEL=debug|info): one stderr line per HTTP call."""
    from provision.cli.core import debug_enabled

    if not (debug or debug_enabled() or os.environ.get("AZURE_LOG_LEVEL", "").lower() in ("debug", "info")):
        return lambda: None
    from provision import httplog

    return httplog.enable(lambda line: typer.echo(line, err=True))


@contextmanager
def _connected(file: Path, env, variables, cloud, name, state):
    """The session and the valid scenario (see ``_session_and_scenario``); closes the session after."""
    from provision.azure import connect
    from provision.scenario import require_valid

    if name != "local":
        scenario = require_valid(str(file), env=env, variables=variables)
        session = connect(cloud)  # resolves $PROVISION_CLOUD itself, naming it when it is unknown
    else:
        session = connect(name, state_dir=state)
        try:
            environ = {**session.environ, **os.environ}
            scenario = require_valid(str(file), env=env, variables=variables, environ=environ)
        except BaseException:
            session.close()
            raise
    try:
        yield session, scenario
    except ProvisionError as error:
        defaulted = name == "public" and not cloud and not os.environ.get("PROVISION_CLOUD")
        if defaulted and error.message.startswith(("signing in", "send signs in", "send needs")):
            # a newcomer who ran the quickstart with --cloud local and left it off here (issue 14)
            if error.message.startswith("signing in to public"):
                error.message = error.message.replace("signing in to public", "signing in to public (the default cloud: no --cloud "
                                                      "and no $PROVISION_CLOUD)", 1)
            else:
                error.message += " (on public, the default cloud: no --cloud and no $PROVISION_CLOUD)"
            error.hint = "for the built-in local Azure pass --cloud local (or export PROVISION_CLOUD=local); " + error.hint
        raise
    finally:
        session.close()


def _quiet_sdk_logs() -> None:
    """The SDKs log warnings (e.g. 'get_token failed') that our own error paragraph already says."""
    import logging

    from provision.cli.core import debug_enabled

    if not debug_enabled():
        logging.getLogger("azure").setLevel(logging.CRITICAL)


def _colour(stream) -> bool:
    from provision.cli.terminal import colour_enabled

    return colour_enabled(stream)


def _reading(session):
    """A status line on the terminal while live state is read (seconds of silence otherwise, on a real cloud)."""
    from provision.cli.terminal import status_line

    return status_line(sys.stderr, f"Reading live state from {session.cloud.name} ...")


def _printer(to_stderr: bool):
    def echo(text: str = "") -> None:
        typer.echo(text, err=to_stderr)

    return echo


# --------------------------------------------------------------- commands


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="How to print the outputs (github appends to $GITHUB_OUTPUT).")]


def plan_command(
    file: ScenarioFile,
    env: Env = None,
    var: Var = None,
    cloud: Cloud = None,
    state: State = None,
    templates: Templates = None,
    fmt: Annotated[PlanFormat, typer.Option("--format", "-f", help="Text for people, JSON for programs, Markdown for pull requests.")]
    = PlanFormat.text,
    detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes (0 none, 1 error).")] = False,
    parallelism: Parallelism = None,
    debug: Debug = False,
) -> None:
    """Read live state and show what apply would change (writes nothing)."""
    from provision.planview import format_plan

    with _session_and_scenario(file, env, var, cloud, state, debug) as (session, scenario):
        from provision.pipeline import plan_scenario

        with _reading(session):
            _, _, plan = plan_scenario(session, scenario, templates_dir=templates, parallelism=parallelism)
        title = f"Plan for {file} (cloud {session.cloud.name}{', env ' + env if env else ''})"
        colour = _colour(sys.stdout)
        # color=: click strips ANSI when stdout is not a terminal, which would undo FORCE_COLOR
        typer.echo(format_plan(plan, fmt.value, title=title, colour=colour,
                               extra={"scenario": str(file), "cloud": session.cloud.name, "environment": env}), color=colour or None)
    if plan.refusal(allow_destructive=True) is not None:
        raise typer.Exit(1)  # apply would refuse whatever its flags: an error for CI, not "changes to apply"
    if detailed_exitcode and plan.has_changes:
        raise typer.Exit(2)


def apply_command(
    file: ScenarioFile,
    env: Env = None,
    var: Var = None,
    cloud: Cloud = None,
    state: State = None,
    templates: Templates = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required without a terminal).")] = False,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Allow deletes, dropped columns/streams and DCR recreation.")]
    = False,
    parallelism: Parallelism = None,
    fmt: FormatOption = OutputFormat.text,
    debug: Debug = False,
) -> None:
    """Apply the scenario: tables -> DCE -> DCRs -> role assignments, then print the outputs."""

    _check_github_output(fmt)
    text = fmt is OutputFormat.text
    echo = _printer(to_stderr=not text)
    colour = _colour(sys.stdout if text else sys.stderr)
    with _session_and_scenario(file, env, var, cloud, state, debug) as (session, scenario):
        from provision.apply import apply_plan, check_allowed
        from provision.outputs import format_outputs, outputs_from_live
        from provision.pipeline import plan_scenario
        from provision.planview import format_text

        with _reading(session):
            resources, live, plan = plan_scenario(session, scenario, templates_dir=templates, parallelism=parallelism)
        typer.echo(format_text(plan, f"Plan for {file} (cloud {session.cloud.name})", colour), err=not text, color=colour or None)
        bodies = dict(live.resources)
        if plan.has_changes or plan.problems:
            check_allowed(plan, allow_destructive)
            _confirm(yes)
            with _heartbeat(to_stderr=not text) as heartbeat:
                result = apply_plan(session, plan, parallelism=parallelism, allow_destructive=allow_destructive,
                                    progress=_progress(heartbeat.echo, heartbeat))
            bodies.update(result.bodies)
            echo(f"Applied {len(result.done)} change(s) in {result.seconds:.1f} s; verified.")
        outputs = outputs_from_live(resources, bodies, session.cloud.monitor_audience)
        echo("")
        _print_outputs(format_outputs(_for_senders(outputs, session, scenario), fmt.value), fmt)
        echo(next_steps(file, scenario, session, cloud=cloud, env=env, state=state))


def next_steps(file: Path, scenario, session, cloud=None, env=None, state=None) -> str:
    """What to run after ``apply``: a smoke test and where its rows land, and, for an emulator started inside
    this command, that the 127.0.0.1 URLs above belonged to it and it has exited (issue 14)."""
    import shlex

    options = "".join(f" {flag} {shlex.quote(str(value))}" for flag, value in (("--env", env), ("--cloud", cloud), ("--state", state))
                      if value)
    streams = [s for r in scenario.rules.values() if r.ensure != "absent" for s in r.streams]
    lines = ["", "Next steps:"]
    if streams:
        stream = "" if len(streams) == 1 else f" --stream {shlex.quote(streams[0])}"
        wait = "" if session.cloud.name == "local" else " --wait 300"  # a new role takes minutes to reach ingestion
        lines.append(f"  provision send {shlex.quote(str(file))}{options}{stream} --sample 10{wait}   # a smoke test as the publisher")
    if session.cloud.name == "local":
        tables = [f.table for r in scenario.rules.values() if r.ensure != "absent" for f in r.flows]
        state_option = f" --state {shlex.quote(str(state))}" if state else ""
        if tables:
            lines.append(f"  provision emulator rows {shlex.quote(tables[0])}{state_option}   # the rows that arrived")
    lines.append(f"  provision outputs {shlex.quote(str(file))}{options} --format env   # these outputs again, for a sender")
    if session.emulator is not None:
        lines += ["", (f"Note: {session.emulator.url} was a local Azure running inside this command; it stops as the command ends. Its state "
                  f"stays in {session.emulator.state_dir}, so the next --cloud local command sees what this one made (on a new "
                  "port). For one that keeps running: provision emulator serve --env-file .provision/local.env")]
    return "\n".join(lines)


def _for_senders(outputs, session, scenario):
    """The outputs plus what a sender's code needs: tenant id, publishers, stream columns."""
    from provision.outputs import add_sender_details
    from provision.sender import token_tenant

    return add_sender_details(outputs, scenario, token_tenant(session))


def _check_github_output(fmt: OutputFormat) -> None:
    """Before any call to Azure: for ``github`` a writable ``$GITHUB_OUTPUT`` (raises its ProvisionError)."""
    if fmt is OutputFormat.github:
        from provision.outputs import github_output_path

        github_output_path()


def _confirm(yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise ProvisionError("refusing to apply without --yes: there is no terminal to confirm on (CI?)",
                             hint="review the plan above, then re-run with --yes")
    if not typer.confirm("Apply these changes?", default=False):
        typer.echo("Nothing changed.", err=True)
        raise typer.Exit(1)


def _heartbeat(to_stderr: bool):
    """Still-waiting lines while apply runs (provision/cli/terminal.py): in place on a terminal, every few seconds in a log."""
    from provision.cli.terminal import Heartbeat, is_live_terminal

    stream = sys.stderr if to_stderr else sys.stdout
    every = os.environ.get("PROVISION_HEARTBEAT_SECONDS")  # for tests and for CI logs that want fewer lines
    return Heartbeat(lambda text: typer.echo(text, err=to_stderr), live=is_live_terminal(stream),
                     every=float(every) if every else None, rewrite=lambda text: typer.echo(text, nl=False, err=to_stderr))


def _progress(echo, heartbeat=None):
    started: dict[str, float] = {}
    waited: set[str] = set()

    def report(event: str, change, detail: str) -> None:
        if change is None:  # a periodic line during long waits (table provisioning)
            echo(f"  ... still working: {detail}")
            return
        label = change.label
        if heartbeat is not None:
            (heartbeat.done if event in ("done", "failed") else heartbeat.wait)(label)
        if event == "start":
            started[change.id] = time.monotonic()
            echo(f"  {change.action} {label} ...")
        elif event == "waiting" and detail == "long-running operation":
            echo(f"  waiting for {label} (provisioning) ...")
        elif event == "waiting" and change.id not in waited:
            # a table still provisioning from an earlier (interrupted) run: its DCRs wait for it
            waited.add(change.id)
            echo(f"  waiting for {label} ({detail}" + (", from an earlier run" if detail.startswith("provisioningState")
                                                        else "") + ") ...")
        elif event == "done":
            echo(f"  done {label} ({time.monotonic() - started.get(change.id, time.monotonic()):.1f} s)")
        elif event == "failed":
            echo(f"  FAILED {label}")

    return report


def outputs_command(
    file: ScenarioFile,
    env: Env = None,
    var: Var = None,
    cloud: Cloud = None,
    state: State = None,
    templates: Templates = None,
    fmt: FormatOption = OutputFormat.text,
    debug: Debug = False,
) -> None:
    """Print what senders need (reads live state, changes nothing)."""

    _check_github_output(fmt)
    with _session_and_scenario(file, env, var, cloud, state, debug) as (session, scenario):
        from provision.outputs import format_outputs
        from provision.pipeline import collect_outputs

        outputs = collect_outputs(session, scenario, templates_dir=templates)
        _print_outputs(format_outputs(_for_senders(outputs, session, scenario), fmt.value), fmt)


def send_command(
    file: ScenarioFile,
    stream: Annotated[str | None, typer.Option("--stream", "-s", help="Stream name, e.g. Custom-OrdersRaw (default: the "
                                                                      "scenario's only stream).")] = None,
    rows_file: Annotated[Path | None, typer.Option("--file", help="JSON file holding an array of rows.")] = None,
    sample: Annotated[int | None, typer.Option("--sample", min=1, max=10000, help="Send N generated rows instead.")] = None,
    wait: Annotated[float, typer.Option("--wait", min=0, help="Keep retrying rows refused with 403 for up to this many "
                                                              "seconds (a new role takes time to propagate).")] = 0.0,
    env: Env = None,
    var: Var = None,
    cloud: Cloud = None,
    state: State = None,
    templates: Templates = None,
    debug: Debug = False,
    client_id: Annotated[str | None, typer.Option("--client-id", help="The publisher's application (client) id (default: "
                                                  "$PROVISION_SENDER_CLIENT_ID, else the scenario's only app_id publisher).")] = None,
    tenant_id: Annotated[str | None, typer.Option("--tenant-id", help="Its tenant (default: $PROVISION_SENDER_TENANT_ID, "
                                                  "$AZURE_TENANT_ID, else the deploying identity's).")] = None,
    certificate: Annotated[Path | None, typer.Option("--certificate", help="Sign in with this PEM certificate (or "
                                                     "$PROVISION_SENDER_CERTIFICATE_PATH); a secret comes only from "
                                                     "$PROVISION_SENDER_CLIENT_SECRET.")] = None,
    token_file: Annotated[Path | None, typer.Option("--federated-token-file", help="Sign in with the federated token in "
                                                    "this file (or $PROVISION_SENDER_FEDERATED_TOKEN_FILE).")] = None,
    as_deployer: Annotated[bool, typer.Option("--as-deployer", help="Send as the deploying identity instead of a "
                                              "publisher (it needs the publisher role itself).")] = False,
) -> None:
    """Send rows through the real ingestion endpoint as the publisher (a smoke test); says which identity it used."""
    if (rows_file is None) == (sample is None):
        raise ProvisionError("give exactly one of --file rows.json or --sample N")
    from provision.rows import read_rows

    rows = read_rows(rows_file) if rows_file else None  # before connecting: a bad file costs no call
    with _session_and_scenario(file, env, var, cloud, state, debug) as (session, scenario):
        from provision.pipeline import collect_outputs
        from provision.sender import send_rows

        stream = _pick_stream(scenario, stream)
        rule_name = next((n for n, r in scenario.rules.items() if stream in r.streams), None)
        if rule_name is None:
            known = sorted(s for r in scenario.rules.values() for s in r.streams)
            raise ProvisionError(f"no rule declares stream '{stream}'", hint=f"streams: {', '.join(known)}")
        from provision.sender import sender_identity

        identity = sender_identity(session, scenario.publishers, client_id=client_id, tenant_id=tenant_id,
                                   certificate=str(certificate) if certificate else None,
                                   token_file=str(token_file) if token_file else None, as_deployer=as_deployer)
        typer.echo(f"signing in as {identity.description}", err=True)
        outputs = collect_outputs(session, scenario, templates_dir=templates)
        count = send_rows(session, scenario.rules[rule_name], outputs.rules[rule_name], stream, rows, sample,
                          wait_seconds=wait, progress=lambda text: typer.echo(text, err=True), identity=identity)
        typer.echo(f"sent {count} row(s) to {rule_name} stream {stream}: accepted (HTTP 204)")


def _pick_stream(scenario, stream: str | None) -> str:
    """``--stream`` as given, else the scenario's only stream (said on stderr), else an error listing them."""
    if stream is not None:
        return stream
    known = sorted({s for r in scenario.rules.values() if r.ensure != "absent" for s in r.streams})
    if len(known) == 1:
        typer.echo(f"stream {known[0]} (the scenario's only stream)", err=True)
        return known[0]
    if not known:
        raise ProvisionError("the scenario has no stream to send to", hint="add a rule with a flow (see scenarios/quickstart.yaml)")
    raise ProvisionError(f"the scenario has {len(known)} streams: say which with --stream", hint=f"streams: {', '.join(known)}")


def _print_outputs(text: str, fmt) -> None:
    """The outputs on stdout; with ``--format github`` they went to $GITHUB_OUTPUT, and the line saying so is
    progress, on stderr like every progress line of a machine-readable format (issue 14)."""
    typer.echo(text, err=fmt.value == "github")


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    command(app, "plan",
        "provision plan scenarios/quickstart.yaml --cloud local",
        "provision plan scenarios/multi-env.yaml --env prod --detailed-exitcode --format markdown",
    )(plan_command)
    command(app, "apply",
        "provision apply scenarios/quickstart.yaml --cloud local --yes",
        "provision apply scenarios/quickstart.yaml --yes --allow-destructive --format github",
    )(apply_command)
    command(app, "outputs",
        "provision outputs scenarios/quickstart.yaml --cloud local --format env",
        "provision outputs scenarios/quickstart.yaml --format json",
    )(outputs_command)
    command(app, "send",
        "provision send scenarios/quickstart.yaml --cloud local --sample 10",
        "provision send scenarios/quickstart.yaml --stream Custom-AppEventsRaw --file rows.json --wait 300",
    )(send_command)
