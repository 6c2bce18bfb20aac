"""The CI examples run as written: each workflow file is parsed and its shell steps executed against the emulator.

A small runner stands in for GitHub Actions and Azure Pipelines: it picks the jobs/steps the event runs
(``if:`` / ``condition:``), merges the ``env:``/``variables:`` as the runner does, expands the ``${{ }}``
expressions of step ``env:`` mappings, sets the runner's own variables (``GITHUB_OUTPUT``,
``GITHUB_STEP_SUMMARY``, ``AGENT_TEMPDIRECTORY``, ...) and runs each ``run:`` / ``script:`` / inline script
with bash, as written. The steps that are actions (``uses:``, ``task:``) are the runner's: sign-in is replaced
by the variables the emulator prints (what azure/login and AzureCLI@2 leave for DefaultAzureCredential), and
``pip`` and ``gh`` are stand-ins on PATH that record what they were asked (the package is already installed
here; the pull-request comment would go to GitHub).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
GITHUB_WORKFLOW = REPO / "examples" / "github-actions" / "provision.yml"
DEVOPS_PIPELINE = REPO / "examples" / "azure-devops" / "azure-pipelines.yml"

SHIM = """#!/bin/sh
echo "$(basename "$0") $*" >> "$SHIM_LOG"
{extra}
exit 0
"""


class Runner:
    """One workspace (a checkout of the scenarios), the stand-in tools, and the sign-in variables."""

    def __init__(self, tmp_path: Path, emu):
        self.work = tmp_path / "checkout"
        shutil.copytree(REPO / "scenarios", self.work / "scenarios")
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.log = tmp_path / "shim.log"
        self.comments: list[str] = []
        for name, extra in (("pip", ""), ("gh", 'while [ "$#" -gt 0 ]; do [ "$1" = --body-file ] && cat "$2" >> "$SHIM_LOG.body"; shift; done')):
            path = self.bin / name
            path.write_text(SHIM.format(extra=extra))
            path.chmod(0o755)
        python = self.bin / "python"  # `python -m pip ...` reaches the pip stand-in; anything else the real one
        python.write_text(f'#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = pip ]; then shift 2; exec pip "$@"; fi\nexec {sys.executable} "$@"\n')
        python.chmod(0o755)
        self.signed_in = {**emu.env(), "PROVISION_CLOUD": "local"}  # the emulator's identity, as azure/login would leave one
        # the repository's variables and secrets: the sending app is the emulator's seeded one
        self.variables = {"SENDER_CLIENT_ID": emu.env()["PROVISION_LOCAL_SENDER_CLIENT_ID"], "AZURE_CLIENT_ID": "",
                          "AZURE_TENANT_ID": "", "AZURE_SUBSCRIPTION_ID": ""}
        self.secrets = {"SENDER_CLIENT_SECRET": emu.env()["PROVISION_LOCAL_SENDER_CLIENT_SECRET"]}
        self.base = {k: v for k, v in os.environ.items()}
        self.base["PATH"] = f"{self.bin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        self.base["SHIM_LOG"] = str(self.log)
        self.base["CI"] = "true"

    def bash(self, script: str, env: dict) -> subprocess.CompletedProcess:
        path = self.work.parent / "step.sh"
        path.write_text(script)
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=self.work,
                              env={**self.base, **env}, capture_output=True, text=True, timeout=120)


# ---------------------------------------------------------------- GitHub Actions


def _expression(text: str, context: dict) -> str:
    """``${{ a.b.c }}`` lookups (what the examples use), from ``context``; anything else is a test failure."""
    def lookup(match):
        value = context
        for part in match[1].strip().split("."):
            value = value[part]
        return str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", lookup, str(text))


def _github_if(condition: str | None, event: str, ref: str) -> bool:
    if condition is None:
        return True
    text = condition.replace("github.event_name", repr(event)).replace("github.ref", repr(ref))
    text = text.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\w\s'/=!.-]*", text), f"the test runner does not know the expression {condition!r}"
    return bool(eval(text, {"__builtins__": {}}))  # a comparison of two literals: the pattern above allows nothing else


def run_github(runner: Runner, event: str, ref: str) -> dict:
    workflow = yaml.safe_load(GITHUB_WORKFLOW.read_text())
    assert workflow["defaults"]["run"]["shell"] == "bash"
    ran: dict[str, list] = {}
    for job_name, job in workflow["jobs"].items():
        if not _github_if(job.get("if"), event, ref):
            continue
        steps_context: dict[str, dict] = {}
        signed_in: dict = {}
        summary = runner.work.parent / f"summary-{job_name}.md"
        ran[job_name] = []
        for index, step in enumerate(job["steps"]):
            uses = step.get("uses", "")
            if uses.startswith("azure/login@"):
                assert set(step["with"]) == {"client-id", "tenant-id", "subscription-id"}  # OIDC: no secret
                signed_in = runner.signed_in
                continue
            if uses:
                assert uses.split("@")[0] in ("actions/checkout", "actions/setup-python"), uses
                continue
            output = runner.work.parent / f"output-{job_name}-{index}"
            output.write_text("")
            context = {"github": {"token": "ghs_not-a-real-token", "event": {"pull_request": {"number": 7}}},
                       "steps": steps_context, "vars": runner.variables, "secrets": runner.secrets}
            env = {**{k: str(v) for k, v in workflow.get("env", {}).items()}, **signed_in,
                   **{k: _expression(v, context) for k, v in (step.get("env") or {}).items()},
                   "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event, "GITHUB_REF": ref,
                   "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(runner.work),
                   "RUNNER_TEMP": str(runner.work.parent)}
            result = runner.bash(step["run"], env)
            assert result.returncode == 0, (job_name, step.get("name"), result.stdout[-2000:], result.stderr[-2000:])
            if "id" in step:
                steps_context[step["id"]] = {"outputs": dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)}
            ran[job_name].append((step.get("name"), result))
        ran[job_name + ".summary"] = summary.read_text() if summary.exists() else ""
    return ran


def test_the_github_workflow_on_a_pull_request_validates_plans_and_comments(tmp_path, emu):
    runner = Runner(tmp_path, emu)
    ran = run_github(runner, "pull_request", "refs/pull/7/merge")
    assert set(ran) == {"validate", "validate.summary", "plan", "plan.summary"}
    validate = dict(ran["validate"])["Validate (offline, annotations on the pull request)"]
    assert validate.stdout == ""  # a valid quickstart: no annotations, nothing else on stdout
    assert "## " in ran["plan.summary"] and "AppEvents_CL" in ran["plan.summary"]  # the markdown plan, in the step summary
    comment = Path(f"{runner.log}.body").read_text()
    assert comment == (runner.work / "plan.md").read_text() and "create" in comment
    assert "gh pr comment 7 --body-file plan.md" in runner.log.read_text()
    assert "pip install provision-logs-ingestion" in runner.log.read_text()
    assert emu.write_calls() == []  # a plan writes nothing


def test_the_github_workflow_on_main_applies_and_smoke_tests(tmp_path, emu):
    runner = Runner(tmp_path, emu)
    ran = run_github(runner, "push", "refs/heads/main")
    assert set(ran) == {"validate", "validate.summary", "apply", "apply.summary"}
    steps = dict(ran["apply"])
    smoke = steps["Smoke test (sample rows through the new DCR, as the publisher)"]
    assert "sent 5 row(s) to dcr-quickstart" in smoke.stdout
    assert "signing in as publisher a2a2a2a2-0000-4000-8000-000000000002" in smoke.stderr  # not the deploying identity
    assert re.search(r"DCR immutable id: dcr-[0-9a-f]{32}\n", ran["apply.summary"])  # the apply step's output, read back
    assert len(emu.rows("AppEvents_CL")) == 5


def test_a_bad_scenario_fails_the_github_validate_step_with_annotations(tmp_path, emu):
    runner = Runner(tmp_path, emu)
    quickstart = runner.work / "scenarios" / "quickstart.yaml"
    quickstart.write_text(quickstart.read_text().replace("    columns:\n      TimeGenerated", "    colums:\n      TimeGenerated"))
    workflow = yaml.safe_load(GITHUB_WORKFLOW.read_text())
    step = workflow["jobs"]["validate"]["steps"][-1]
    result = runner.bash(step["run"], {**{k: str(v) for k, v in workflow["env"].items()}, "GITHUB_OUTPUT": os.devnull})
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=scenarios/quickstart.yaml,line=22,title=UnknownKey::")


# ---------------------------------------------------------------- Azure Pipelines


def _devops_condition(condition: str | None, reason: str) -> bool:
    if condition is None:
        return True
    match = re.fullmatch(r"and\(succeeded\(\), (eq|ne)\(variables\['Build\.Reason'\], '(\w+)'\)\)", condition)
    assert match, f"the test runner does not know the condition {condition!r}"
    return (reason == match[2]) == (match[1] == "eq")


def _macros(text, values: dict) -> str:
    """``$(NAME)`` macros of a step's ``env:`` mapping, expanded as Azure Pipelines does before the step runs."""
    return re.sub(r"\$\((\w+)\)", lambda m: str(values[m[1]]), str(text))


def run_devops(runner: Runner, reason: str) -> list:
    pipeline = yaml.safe_load(DEVOPS_PIPELINE.read_text())
    variables = {k.upper().replace(".", "_"): str(v) for k, v in pipeline["variables"].items()}
    temp = runner.work.parent / "agent-temp"
    temp.mkdir(exist_ok=True)
    ran = []
    for step in pipeline["steps"]:
        if not _devops_condition(step.get("condition"), reason):
            continue
        env = {**variables, "TF_BUILD": "True", "BUILD_REASON": reason, "AGENT_TEMPDIRECTORY": str(temp)}
        env.update({k: _macros(v, {**pipeline["variables"], **runner.variables, **runner.secrets}) for k, v in (step.get("env") or {}).items()})
        if "script" in step:
            script = step["script"]
        elif step.get("task") == "AzureCLI@2":
            inputs = step["inputs"]
            assert inputs["azureSubscription"] == "$(AZURE_SERVICE_CONNECTION)" and inputs["scriptType"] == "bash"
            script, env = inputs["inlineScript"], {**env, **runner.signed_in}  # the service connection's sign-in
        else:
            assert step["task"] == "UsePythonVersion@0", step
            continue
        result = runner.bash(script, env)
        assert result.returncode == 0, (step.get("displayName"), result.stdout[-2000:], result.stderr[-2000:])
        ran.append((step.get("displayName"), result))
    return ran


def test_the_azure_pipeline_on_a_pull_request_validates_and_plans_into_the_summary(tmp_path, emu):
    runner = Runner(tmp_path, emu)
    ran = dict(run_devops(runner, "PullRequest"))
    assert list(ran) == ["Install provision", "Validate (offline, issues on the file's lines)", "Plan (run summary)"]
    plan = ran["Plan (run summary)"]
    summary = re.search(r"##vso\[task\.uploadsummary\](.+)", plan.stdout)[1]
    assert "AppEvents_CL" in Path(summary).read_text()
    assert emu.write_calls() == []


def test_the_azure_pipeline_on_main_applies_sets_output_variables_and_smoke_tests(tmp_path, emu):
    runner = Runner(tmp_path, emu)
    ran = dict(run_devops(runner, "IndividualCI"))
    assert "Plan (run summary)" not in ran
    assert re.search(r"^##vso\[task\.setvariable variable=DCR_QUICKSTART_IMMUTABLE_ID;isOutput=true\]dcr-[0-9a-f]{32}$",
                     ran["Apply"].stdout, re.MULTILINE)
    smoke = ran["Smoke test (sample rows through the new DCR, as the publisher)"]
    assert "sent 5 row(s)" in smoke.stdout and "signing in as publisher a2a2a2a2-0000-4000-8000-000000000002" in smoke.stderr
    assert len(emu.rows("AppEvents_CL")) == 5


def test_the_readme_runs_the_github_workflow_steps_against_the_local_azure(tmp_path):
    """The README's "go green on your machine" block, run as a user would paste it (it starts its own server)."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("To see the GitHub workflow go green", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    work = tmp_path / "checkout"
    shutil.copytree(REPO / "scenarios", work / "scenarios")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    script = tmp_path / "readme.sh"
    script.write_text(block)
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=work, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "sent 5 row(s) to dcr-quickstart" in result.stdout
    assert "AppEvents_CL" in (work / "plan.md").read_text()
