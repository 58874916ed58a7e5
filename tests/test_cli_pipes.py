"""A command whose output goes to a reader that stops early (``main.py check | head``)
ends quietly: no Python traceback on the agent's terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_check_piped_into_a_reader_that_stops_prints_no_traceback(demo_path: Path) -> None:
    # The reader has stopped before the command writes (as `head -1` has once it holds
    # its line): closing the read end first makes sure that the command writes into a
    # closed pipe. Reading a line first raced with a fast command writing all its
    # report into the pipe's buffer before the close (exit code 0, nothing tested).
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "check", "--db", str(demo_path)],
            stdout=write_end, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(write_end)
    errors = process.stderr.read()
    code = process.wait(timeout=120)
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
    assert code == 1


def test_check_read_to_the_end_still_succeeds(demo_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "check", "--db",
                           str(demo_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Intégrité SQLite : correcte" in done.stdout
