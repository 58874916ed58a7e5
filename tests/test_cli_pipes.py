"""A command whose output goes to a reader that stops early (``main.py check | head``)
ends quietly: no Python traceback on the agent's terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_check_piped_into_a_reader_that_stops_prints_no_traceback(demo_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "check", "--db", str(demo_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=0)
    first = process.stdout.readline()
    process.stdout.close()  # what `head -1` does once it has its line
    errors = process.stderr.read()
    code = process.wait(timeout=120)
    assert first.startswith("Base : ")
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
    assert code == 1


def test_check_read_to_the_end_still_succeeds(demo_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "check", "--db",
                           str(demo_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Intégrité SQLite : correcte" in done.stdout
