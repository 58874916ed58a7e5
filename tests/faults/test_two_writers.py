"""Two agents, two OS processes, save the same operation from the same loaded version.

Each round both agents load the operation (the same version), then save their own
values at the same instant (a deadline on the shared monotonic clock, plus a small
random head start for one of them): exactly one save goes through and the other gets
a French ConflictError; the base holds the winner's values, whole, with the version
moved by exactly one (never two saves, never a lost update, never a mix of both).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.database import open_database
from db.editing import find_by_reference, operation_for_edit
from db.health import check
from tests.conftest import pg_create, pg_drop, pg_url
from tests.faults.conftest import SEED, TRIALS

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = TRIALS * 5
REFERENCE = "FICTIF-DETR-2025-003"  # an operation of the demo base that saves cleanly

# One agent: its own process, its own Database (engine, connections). It answers one
# JSON line per command read on stdin: load the operation, or save it at a deadline.
AGENT = r"""
import json, sys, time, traceback, uuid
from db.database import open_database
from db.editing import operation_for_edit
from db.errors import ConflictError
from db.services.operations import save_operation

target, operation_id = sys.argv[1], uuid.UUID(sys.argv[2])
database = open_database(target, create=False, upgrade=False)
loaded = None
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    command = json.loads(line)
    if command["do"] == "quit":
        break
    if command["do"] == "load":
        loaded = operation_for_edit(database, operation_id)
        reply = {"version": loaded.version}
    else:
        for name, value in command["values"].items():
            setattr(loaded, name, value)
        while time.monotonic() < command["at"]:
            pass  # the barrier: both agents leave it at the same instant
        try:
            reply = {"saved": save_operation(database, loaded).version}
        except ConflictError as conflict:
            reply = {"conflict": conflict.message}
        except Exception as error:  # anything else is a failure of the test
            reply = {"error": repr(error), "trace": traceback.format_exc()}
    print(json.dumps(reply), flush=True)
database.close()
"""


class Agent:
    def __init__(self, target: str, operation_id: uuid.UUID) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", AGENT, target, str(operation_id)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def send(self, **command: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def reply(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=30)
            raise AssertionError(f"the agent died (code {self.process.returncode}):\n"
                                 f"{self.process.stderr.read()}")
        return json.loads(line)

    def stop(self) -> str:
        if self.process.poll() is None:
            try:
                self.send(do="quit")
            except BrokenPipeError:
                pass
        try:
            _, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


@pytest.fixture
def sqlite_office(demo_path: Path) -> str:
    return str(demo_path)


@pytest.fixture
def pg_office(pg_demo_template: str) -> Iterator[str]:
    name = f"ct_{uuid.uuid4().hex[:12]}"
    pg_create(name, pg_demo_template)
    yield pg_url(name)
    pg_drop(name)


def _values(agent: str, round_number: int) -> dict[str, str]:
    tag = f"agent {agent}, tour {round_number}"
    return {"title": f"Réhabilitation de la salle des fêtes — {tag}",
            "description": f"Description saisie par l'{tag}",
            "notes": f"Note de l'{tag} : chiffrage revu"}


def _campaign(target: str, rng) -> None:
    observer = open_database(target, create=False, upgrade=False)
    operation_id = find_by_reference(observer, "operation", REFERENCE)
    assert operation_id is not None
    agents = {"A": Agent(target, operation_id), "B": Agent(target, operation_id)}
    errors = ""
    winners: list[str] = []
    during = 0  # conflicts found at the flush (the other commit landed meanwhile)
    try:
        for agent in agents.values():
            assert agent.reply() == {"ready": True}
        for number in range(1, ROUNDS + 1):
            context = f"tour {number}/{ROUNDS} (FAULTS_SEED={SEED})"
            before = operation_for_edit(observer, operation_id)
            for agent in agents.values():
                agent.send(do="load")
            versions = {name: agent.reply()["version"] for name, agent in agents.items()}
            assert versions == {"A": before.version, "B": before.version}, context
            # Both leave the barrier together; one of them, at random, a little earlier.
            at = time.monotonic() + 0.15
            early = rng.choice("AB")
            head_start = rng.choice([0.0, 0.0, 0.0005, 0.002])
            for name, agent in agents.items():
                agent.send(do="save", values=_values(name, number),
                           at=at - (head_start if name == early else 0.0))
            replies = {name: agent.reply() for name, agent in agents.items()}
            assert not any("error" in r for r in replies.values()), (context, replies)
            saved = [name for name, r in replies.items() if "saved" in r]
            refused = [name for name, r in replies.items() if "conflict" in r]
            assert len(saved) == 1 and len(refused) == 1, (context, replies)
            winner, loser = saved[0], refused[0]
            winners.append(winner)
            message = replies[loser]["conflict"]
            assert message.startswith("Conflit : la fiche de l'opération "), message
            assert REFERENCE in message and "Rechargez" in message, message
            assert "Error" not in message and "Traceback" not in message, message
            during += "pendant l'enregistrement" in message

            after = operation_for_edit(observer, operation_id)
            assert replies[winner]["saved"] == before.version + 1, (context, replies)
            assert after.version == before.version + 1, context  # one save, not two
            expected = _values(winner, number)
            got = {name: getattr(after, name) for name in expected}
            assert got == expected, (context, winner, got)  # the winner's, whole
            # Nothing else of the operation moved (the loser's write left no trace).
            for name in ("reference", "cost_ht", "status", "owner_id", "commune_codes"):
                assert getattr(after, name) == getattr(before, name), (context, name)
            assert len(after.funding_lines) == len(before.funding_lines), context
    finally:
        for agent in agents.values():
            errors += agent.stop()
        report = check(observer)
        observer.close()
    assert "Traceback" not in errors, errors
    assert report.healthy, report.problems
    print(f"{ROUNDS} tours, gagnants : {''.join(winners)}, conflits vus à l'écriture : "
          f"{during}")


def test_two_agents_saving_the_same_version_on_sqlite(sqlite_office, rng):
    _campaign(sqlite_office, rng)


@pytest.mark.postgres
def test_two_agents_saving_the_same_version_on_postgresql(pg_office, rng):
    _campaign(pg_office, rng)
