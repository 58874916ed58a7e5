"""Fichier › Classer des documents numérisés… driven as the agent does: files chosen
(only the file dialog is replaced) or dropped, filed in a worker thread, report shown,
operation opened by a double click."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from db.models import Act
from desktop.operation_editor import OperationEditor
from desktop.scans_dialog import ScansDialog
from tests.scan_helpers import funding_lines, make_act, rasterise, scan_pdf, smudged


def _signed(db, act_id):
    with db.read() as session:
        return session.get(Act, act_id).signed_on


def test_scans_chosen_in_the_menu_are_filed_and_reported(qtbot, window, tmp_path,
                                                         monkeypatch):
    db = window.db
    (line_a, ref_a), (line_b, ref_b) = funding_lines(db, 2)
    award = make_act(db, line_a, ref_a, pages=2)
    letter = make_act(db, line_b, ref_b, "notification", pages=1)
    pages = rasterise(award.pdf, 150) + [smudged(rasterise(letter.pdf, 150)[0])]
    first = scan_pdf(tmp_path / "arrêtés signés.pdf", pages, 150)
    second = scan_pdf(tmp_path / "lettre.pdf", rasterise(letter.pdf, 200), 200)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *args, **kwargs: ([str(first)], "PDF"))
    announced = []
    window.live.changed.connect(announced.append)

    window.scans_action.trigger()
    dialog = window.findChild(ScansDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.date_edit.setDate(date(2026, 4, 14))
    qtbot.mouseClick(dialog.choose_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.filed.topLevelItemCount() == 1)

    row = dialog.filed.topLevelItem(0)
    assert [row.text(c) for c in range(4)] == [ref_a, "Arrêté attributif",
                                               "arrêtés signés.pdf", "1, 2"]
    assert row.text(4) == "signé le 14/04/2026"
    unread = dialog.unread.topLevelItem(0)
    assert [unread.text(c) for c in range(3)] == ["arrêtés signés.pdf", "3",
                                                  "QR code illisible ou absent"]
    assert "3 pages lues, 1 acte classé" in dialog.summary.text()
    assert _signed(db, award.act_id) == date(2026, 4, 14)
    assert announced, "the lists are told the base changed"
    assert not dialog.open_button.isEnabled()
    dialog.unread.setCurrentItem(unread)
    assert dialog.open_button.isEnabled()
    dialog.grab().save(str(tmp_path / "classement.png"))

    # The letter scanned again on its own, dropped on the dialog.
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(second))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    dialog.dropEvent(drop)
    qtbot.waitUntil(lambda: dialog.filed.topLevelItemCount() == 2)
    assert dialog.filed.topLevelItem(1).text(1) == "Lettre de notification"
    assert _signed(db, letter.act_id) == date(2026, 4, 14)

    dialog.filed.itemDoubleClicked.emit(row, 0)
    editors = [e for e in window.editors if isinstance(e, OperationEditor)]
    assert [e.record_id for e in editors] == [_operation_of(db, line_a)]
    assert editors[0].isVisible()


def _operation_of(db, line_id):
    from db.models import FundingLine

    with db.read() as session:
        return session.get(FundingLine, line_id).operation_id


def test_signed_scans_dropped_on_the_window_are_filed(qtbot, window, tmp_path):
    """The « done when » gesture: the signed scans dropped on the main window."""
    demo_db = window.db
    (line_id, reference), = funding_lines(demo_db, 1)
    act = make_act(demo_db, line_id, reference)
    scan = tmp_path / "retour signé.pdf"
    scan.write_bytes(act.pdf)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(scan)), QUrl.fromLocalFile(str(tmp_path / "x.txt"))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    text_only = QMimeData()
    text_only.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    refused = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, text_only,
                              Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    refused.ignore()
    window.dragEnterEvent(refused)
    assert not refused.isAccepted()
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    dialogs = window.findChildren(ScansDialog)
    assert len(dialogs) == 1
    qtbot.waitUntil(lambda: dialogs[0].filed.topLevelItemCount() == 1, timeout=20000)
    assert dialogs[0].filed.topLevelItem(0).text(0) == reference
    assert _signed(demo_db, act.act_id) == date.today()
