"""Templates run sandboxed and bounded (issue 12 item 1): a --templates folder cannot reach Python,
the process environment or files, and cannot run or grow without bound. Driven through `provision render`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provision import sandbox
from provision.cli import app

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
runner = CliRunner()


def render_with(tmp_path: Path, table_template: str, environ: dict | None = None):
    (tmp_path / "tpl").mkdir(exist_ok=True)
    (tmp_path / "tpl" / "table.json.j2").write_text(table_template)
    return runner.invoke(app, ["render", str(QUICKSTART), "--templates", str(tmp_path / "tpl")], env=environ)


@pytest.mark.parametrize("expression", [
    '{{ cycler.__init__.__globals__.os.popen("touch MARKER").read() }}',
    '{{ joiner.__init__.__globals__.os.system("touch MARKER") }}',
    '{{ lipsum.__globals__["os"].popen("touch MARKER").read() }}',
    '{{ namespace.__init__.__globals__.os.popen("touch MARKER").read() }}',
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    '{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen("touch MARKER").read() }}',
])
def test_a_template_cannot_reach_python(tmp_path, monkeypatch, expression):
    monkeypatch.chdir(tmp_path)
    result = render_with(tmp_path, '{"properties": {"x": "' + expression + '"}}')
    assert result.exit_code == 1, result.output
    assert "table.json.j2" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "MARKER").exists()


def test_a_template_cannot_read_the_environment(tmp_path):
    secret = "s3cr3t-value-for-the-sandbox-test"
    template = '{"properties": {"x": {{ lipsum.__globals__.os.environ["AZURE_CLIENT_SECRET"] | tojson }}}}'
    result = render_with(tmp_path, template, environ={"AZURE_CLIENT_SECRET": secret})
    assert result.exit_code == 1
    assert "was stopped" in result.output and secret not in result.output


def test_a_template_cannot_mutate_what_it_is_given(tmp_path):
    result = render_with(tmp_path, '{% set _ = table.columns.append(1) %}{"properties": {}}')
    assert result.exit_code == 1 and "was stopped" in result.output


@pytest.mark.parametrize("expression,said", [
    ("{% for i in range(10**12) %}{% endfor %}", "Range too big"),
    ('{{ "x" * 10**9 }}', "repeating a value"),
    ("{{ 7 ** 1000000000 }}", "too large a number"),  # Jinja's ** is left-associative: 7 ** 10 ** 9 is (7**10)**9
    ('{{ "x" | center(10**9) }}', "the filter 'center'"),
    ('{% for i in range(100000) %}{{ "x" * 100 }}{% endfor %}', "output passed"),
])
def test_a_template_cannot_build_without_bound(tmp_path, expression, said):
    started = time.monotonic()
    result = render_with(tmp_path, '{"properties": {"x": "' + expression + '"}}')
    assert result.exit_code == 1 and said in result.output, result.output
    assert time.monotonic() - started < 60  # a guard against a hang, not a speed assertion


def test_a_template_cannot_run_without_bound(tmp_path, monkeypatch):
    # An empty nested loop builds nothing; only the clock stops it (checked on the template's own lines).
    monkeypatch.setattr(sandbox, "RENDER_SECONDS", 0.5)
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    result = render_with(tmp_path, '{"properties": {"x": "' + loop + '"}}')
    assert result.exit_code == 1 and "ran for more than" in result.output, result.output


def test_what_templates_may_do_still_works(tmp_path):
    # Loops, filters, namespace() and large numbers as values stay available to templates.
    template = ('{% set ns = namespace(n=0) %}{% for c in table.columns %}{% set ns.n = ns.n + 1 %}{% endfor %}'
                '{"properties": {"count": {{ ns.n }}, "big": {{ 10**15 }}, "name": {{ table.name | upper | tojson }},'
                ' "pad": {{ "x" | center(9) | tojson }}}}')
    result = render_with(tmp_path, template)
    assert result.exit_code == 0, result.output
    assert "\"count\": 6," in result.output  # the quickstart table's six columns
    assert "1000000000000000" in result.output and "APPEVENTS_CL" in result.output and '"    x    "' in result.output
