"""Startup benchmark: wall time of `provision --help` and `provision validate` as ratios to `python -c pass`.

Run: python bench/startup.py [--repeat N]
Each command runs N times in a fresh interpreter (same Python, same machine, same run);
the median is reported. Bytecode caching is on for the runs (PYTHONDONTWRITEBYTECODE is
removed from their environment): an installed package has its .pyc files, and without
them every run would also time compiling the sources. Ratios, not absolute times, are the figure to compare: the
baseline absorbs the machine's speed. Also reports whether any Azure SDK module was
imported on these paths (it must not be: DESIGN.md §7 Speed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "provision --help": [sys.executable, "-m", "provision", "--help"],
    "provision validate quickstart": [sys.executable, "-m", "provision", "validate", str(QUICKSTART)],
    "provision render quickstart": [sys.executable, "-m", "provision", "render", str(QUICKSTART)],
}

SDK_PROBE = (
    "import sys, runpy; sys.argv = ['provision'] + sys.argv[1:]\n"
    "try:\n    runpy.run_module('provision', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print(sorted({m.split('.')[0] + '.' + m.split('.')[1] for m in sys.modules if m.startswith('azure.')}), file=sys.stderr)\n"
)


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall_time(command: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO, check=False, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sdk_modules(args: list[str]) -> str:
    done = subprocess.run([sys.executable, "-c", SDK_PROBE, *args], capture_output=True, text=True, cwd=REPO)
    return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()
    for command in COMMANDS.values():  # warm the file cache and __pycache__
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO, check=False, env=ENV)
    baseline = wall_time(COMMANDS["python -c pass"], options.repeat)
    print(f"{'command':34} {'median ms':>10} {'ratio':>7}")
    for label, command in COMMANDS.items():
        seconds = baseline if label == "python -c pass" else wall_time(command, options.repeat)
        print(f"{label:34} {seconds * 1000:10.1f} {seconds / baseline:7.2f}")
    print(f"azure SDK modules imported by 'provision --help': {sdk_modules(['--help'])}")
    print(f"azure SDK modules imported by 'provision validate': {sdk_modules(['validate', str(QUICKSTART)])}")


if __name__ == "__main__":
    main()
