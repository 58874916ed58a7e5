"""Run a child Python process and SIGKILL it at a chosen moment of its work."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent

# A child that runs the command line (main.py) in-process: the modules the command needs
# are imported before START, so that the delay counts the command's work only.
CLI = """
import importlib
import sys
import main
for module in sys.argv[1].split(","):
    if module:
        importlib.import_module(module)
print("START", flush=True)
sys.exit(main.main(sys.argv[2:]))
"""


@dataclass
class Outcome:
    finished: bool  # the child ended on its own with code 0 before the kill
    seconds: float  # how long it ran after saying START
    output: str


def run_killed(code: str, *args: str, delay: float | None, timeout: float = 300,
               env: dict[str, str] | None = None) -> Outcome:
    """Run *code* with *args*; once it prints ``START`` wait *delay* seconds and SIGKILL
    it (``None``: let it finish). A child that fails on its own is an error. *env*: extra
    environment variables of the child."""
    environment = {**os.environ, **(env or {})}
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT, env=environment)
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "START":
        child.kill()
        _, err = child.communicate(timeout=30)
        raise AssertionError(f"the child did not start: {line!r}\n{err}")
    started = time.perf_counter()
    if delay is None:
        out, err = child.communicate(timeout=timeout)
        assert child.returncode == 0, err
        return Outcome(True, time.perf_counter() - started, out)
    time.sleep(delay)
    finished = child.poll() is not None
    if not finished:
        os.kill(child.pid, signal.SIGKILL)
    out, err = child.communicate(timeout=30)
    # The child may end between poll() and the kill: then it exited on its own, whole.
    finished = finished or child.returncode == 0
    assert child.returncode == (0 if finished else -signal.SIGKILL), (child.returncode, err)
    return Outcome(finished, time.perf_counter() - started, out)


def run_cli(*args: str, delay: float | None, preload: tuple[str, ...] = (),
            env: dict[str, str] | None = None) -> Outcome:
    """``main.py ARGS`` in a child, killed *delay* s after START (see :data:`CLI`)."""
    return run_killed(CLI, ",".join(preload), *args, delay=delay, env=env)


def delays(rng: random.Random, duration: float, trials: int) -> list[float]:
    """*trials* kill delays drawn uniformly in [0, *duration*] (an unkilled run's time)."""
    return [round(rng.uniform(0, duration), 4) for _ in range(trials)]
