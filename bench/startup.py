"""Startup benchmark: `provision --help` and `provision validate` as ratios to `python -c pass`.

Run: python bench/startup.py [--repeat N] [--instructions] [--non-editable]

- Wall time: each command runs N times in a fresh interpreter (same Python, same machine,
  same run); the median is reported. This machine is noisy: prefer the instruction counts.
- ``--instructions``: instructions counted by ``valgrind --tool=callgrind`` (repeatable to
  within 0.2% whatever else the machine is doing), for the same commands.
- ``--non-editable``: the same figures from a fresh virtual environment holding a normal
  (non-editable) install of this tree. An editable install adds a path finder that costs
  ``python -c pass`` itself about 49M instructions, which flatters every ratio; a user's
  ``pip install`` has none.

The baselines: ``python -c pass`` (the interpreter alone, in the same environment), and
``bench/validate_standin.py``, an argparse program making the same library calls and printing
the same lines as ``provision validate``: validate / stand-in is what the CLI layer costs.
``az --version`` is measured too when the az CLI is on PATH (the anchor of issue 13).
Bytecode caching is on for every run (PYTHONDONTWRITEBYTECODE is removed): an installed
package has its .pyc files. Also reports whether any Azure SDK module was imported on these
paths (it must not be: DESIGN.md §7 Speed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"
STANDIN = REPO / "bench" / "validate_standin.py"
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

SDK_PROBE = (
    "import sys, runpy; sys.argv = ['provision'] + sys.argv[1:]\n"
    "try:\n    runpy.run_module('provision', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print(sorted({m.split('.')[0] + '.' + m.split('.')[1] for m in sys.modules if m.startswith('azure.')}), file=sys.stderr)\n"
)


def commands(python: str) -> dict[str, list[str]]:
    """The measured commands, all run by the interpreter ``python`` (of one environment)."""
    found = {
        "python -c pass": [python, "-c", "pass"],
        "provision --help": [python, "-m", "provision", "--help"],
        "provision validate quickstart": [python, "-m", "provision", "validate", str(QUICKSTART)],
        "argparse stand-in: validate": [python, str(STANDIN), "validate", str(QUICKSTART)],
        "provision render quickstart": [python, "-m", "provision", "render", str(QUICKSTART)],
    }
    az = shutil.which("az")
    if az:
        found["az --version"] = [az, "--version"]
    return found


def run_quietly(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO, check=False, env=env)


def wall_time(command: list[str], repeat: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run_quietly(command, env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def instructions(command: list[str], env: dict[str, str]) -> int:
    """Instructions the command executes, as callgrind counts them."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
                          capture_output=True, text=True, cwd=REPO, env=env, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if not found:
        raise SystemExit(f"callgrind printed no count for {command}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def sdk_modules(python: str, args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([python, "-c", SDK_PROBE, *args], capture_output=True, text=True, cwd=REPO, env=env)
    return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"


def report(title: str, python: str, env: dict[str, str], repeat: int, count: bool) -> None:
    measured = commands(python)
    for command in measured.values():  # warm the file cache and write __pycache__
        run_quietly(command, env)
    print(f"\n## {title}")
    base_time = wall_time(measured["python -c pass"], repeat, env)
    base_count = instructions(measured["python -c pass"], env) if count else 0
    standin_count = 0
    header = f"{'command':32} {'median ms':>10} {'ratio':>7}"
    print(header + (f" {'instructions':>14} {'ratio':>7}" if count else ""))
    for label, command in measured.items():
        seconds = base_time if label == "python -c pass" else wall_time(command, repeat, env)
        line = f"{label:32} {seconds * 1000:10.1f} {seconds / base_time:7.2f}"
        if count:
            counted = base_count if label == "python -c pass" else instructions(command, env)
            standin_count = counted if label.startswith("argparse stand-in") else standin_count
            line += f" {counted / 1e6:13.1f}M {counted / base_count:7.2f}"
        print(line)
    if count:
        validate = instructions(measured["provision validate quickstart"], env)
        print(f"provision validate / argparse stand-in (instructions): {validate / standin_count:.2f}")
    print(f"azure SDK modules imported by 'provision --help': {sdk_modules(python, ['--help'], env)}")
    print(f"azure SDK modules imported by 'provision validate': {sdk_modules(python, ['validate', str(QUICKSTART)], env)}")


def non_editable_python(folder: Path) -> str:
    """A fresh venv in ``folder`` with this tree installed as a user's ``pip install`` does (not editable)."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = str(folder / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", str(REPO)], check=True)
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--instructions", action="store_true", help="count instructions with valgrind --tool=callgrind")
    parser.add_argument("--non-editable", action="store_true", help="also measure a fresh non-editable install")
    options = parser.parse_args()
    if options.instructions and not shutil.which("valgrind"):
        raise SystemExit("--instructions needs valgrind on PATH (Debian: apt-get install valgrind)")
    report(f"this environment ({sys.prefix})", sys.executable, ENV, options.repeat, options.instructions)
    if options.non_editable:
        with tempfile.TemporaryDirectory(prefix="provision-bench-") as folder:
            python = non_editable_python(Path(folder) / "venv")
            # Run outside the tree, so that `-m provision` finds the installed package, not ./provision.
            env = ENV | {"PYTHONSAFEPATH": "1"}
            report("a non-editable install (pip install .)", python, env, options.repeat, options.instructions)


if __name__ == "__main__":
    main()
