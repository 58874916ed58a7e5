"""The import dialog (Fichier › Importer un tableau) on a Démarches numériques export of
200 dossiers, then on a later export of the same démarche."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from db.formatting import euros
from db.models import DemarchesDossier, FundingLine, Operation
from tests import demarches_fixtures as fx

SHOTS = Path("/tmp/demarches-shots")


def cents(value: float):
    from decimal import Decimal

    return Decimal(str(value)).quantize(Decimal("0.01"))


def _acknowledge_later(qtbot) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def acknowledge():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            acknowledge.text = box.text()
            box.accept()
        else:
            QTimer.singleShot(100, acknowledge)
    acknowledge.text = ""
    QTimer.singleShot(200, acknowledge)
    return acknowledge


def test_dialog_previews_dossiers_then_the_changes_of_a_later_export(
        qtbot, demo_db, monkeypatch, tmp_path):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application()
    window = MainWindow(demo_db)
    qtbot.addWidget(window)
    window.show()
    first = fx.dossiers(200)
    path = fx.export(tmp_path, "xlsx", first)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    window.import_action.trigger()
    dialog = next(w for w in window.findChildren(object)
                  if type(w).__name__ == "ImportDialog")
    model = dialog.rows.model()

    def fates() -> list[tuple[str, str, str, str]]:
        return [tuple(model.index(r, c).data() for c in range(4))
                for r in range(model.rowCount())]
    new = [f for f in fates() if f[1] == "nouveau"]
    assert len(new) == 200
    assert ("2", "nouveau", f"DN-{first[0].number}", first[0].title) in new
    assert "200 nouveau(x)" in dialog.summary.text()
    assert dialog.columns["requested:DETR"].currentText() == "Montant DETR sollicité"
    assert dialog.columns["title"].currentText() == "Intitulé du projet"
    assert not dialog.sheet.isEnabled()
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "import-demarches-200.png"))

    told = _acknowledge_later(qtbot)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert "200 dossier(s) créé(s), 0 mis à jour" in told.text
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.reference.like("DN-%"))) == 200
        assert session.scalar(select(func.count()).select_from(DemarchesDossier)) == 200

    second = fx.later(first)
    later_path = fx.export(tmp_path, "ods", second, fx.LATER_STEM)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(later_path), "")))
    dialog = window.import_sheet()
    model = dialog.rows.model()
    assert "1 nouveau(x)" in dialog.summary.text()
    assert "3 mis à jour" in dialog.summary.text()
    assert "197 inchangé(s)" in dialog.summary.text()
    # The agent shows only the dossiers the export changes.
    dialog.shown.setCurrentIndex(dialog.shown.findText("Dossiers mis à jour"))
    shown = fates()
    assert len(shown) > 3  # one line per change
    assert {f[2] for f in shown} == {f"DN-{first[i].number}" for i in (0, 1, 2)}
    accepted = [f[3] for f in shown if f[2] == f"DN-{first[1].number}"]
    assert "état du dossier : En instruction → Accepté" in accepted
    assert f"DETR accordé : vide → {euros(cents(second[1].granted_detr))}" in accepted
    dialog.grab().save(str(SHOTS / "import-demarches-mise-a-jour.png"))
    assert "Importer 1 nouveau(x), 3 mise(s) à jour" in dialog.import_button.text().replace(
        "&", "")
    told = _acknowledge_later(qtbot)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert "1 dossier(s) créé(s), 3 mis à jour" in told.text
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.reference.like("DN-%"))) == 201
        status = session.scalar(select(FundingLine.status).join(Operation).where(
            Operation.reference == f"DN-{first[2].number}", FundingLine.scheme_code == "DETR"))
    assert status == "refuse"

    # Fichier › Annuler un import…: the new dossier removed, the three put back.
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    asked = []

    def confirm():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(100, confirm)
            return
        asked.append(box.text())
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes),
                         Qt.MouseButton.LeftButton)
    QTimer.singleShot(200, confirm)
    assert window.undo_import() == 4
    assert "retirer les 1 opération(s) créée(s) et remettre les 3 opération(s)" in asked[0]
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.reference.like("DN-%"))) == 200
        status = session.scalar(select(FundingLine.status).join(Operation).where(
            Operation.reference == f"DN-{first[2].number}", FundingLine.scheme_code == "DETR"))
    assert status == "sollicite"
