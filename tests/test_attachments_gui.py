"""The « Pièces jointes » tab of the real editors, on the demo base in SQLite and in
PostgreSQL: files added by the button (the file dialog's answer stands for the agent's
choice) and by a real drop of file URLs, opened (the URL handed to the system viewer is
read back), copied out, changed, removed with a trace in the history; refusals shown in
French; an unsaved record refuses files; another agent's editor follows."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from db.attachments import service
from db.attachments.places import guess_kind, places_of
from db.attachments.service import MAX_SIZE, Owner, add_attachment, attachments_of
from db.editing import find_by_reference
from db.history import journal, record_history
from db.vocabulary import AttachmentKind
from desktop.attachment_dialogs import AddDialog, ChangeDialog
from tests.test_editors import activate, answer_modal, button, choose, click, type_into
from tests.test_live_refresh import (  # noqa: F401 (fixtures)
    WAIT_MS,
    shared_base,
    two_agents,
)

REFERENCE = "FICTIF-DETR-2025-001"  # lines: DETR 2025, Département (droit commun) 2025
SCAN = bytes(range(256)) * 3000 + b"%%EOF"
LONG_NAME = ("Convention_attributive_DETR_2025_commune_de_Hautmont_renovation_energetique"
             "_ecole_elementaire_signee_par_le_maire_et_le_sous-prefet.pdf")


@pytest.fixture
def agent(two_agents):  # noqa: F811
    return two_agents[0]


def files(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "Documents reçus"
    folder.mkdir()
    made = {"scan": (LONG_NAME, SCAN),
            "deliberation": ("Délibération du conseil municipal du 12-03-2025.pdf",
                             b"%PDF-1.4 deliberation " * 300),
            "devis": ("DEVIS lot 2 menuiseries.pdf", b"%PDF-1.4 devis " * 50),
            "photo": ("IMG_0042.JPG", b"\xff\xd8\xff\xe0" + bytes(900)),
            "empty": ("vide.txt", b"")}
    paths = {}
    for key, (name, data) in made.items():
        paths[key] = folder / name
        paths[key].write_bytes(data)
    return paths


def operation_editor(qtbot, window):
    operation_id = find_by_reference(window.db, "operation", REFERENCE)
    editor = window.open_operation(operation_id)
    activate(qtbot, editor)
    editor.tabs.setCurrentWidget(editor.attachments)
    return editor, operation_id


def tab_title(editor) -> str:
    return editor.tabs.tabText(editor.tabs.indexOf(editor.attachments)).replace("&", "")


def shown(tab) -> list[tuple[str, str, str]]:
    """(Rattachée à, Nature, Nom du fichier) of each row, as the table shows them."""
    return [tuple(tab.table.item(row, column).text() for column in (0, 1, 2))
            for row in range(tab.table.rowCount())]


def select_named(tab, name: str) -> int:
    row = next(r for r in range(tab.table.rowCount()) if tab.table.item(r, 2).text() == name)
    tab.table.selectRow(row)
    return row


def add_through_dialog(qtbot, place: str | None = None, kinds: dict | None = None,
                       seen: dict | None = None):
    """Answer the « Joindre » dialog: note the proposed natures, pick the record."""
    def act(dialog):
        assert isinstance(dialog, AddDialog)
        if seen is not None:
            seen.update({path.name: box.currentText()
                         for path, box in zip(dialog.paths, dialog.kinds, strict=True)})
            seen["places"] = [dialog.place.itemText(i) for i in range(dialog.place.count())]
        if place is not None:
            dialog.place.setCurrentIndex(dialog.place.findText(place))
        for path, box in zip(dialog.paths, dialog.kinds, strict=True):
            if kinds and path.name in kinds:
                box.setCurrentIndex(box.findText(kinds[path.name]))
        click(qtbot, dialog.accept_button)
    answer_modal(qtbot, act)


def when_message(act) -> None:
    """Act on the message box once it shows (after work of unknown length)."""
    def look() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            act(box)
        else:
            QTimer.singleShot(50, look)
    QTimer.singleShot(50, look)


def test_guessed_natures_from_the_names():
    assert guess_kind("Convention_signee_CRTE.pdf") == AttachmentKind.SIGNED_CONVENTION
    assert guess_kind("ARRÊTÉ attributif 2025-17.pdf") == AttachmentKind.SIGNED_ORDER
    assert guess_kind("Délib CM 2025-03.pdf") == AttachmentKind.DELIBERATION
    assert guess_kind("Facture du devis 42.pdf") == AttachmentKind.INVOICE
    assert guess_kind("devis-menuiserie.odt") == AttachmentKind.QUOTE
    assert guess_kind("chantier.jpeg") == AttachmentKind.PHOTO
    assert guess_kind("IMG_2210.HEIC") == AttachmentKind.PHOTO
    assert guess_kind("plan.dwg") == AttachmentKind.OTHER  # image/vnd.dwg: a drawing
    # a word inside another is not the word: « convenance » is no convention
    assert guess_kind("lettre de convenance.pdf") == AttachmentKind.OTHER


def test_add_by_button_open_copy_change_and_remove(qtbot, agent, tmp_path, monkeypatch):
    paths = files(tmp_path)
    editor, operation_id = operation_editor(qtbot, agent)
    tab = editor.attachments
    assert tab_title(editor) == "Pièces jointes"
    assert "Aucune pièce jointe" in tab.notice.text()

    asked = {}

    def chosen_files(parent, caption, folder, filters):
        asked.update(caption=caption, parent=parent)
        return [str(paths["scan"]), str(paths["deliberation"])], filters
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(chosen_files))
    seen: dict = {}
    add_through_dialog(qtbot, place="Ligne DETR 2025", seen=seen)
    announced = []
    agent.live.changed.connect(announced.append)
    click(qtbot, tab.add_button)

    assert asked["parent"] is tab and asked["caption"] == "Joindre des fichiers"
    assert seen[LONG_NAME] == "Convention signée"
    assert seen["Délibération du conseil municipal du 12-03-2025.pdf"] == "Délibération"
    assert seen["places"] == ["Opération", "Ligne DETR 2025",
                              "Ligne Département (droit commun) 2025"]
    detr = places_of(agent.db, operation_id=operation_id)[1].owner
    stored = {r.file_name: r for r in attachments_of(agent.db, detr)}
    assert set(stored) == {LONG_NAME, "Délibération du conseil municipal du 12-03-2025.pdf"}
    assert stored[LONG_NAME].sha256 == hashlib.sha256(SCAN).hexdigest()
    assert stored[LONG_NAME].kind == AttachmentKind.SIGNED_CONVENTION
    assert sorted(shown(tab)) == sorted([
        ("Ligne DETR 2025", "Convention signée", LONG_NAME),
        ("Ligne DETR 2025", "Délibération",
         "Délibération du conseil municipal du 12-03-2025.pdf")])
    assert tab_title(editor) == "Pièces jointes (2)"
    assert announced and not announced[-1].complete  # told to the window as a save is
    row = select_named(tab, LONG_NAME)
    assert tab.table.item(row, 3).text() == "750 Ko"
    assert tab.table.item(row, 5).text() == stored[LONG_NAME].added_by

    # Double click: the system viewer gets a file named like the attachment, same bytes.
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url) or True))
    rect = tab.table.visualRect(tab.table.model().index(row, 2))
    # A press first, as a real double click starts (QTest's lone double click never
    # reaches the view's doubleClicked).
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(opened) == 1 and opened[0].isLocalFile()
    viewed = Path(opened[0].toLocalFile())
    assert viewed.name == LONG_NAME
    assert viewed.read_bytes() == SCAN

    # « Enregistrer une copie… » proposes the attachment's own name.
    target = tmp_path / "copie" / "convention.pdf"
    target.parent.mkdir()
    proposed = []

    def save_as(parent, caption, suggested, filters):
        proposed.append(suggested)
        return str(target), filters
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_as))
    click(qtbot, button(tab, "Enregistrer une copie…"))
    assert Path(proposed[0]).name == LONG_NAME
    assert target.read_bytes() == SCAN

    # Nature and note.
    select_named(tab, "Délibération du conseil municipal du 12-03-2025.pdf")

    def change(dialog):
        assert isinstance(dialog, ChangeDialog)
        dialog.kind.setCurrentIndex(dialog.kind.findText("Autre"))
        dialog.notes.setText("Extrait du registre, reçu par courriel")
        dialog.accept()
    answer_modal(qtbot, change)
    click(qtbot, tab.change_button)
    changed = {r.file_name: r for r in attachments_of(agent.db, detr)}
    assert changed["Délibération du conseil municipal du 12-03-2025.pdf"].kind == "autre"
    assert changed["Délibération du conseil municipal du 12-03-2025.pdf"].notes == \
        "Extrait du registre, reçu par courriel"
    assert tab.table.item(tab.table.currentRow(), 6).text() == \
        "Extrait du registre, reçu par courriel"

    # Supprimer: the confirmation names the file; « Non » keeps it, « Oui » removes it.
    select_named(tab, LONG_NAME)
    questions = []

    def answer(reply):
        def act(box):
            assert isinstance(box, QMessageBox)
            questions.append(box.text())
            click(qtbot, box.button(reply))
        return act
    answer_modal(qtbot, answer(QMessageBox.StandardButton.No))
    click(qtbot, tab.remove_button)
    assert len(attachments_of(agent.db, detr)) == 2
    answer_modal(qtbot, answer(QMessageBox.StandardButton.Yes))
    click(qtbot, tab.remove_button)
    assert all(LONG_NAME in q and "tracée dans l'historique" in q for q in questions)
    assert [r.file_name for r in attachments_of(agent.db, detr)] == [
        "Délibération du conseil municipal du 12-03-2025.pdf"]
    assert tab_title(editor) == "Pièces jointes (1)"
    removed = [r for r in record_history(agent.db, "operation", operation_id)
               if r.entity == "attachment" and r.action == "suppression"]
    assert len(removed) == 1 and LONG_NAME in removed[0].record
    assert removed[0].old == "nature : Convention signée ; taille : 750 Ko"
    logged = [r for r in journal(agent.db).rows
              if r.entity == "attachment" and r.action == "suppression"]
    assert [r.target for r in logged] == [("operation", str(operation_id))]
    # The editor's own « Historique » tab says it too, without a save of the editor.
    editor.tabs.setCurrentWidget(editor.history)
    history = editor.history.model
    assert any(r.entity == "attachment" and r.action == "suppression"
               and LONG_NAME in r.record for r in history.rows)
    assert not editor.windowTitle().endswith("*")  # no unsaved change in the editor


def drop(widget, paths: list[Path]) -> bool:
    """What the file manager sends: a drag entering, then the drop, with file URLs."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = QPointF(widget.rect().center())
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_files_dropped_on_the_list_refusals_in_french(qtbot, agent, tmp_path):
    paths = files(tmp_path)
    editor, operation_id = operation_editor(qtbot, agent)
    tab = editor.attachments
    folder = tmp_path / "Un dossier"
    folder.mkdir()
    seen: dict = {}
    add_through_dialog(qtbot, seen=seen, kinds={"IMG_0042.JPG": "Photo"})
    messages = []

    def read_message(box):
        assert isinstance(box, QMessageBox)
        messages.append(box.text())
        box.accept()
    when_message(read_message)
    assert drop(tab.table.viewport(), [paths["devis"], paths["photo"], paths["empty"], folder])
    qtbot.waitUntil(lambda: len(tab.shown) == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT_MS)

    assert seen["DEVIS lot 2 menuiseries.pdf"] == "Devis"
    assert seen["IMG_0042.JPG"] == "Photo"  # by its media type
    rows = {r.file_name: r for r in attachments_of(agent.db, Owner(operation_id=operation_id))}
    assert set(rows) == {"DEVIS lot 2 menuiseries.pdf", "IMG_0042.JPG"}
    assert rows["IMG_0042.JPG"].media_type == "image/jpeg"
    assert ("Opération", "Devis", "DEVIS lot 2 menuiseries.pdf") in shown(tab)
    text = messages[0]
    assert text.startswith("2 fichiers joints ; non joints :")
    assert "« vide.txt » : le fichier est vide (0 octet)" in text
    assert "« Un dossier » : c'est un dossier, pas un fichier" in text
    assert tab_title(editor) == "Pièces jointes (2)"

    # Something else than files (a text dragged from a browser) is not taken.
    mime = QMimeData()
    mime.setText("https://www.example.org/devis.pdf")
    enter = QDragEnterEvent(tab.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab, enter)
    assert not enter.isAccepted()


def test_a_large_file_is_added_off_the_gui_thread(qtbot, agent, tmp_path, monkeypatch):
    editor, operation_id = operation_editor(qtbot, agent)
    tab = editor.attachments
    big = tmp_path / "Dossier complet numérisé.pdf"
    block = hashlib.sha256(b"scan").digest() * 32768  # 1 Mio
    with open(big, "wb") as out:
        for _ in range(MAX_SIZE // len(block)):
            out.write(block)
    threads = []
    real_add = service.add_attachment

    def add_and_note(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_add(*args, **kwargs)
    monkeypatch.setattr("desktop.attachments_tab.add_attachment", add_and_note)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        staticmethod(lambda *a: ([str(big)], "")))
    add_through_dialog(qtbot)
    click(qtbot, tab.add_button)
    assert threads and threads[0] is not threading.main_thread()
    rows = attachments_of(agent.db, Owner(operation_id=operation_id))
    assert [(r.file_name, r.size, r.size_label) for r in rows] == [
        ("Dossier complet numérisé.pdf", MAX_SIZE, "50 Mo")]


def test_an_unsaved_operation_takes_no_file(qtbot, agent, tmp_path):
    paths = files(tmp_path)
    editor = agent.open_operation(None)
    activate(qtbot, editor)
    tab = editor.attachments
    editor.tabs.setCurrentWidget(tab)
    assert tab.notice.text() == ("Enregistrez d'abord l'opération pour y joindre des "
                                 "fichiers.")
    assert not tab.add_button.isEnabled()
    assert not any(b.isEnabled() for b in (tab.open_button, tab.copy_button,
                                           tab.change_button, tab.remove_button))
    assert not drop(tab.table.viewport(), [paths["devis"]])
    assert tab.table.rowCount() == 0
    assert not tab.add_files([paths["devis"]])

    # Saved, it takes files at once.
    editor.tabs.setCurrentIndex(0)
    type_into(qtbot, editor.title, "Aménagement de la place de la mairie")
    choose(qtbot, editor.owner, "Commune de Hautmont")
    qtbot.keySequence(editor, "Ctrl+S")
    assert editor.record_id is not None and not editor.windowTitle().endswith("*")
    assert tab.add_button.isEnabled() and "Aucune pièce jointe" in tab.notice.text()
    add_through_dialog(qtbot)
    assert drop(tab.table.viewport(), [paths["devis"]])
    qtbot.waitUntil(lambda: tab_title(editor) == "Pièces jointes (1)", timeout=WAIT_MS)
    assert [r.file_name for r in attachments_of(agent.db, Owner(
        operation_id=editor.record_id))] == ["DEVIS lot 2 menuiseries.pdf"]


def test_contract_attachments_and_another_agent_s_editor_follows(qtbot, two_agents,  # noqa: F811
                                                                 tmp_path, monkeypatch):
    first, second = two_agents
    paths = files(tmp_path)
    contract_id = find_by_reference(first.db, "contract", "FICTIF-CRTE-591")
    mine = first.open_contract(contract_id)
    theirs = second.open_contract(contract_id)
    activate(qtbot, mine)
    mine.tabs.setCurrentWidget(mine.attachments)
    assert mine.attachments.table.isColumnHidden(0)  # « Rattachée à »: the contract only
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        staticmethod(lambda *a: ([str(paths["scan"])], "")))
    seen: dict = {}
    add_through_dialog(qtbot, seen=seen)
    click(qtbot, mine.attachments.add_button)
    assert seen["places"] == ["Contrat"]
    assert [r.file_name for r in attachments_of(first.db, Owner(contract_id=contract_id))] \
        == [LONG_NAME]
    qtbot.waitUntil(lambda: tab_title(theirs) == "Pièces jointes (1)", timeout=WAIT_MS)
    assert theirs.attachments.table.item(0, 2).text() == LONG_NAME

    # Removed by the other agent: the first one's list follows.
    operation_id = find_by_reference(second.db, "operation", REFERENCE)
    add_attachment(second.db, Owner(operation_id=operation_id), paths["devis"])
    editor = first.open_operation(operation_id)
    assert tab_title(editor) == "Pièces jointes (1)"
    row = attachments_of(second.db, Owner(contract_id=contract_id))[0]
    service.remove_attachment(second.db, row.id, row.version)
    qtbot.waitUntil(lambda: tab_title(mine) == "Pièces jointes", timeout=WAIT_MS)


def test_the_tab_with_long_names_as_a_picture(qtbot, agent, tmp_path):
    paths = files(tmp_path)
    operation_id = find_by_reference(agent.db, "operation", REFERENCE)
    places = places_of(agent.db, operation_id=operation_id)
    for index, key in enumerate(("scan", "deliberation", "devis", "photo")):
        add_attachment(agent.db, places[index % len(places)].owner, paths[key],
                       kind=guess_kind(paths[key].name),
                       notes="Transmis par la commune le 14 mars" if key == "devis" else None)
    editor, _ = operation_editor(qtbot, agent)
    tab = editor.attachments
    assert tab_title(editor) == "Pièces jointes (4)"
    picture = tmp_path / "pieces-jointes.png"
    assert editor.grab().save(str(picture))
    row = select_named(tab, LONG_NAME)
    cell = tab.table.item(row, 2)
    assert cell.toolTip() == LONG_NAME  # the whole name, where the cell elides it
    width = tab.table.columnWidth(2)
    assert tab.table.fontMetrics().horizontalAdvance(LONG_NAME) > width > 200


def test_a_missing_content_is_said_when_opening(qtbot, agent, tmp_path, monkeypatch):
    from sqlalchemy import update

    from db.attachments.store import content_path, folder_of
    from db.models import AttachmentContent

    paths = files(tmp_path)
    editor, operation_id = operation_editor(qtbot, agent)
    add_attachment(agent.db, Owner(operation_id=operation_id), paths["devis"])
    editor.attachments.reload()
    sha256 = attachments_of(agent.db, Owner(operation_id=operation_id))[0].sha256
    folder = folder_of(agent.db)
    if folder is not None:  # a store folder restored without this file
        lost = content_path(folder, sha256)
        lost.chmod(0o644)
        lost.unlink()
    else:
        with agent.db.write() as session:
            session.execute(update(AttachmentContent).where(
                AttachmentContent.sha256 == sha256).values(data=None))
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url) or True))
    select_named(editor.attachments, "DEVIS lot 2 menuiseries.pdf")
    messages = []
    when_message(lambda box: (messages.append(box.text()), box.accept()))
    click(qtbot, editor.attachments.open_button)
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT_MS)
    assert opened == []
    assert messages[0].startswith("Pièce jointe « DEVIS lot 2 menuiseries.pdf » : son ")
    assert ("dossier des pièces jointes" if folder is not None else "manque dans la base") \
        in messages[0]
