"""Saving when the base refuses: locked by another program, disk full, server gone.

Driven on the real editor (keys and clicks); each time the window keeps answering,
the agent reads a French message that says what happened, what was typed stays in
the editor (title still marked « * »), the base holds nothing of it; and once the
fault is gone the same Enregistrer goes through.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog
from sqlalchemy import create_engine, select, text

from db.database import open_database
from db.editing import operation_for_edit
from db.models import Operation
from desktop import writing
from tests.conftest import pg_create, pg_drop, pg_url
from tests.test_editors import activate, click, type_into

NEW_TITLE = "Réhabilitation de la halle — titre tapé pendant la panne"


class Watch:
    """Watches the GUI thread during a save: counts its timer ticks (a frozen window
    has none), notes the busy dialog's texts, and answers the first message box."""

    def __init__(self) -> None:
        self.ticks = 0
        self.busy_texts: list[str] = []
        self.boxes: list[str] = []
        self.timer = QTimer(interval=100, timeout=self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.ticks += 1
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QProgressDialog) and modal.isVisible():
            self.busy_texts.append(modal.labelText())
        elif isinstance(modal, QMessageBox) and modal.isVisible():
            self.boxes.append(f"{modal.windowTitle()} | {modal.text()}")
            modal.accept()

    def stop(self) -> None:
        self.timer.stop()


def _first_operation(db):
    with db.read() as session:
        return session.scalars(select(Operation.id).order_by(Operation.reference)).first()


def _title_in_base(db, operation_id) -> str:
    return operation_for_edit(db, operation_id).title


def _edit_title(qtbot, window):
    operation_id = _first_operation(window.db)
    editor = window.open_operation(operation_id)
    type_into(qtbot, editor.title, NEW_TITLE)
    assert editor.windowTitle().endswith("*")
    return editor, operation_id


def _save_watched(qtbot, editor) -> tuple[Watch, float]:
    watch = Watch()
    started = time.monotonic()
    try:
        click(qtbot, editor.save_button)
    finally:
        watch.stop()
    return watch, time.monotonic() - started


def _assert_kept(editor, db, operation_id, before: str) -> None:
    assert editor.title.text() == NEW_TITLE  # nothing typed is lost
    assert editor.windowTitle().endswith("*")
    assert _title_in_base(db, operation_id) == before  # nothing half-saved


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    """Another program writing in the base: it holds SQLite's write lock."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE')\n"
         "print('verrou', flush=True)\n"
         "time.sleep(float(sys.argv[2]))\n"
         "c.execute('COMMIT')\n", str(path), str(seconds)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "verrou"
    return holder


def test_a_save_on_a_locked_base_waits_without_freezing_then_says_so(
        qtbot, window, demo_path, monkeypatch):
    monkeypatch.setattr(writing, "PATIENCE_S", 6.0)
    editor, operation_id = _edit_title(qtbot, window)
    before = _title_in_base(window.db, operation_id)
    holder = _hold_lock(demo_path, 120)
    try:
        watch, lasted = _save_watched(qtbot, editor)
    finally:
        holder.kill()
        holder.wait()
    # Two attempts of SQLite's 5 s wait: the window kept answering all along.
    assert lasted >= 6
    assert watch.ticks >= 20, f"fenêtre figée : {watch.ticks} rafraîchissements en {lasted:.1f} s"
    assert any("occupée par un autre programme : nouvelle tentative" in t
               for t in watch.busy_texts), watch.busy_texts
    assert len(watch.boxes) == 1, watch.boxes
    message = watch.boxes[0]
    assert message.startswith("Enregistrement impossible | ")
    assert "occupée par un autre programme" in message
    assert "Ce que vous avez saisi est conservé" in message
    assert "endommagée" not in message and "Traceback" not in message
    _assert_kept(editor, window.db, operation_id, before)

    # The other program has finished: the same click saves.
    watch, _ = _save_watched(qtbot, editor)
    assert watch.boxes == []
    assert _title_in_base(window.db, operation_id) == NEW_TITLE
    assert not editor.windowTitle().endswith("*")


def test_a_lock_released_during_the_wait_lets_the_save_through(qtbot, window, demo_path):
    editor, operation_id = _edit_title(qtbot, window)
    activate(qtbot, editor)
    holder = _hold_lock(demo_path, 6.5)  # longer than one attempt's 5 s wait
    try:
        watch, lasted = _save_watched(qtbot, editor)
    finally:
        holder.wait()
    assert watch.boxes == []
    assert any("nouvelle tentative" in t for t in watch.busy_texts), watch.busy_texts
    assert lasted >= 6
    assert _title_in_base(window.db, operation_id) == NEW_TITLE
    assert not editor.windowTitle().endswith("*")
    # The busy dialog gone, the editor is the active window again (its shortcuts work).
    qtbot.waitUntil(editor.isActiveWindow, timeout=2000)


def test_typing_during_a_save_is_held_back_and_nothing_is_lost(qtbot, window, demo_path):
    """What the agent types while the save runs would go into fields already read: it
    is held back (the reload after the save would have wiped it)."""
    editor, operation_id = _edit_title(qtbot, window)
    holder = _hold_lock(demo_path, 1.5)
    typed_during = []

    def type_now() -> None:
        editor.title.setFocus()
        qtbot.keyClicks(editor.title, "zzz")
        typed_during.append(editor.title.text())
    QTimer.singleShot(200, type_now)
    try:
        watch, _ = _save_watched(qtbot, editor)
    finally:
        holder.wait()
    assert typed_during == [NEW_TITLE]
    assert watch.boxes == []
    assert _title_in_base(window.db, operation_id) == NEW_TITLE


# --- a full disk ------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path, demo_path):
    if os.geteuid() != 0:
        pytest.skip("un disque plein se simule par un petit tmpfs, qui demande les droits "
                    "d'administrateur (root)")
    mount = tmp_path / "cle"
    mount.mkdir()
    size = demo_path.stat().st_size + 4 * 1024 * 1024
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                   check=True)
    try:
        path = mount / "base.sqlite"
        shutil.copyfile(demo_path, path)
        yield path
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    """Take every free byte of the disk (by large blocks, then small ones)."""
    filler = folder / "remplissage.bin"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for block in (65536, 512, 1):
            try:
                while True:
                    os.write(handle, b"\0" * block)
            except OSError:
                pass
    finally:
        os.close(handle)
    return filler


def test_a_save_on_a_full_disk_says_so_and_keeps_the_input(qtbot, small_disk):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application()
    database = open_database(small_disk)
    window = MainWindow(database)
    qtbot.addWidget(window)
    window.show()
    try:
        editor, operation_id = _edit_title(qtbot, window)
        before = _title_in_base(database, operation_id)
        filler = _fill(small_disk.parent)
        watch, _ = _save_watched(qtbot, editor)
        assert len(watch.boxes) == 1, watch.boxes
        message = watch.boxes[0]
        assert "le disque est plein" in message and "Libérez de la place" in message
        assert "Ce que vous avez saisi est conservé" in message
        assert "endommagée" not in message and "Restaurez" not in message
        _assert_kept(editor, database, operation_id, before)

        filler.unlink()  # room made: the same click saves
        watch, _ = _save_watched(qtbot, editor)
        assert watch.boxes == []
        assert _title_in_base(database, operation_id) == NEW_TITLE
    finally:
        window.live.stop()
        for editor in list(window.editors):
            editor.discard_and_close()
        database.close()
    check = subprocess.run([sys.executable, "main.py", "check", "--db", str(small_disk)],
                           capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert check.returncode == 0, check.stdout + check.stderr


# --- the right to write taken away ------------------------------------------------------

def test_a_save_on_a_base_made_unwritable_meanwhile_says_so(qtbot, window, demo_path):
    """The file turned immutable while the window is open (chattr +i: what a share
    remounted read-only or a changed permission does). Its -shm stays writable:
    SQLite maps it in memory, and a mapping that cannot be written kills the process
    (SIGBUS) before any program can say a word."""
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("chattr +i demande les droits d'administrateur (root)")
    editor, operation_id = _edit_title(qtbot, window)
    before = _title_in_base(window.db, operation_id)
    files = [str(demo_path), f"{demo_path}-wal"]
    subprocess.run(["chattr", "+i", *files], check=True)
    try:
        watch, _ = _save_watched(qtbot, editor)
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)
    assert len(watch.boxes) == 1, watch.boxes
    message = watch.boxes[0]
    assert ("erreur de lecture ou d'écriture sur le disque" in message
            or "lecture seule" in message), message
    assert "rien n'a été enregistré" in message or "copiez-la" in message
    assert "Ce que vous avez saisi est conservé" in message
    assert "endommagée" not in message
    _assert_kept(editor, window.db, operation_id, before)
    # the file writable again: the same click saves
    watch, _ = _save_watched(qtbot, editor)
    assert watch.boxes == []
    assert _title_in_base(window.db, operation_id) == NEW_TITLE


# --- the server gone ----------------------------------------------------------------------

@pytest.mark.postgres
def test_a_save_when_the_server_drops_the_connection_says_so(qtbot, pg_demo_template):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    name = f"ct_{uuid.uuid4().hex[:12]}"
    pg_create(name, pg_demo_template)
    make_application()
    database = open_database(pg_url(name))
    window = MainWindow(database)
    qtbot.addWidget(window)
    window.show()
    admin = create_engine(pg_url(name), isolation_level="AUTOCOMMIT")
    try:
        editor, operation_id = _edit_title(qtbot, window)
        before = _title_in_base(database, operation_id)
        with admin.connect() as other:
            # Another agent's transaction holds the record; while our save waits for
            # it, the server ends our connection (as a restart or a cut network would).
            other.execute(text("BEGIN"))
            other.execute(text("SELECT 1 FROM operation WHERE id = :id FOR UPDATE"),
                          {"id": operation_id})

            def cut() -> None:
                with admin.connect() as killer:
                    killer.execute(text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND application_name = 'suivi-contrats' "
                        "AND wait_event_type = 'Lock'"), {"name": name})
            QTimer.singleShot(1500, cut)
            watch, _ = _save_watched(qtbot, editor)
            other.execute(text("ROLLBACK"))
        assert len(watch.boxes) == 1, watch.boxes
        message = watch.boxes[0]
        assert "La connexion au serveur PostgreSQL" in message and "perdue" in message
        assert "Ce que vous avez saisi est conservé" in message
        assert "Traceback" not in message and "terminating" not in message
        _assert_kept(editor, database, operation_id, before)

        watch, _ = _save_watched(qtbot, editor)  # a new connection: the save goes through
        assert watch.boxes == []
        assert _title_in_base(database, operation_id) == NEW_TITLE
    finally:
        window.live.stop()
        for editor in list(window.editors):
            editor.discard_and_close()
        database.close()
        admin.dispose()
        pg_drop(name)


# --- a base opened for consultation -------------------------------------------------------

def test_an_editor_on_a_read_only_base_takes_no_input(qtbot, demo_path):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    demo_path.chmod(0o444)
    make_application()
    database = open_database(demo_path)
    assert database.read_only
    window = MainWindow(database)
    qtbot.addWidget(window)
    window.show()
    try:
        operation_id = _first_operation(database)
        editor = window.open_operation(operation_id)
        activate(qtbot, editor)
        before = editor.title.text()
        editor.title.setFocus()
        qtbot.keyClicks(editor.title, "zzz")
        assert editor.title.text() == before
        assert not editor.save_button.isEnabled()
        assert editor.windowTitle().endswith("(lecture seule)")
        assert editor.close_button.isEnabled()
        watch = Watch()
        try:
            qtbot.keySequence(editor, "Ctrl+S")  # the shortcut is refused with the reason
        finally:
            watch.stop()
        assert len(watch.boxes) == 1 and "lecture seule" in watch.boxes[0]
    finally:
        window.live.stop()
        for editor in list(window.editors):
            editor.discard_and_close()
        database.close()
        demo_path.chmod(0o644)
