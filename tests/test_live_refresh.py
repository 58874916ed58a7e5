"""The shared office: what one agent saves shows in the other agents' lists and open
editors without a manual refresh (db.changes, desktop.live_refresh), on SQLite and on
the real PostgreSQL server; each agent has its own Database (engine, connections)."""

from __future__ import annotations

import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import text

from db.changes import ChangeFeed, Token, changes_since
from db.changes import feed as feed_module
from db.database import open_database
from db.editing import find_by_reference, operation_for_edit
from db.models import AuditEntry
from db.services.organisations import OrganisationData, save_organisation, save_organisation_in
from desktop.change_banner import ChangeBanner
from tests.conftest import pg_create, pg_drop, pg_url
from tests.test_editors import activate, answer_modal, button, click, type_into

WAIT_MS = 5000  # "within a few seconds"; the poll runs every second


def _poll(feed, seconds: float = 3.0):
    """Poll as the window does until something comes (a notification travels from the
    server a few milliseconds after the commit)."""
    deadline = time.monotonic() + seconds
    while True:
        changes = feed.poll()
        if changes is not None or time.monotonic() > deadline:
            return changes
        time.sleep(0.05)


def _quiet(feed):
    """Nothing comes, even given the time a notification would take."""
    time.sleep(0.3)
    return feed.poll()


def _organisation(db, name: str) -> uuid.UUID:
    return save_organisation(db, OrganisationData(name=name)).id


# --- db.changes -------------------------------------------------------------------------

def test_a_commit_of_another_agent_is_seen_once_with_who_and_what(db, second_session):
    feed = ChangeFeed(db)
    assert feed.listening
    assert feed.poll() is None  # what was there before is no news
    organisation_id = _organisation(second_session, "Commune de Saint-Amand-les-Eaux")
    changes = _poll(feed)
    assert changes is not None and changes.complete
    change = changes.about("organisation", organisation_id)
    assert change is not None and change.action == "insert" and change.origin == "saisie"
    assert change.login and changes.logins() == [change.login]
    assert _quiet(feed) is None  # read once
    feed.close()


def test_own_writes_are_not_announced_back(db, second_session):
    mine, theirs = ChangeFeed(db), ChangeFeed(second_session)
    organisation_id = _organisation(db, "Syndicat mixte du Val de Sambre")
    assert _quiet(mine) is None
    seen = _poll(theirs)
    assert seen is not None and seen.about("organisation", organisation_id) is not None
    mine.close()
    theirs.close()


def test_a_rolled_back_write_produces_nothing(db, second_session):
    feed = ChangeFeed(db)
    with pytest.raises(RuntimeError), second_session.write() as session:
        save_organisation_in(session, OrganisationData(name="Jamais enregistrée"))
        session.flush()  # the audit entry is written, then rolled back with the rest
        raise RuntimeError("abandon")
    assert _quiet(feed) is None
    with db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM organisation WHERE name = "
                                   "'Jamais enregistrée'")) == 0
    feed.close()


def _audit(db, at: datetime, entity_id: str) -> str:
    """An audit entry committed with a chosen time: two commits in one millisecond, or a
    transaction that wrote before another committed and committed after it."""
    entry_id = uuid.uuid4()
    with db.write() as session:
        session.add(AuditEntry(id=entry_id, at=at, login="agent2", action="update",
                               entity="organisation", entity_id=entity_id, changes={}))
    return entry_id.hex


def test_the_token_keeps_commits_of_the_same_millisecond_and_late_commits(db):
    other = open_database(db.target.path if db.is_sqlite else
                          db.target.url.render_as_string(hide_password=False))
    lookback = timedelta(seconds=5)
    with db.read() as session:
        found, token = changes_since(session, Token(), lookback=lookback)
    assert found == []
    instant = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    first = _audit(other, instant, "a")
    with db.read() as session:
        found, token = changes_since(session, token, lookback=lookback)
    assert [c.audit_id for c in found] == [first] and token.at == instant
    same_time = _audit(other, instant, "b")  # another commit, the same millisecond
    earlier = _audit(other, instant - timedelta(milliseconds=3), "c")  # written before
    with db.read() as session:
        found, token = changes_since(session, token, lookback=lookback)
    assert sorted(c.audit_id for c in found) == sorted([same_time, earlier])
    with db.read() as session:
        found, token = changes_since(session, token, lookback=lookback)
    assert found == []
    # A writer that says when its transaction began is read from there, even long ago.
    long_ago = _audit(other, instant - timedelta(minutes=10), "d")
    with db.read() as session:
        found, _ = changes_since(session, token, lookback=lookback,
                                 since=instant - timedelta(minutes=11))
    assert [c.audit_id for c in found] == [long_ago]
    other.close()


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_lost_listener_falls_back_to_the_trail_and_listens_again(monkeypatch, backend, db,
                                                                    second_session):
    monkeypatch.setattr(feed_module, "RECONNECT_SECONDS", 0.0)
    feed = ChangeFeed(db)
    with db.engine.connect() as connection:  # the server drops the listening connection
        connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'suivi-contrats-veille' AND datname = current_database()"))
    organisation_id = _organisation(second_session, "Communauté de communes du Cœur de l'Avesnois")
    # libpq reads the server's farewell first and reports the closed socket next time.
    changes = _poll(feed)
    assert changes is not None and not changes.complete
    assert changes.about("organisation", organisation_id) is not None
    assert _quiet(feed) is None and feed.listening  # listening again, nothing new
    later = _organisation(second_session, "Commune d'Avesnes-sur-Helpe")
    seen = _poll(feed)
    assert feed.listening and seen is not None and seen.about("organisation", later)
    feed.close()


# --- two agents, two windows -----------------------------------------------------------

@pytest.fixture
def shared_base(backend, request, tmp_path: Path):
    """The office's base, with the demo data, that both agents open."""
    if backend == "sqlite":
        path = tmp_path / "bureau.sqlite"
        shutil.copyfile(request.getfixturevalue("demo_template"), path)
        yield str(path)
        return
    name = f"ct_{uuid.uuid4().hex[:12]}"
    pg_create(name, request.getfixturevalue("pg_demo_template"))
    yield pg_url(name)
    pg_drop(name)


@pytest.fixture
def two_agents(qtbot, shared_base):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application()
    bases = [open_database(shared_base), open_database(shared_base)]
    windows = []
    for base in bases:
        window = MainWindow(base, view="operations")
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
    yield windows
    for window in windows:
        window.live.stop()
        for editor in list(window.editors):
            editor.discard_and_close()
    for base in bases:
        base.close()


def _titles(window) -> list[str]:
    model = window.pages["operations"].model
    return [model.row(i)["title"] for i in range(model.rowCount())]


def _banner(editor) -> ChangeBanner | None:
    banner = editor.findChild(ChangeBanner)
    return banner if banner is not None and not banner.isHidden() else None


def test_a_save_shows_in_the_other_agent_s_list_and_editor(qtbot, two_agents):
    first, second = two_agents
    operation_id = find_by_reference(first.db, "operation", "FICTIF-DETR-2025-003")
    other_id = find_by_reference(first.db, "operation", "FICTIF-DETR-2025-002")
    # The second agent has the list scrolled to a selected row and two editors open:
    # one where it typed, one untouched.
    page = second.pages["operations"]
    row = next(i for i in range(page.model.rowCount())
               if page.model.row(i)["id"] == other_id)
    page.table.selectRow(row)
    typing = second.open_operation(operation_id)
    activate(qtbot, typing)
    type_into(qtbot, typing.title, "Titre en cours de saisie")
    reading = second.open_operation(other_id)

    editor = first.open_operation(operation_id)
    activate(qtbot, editor)
    type_into(qtbot, editor.title, "Réhabilitation et extension de la salle des fêtes")
    qtbot.keySequence(editor, "Ctrl+S")
    assert operation_for_edit(first.db, operation_id).title.startswith("Réhabilitation et")
    other = first.open_operation(other_id)
    activate(qtbot, other)
    type_into(qtbot, other.title, "Mise en accessibilité de l'hôtel de ville")
    qtbot.keySequence(other, "Ctrl+S")

    qtbot.waitUntil(lambda: "Réhabilitation et extension de la salle des fêtes"
                    in _titles(second), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _banner(typing) is not None, timeout=WAIT_MS)
    banner = _banner(typing)
    assert "Cette opération vient d'être modifiée par" in banner.label.text()
    assert " h " in banner.label.text()
    assert banner.reload_button.isVisible() and banner.keep_button.isVisible()
    assert typing.title.text() == "Titre en cours de saisie"  # the input is not lost
    # The untouched editor reloaded by itself and says so.
    qtbot.waitUntil(lambda: reading.title.text() == "Mise en accessibilité de l'hôtel de ville",
                    timeout=WAIT_MS)
    assert "La fiche a été rechargée" in _banner(reading).label.text()
    assert not reading.is_dirty()
    # The selected row is still the one selected, now with its new title.
    assert page.current_row()["id"] == other_id
    assert page.current_row()["title"] == "Mise en accessibilité de l'hôtel de ville"
    # Own saves: no banner in the first agent's editors.
    qtbot.wait(1500)
    assert _banner(editor) is None and _banner(other) is None

    # « Garder ma saisie »: the banner goes and the conflict dialog still guards the save.
    click(qtbot, banner.keep_button)
    assert _banner(typing) is None
    qtbot.wait(1500)  # the next polls do not raise it again for the same version
    assert _banner(typing) is None
    seen = {}

    def decide(box):
        seen["text"] = box.text()
        click(qtbot, button(box, "Recharger"))
    answer_modal(qtbot, decide)
    activate(qtbot, typing)
    qtbot.keySequence(typing, "Ctrl+S")
    assert "modifiée par" in seen["text"]
    assert typing.title.text() == "Réhabilitation et extension de la salle des fêtes"


def test_a_deletion_shows_in_the_other_agent_s_list_and_editor(qtbot, two_agents):
    first, second = two_agents
    operation_id = find_by_reference(first.db, "operation", "FICTIF-DETR-2025-007")
    title = operation_for_edit(first.db, operation_id).title
    assert title in _titles(second)
    watching = second.open_operation(operation_id)
    editor = first.open_operation(operation_id)
    activate(qtbot, editor)
    refusals: list[str] = []

    def close_refusal() -> None:  # a refusal would be a second box: read it, close it
        refusal = QApplication.activeModalWidget()
        if refusal is not None:
            refusals.append(refusal.text())
            refusal.reject()

    def confirm(box) -> None:
        QTimer.singleShot(300, close_refusal)
        click(qtbot, box.button(QMessageBox.StandardButton.Yes))
    answer_modal(qtbot, confirm)
    click(qtbot, editor.delete_button)
    assert refusals == []
    with first.db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM operation WHERE reference = "
                                   "'FICTIF-DETR-2025-007'")) == 0
    qtbot.waitUntil(lambda: title not in _titles(second), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _banner(watching) is not None, timeout=WAIT_MS)
    banner = _banner(watching)
    assert "Cette opération vient d'être supprimée par" in banner.label.text()
    assert banner.close_button.isVisible() and not banner.reload_button.isVisible()
    click(qtbot, banner.close_button)
    assert watching not in second.editors
