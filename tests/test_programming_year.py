"""Issue 12's « Done when », end to end on the real widgets of the main window over the
demo base: an agent imports the dossiers of the year from a Démarches numériques
export, creates the DETR 2026 envelope of the arrondissement, simulates the
programmation against it, exports it for the commission, applies it, and then sees on
the Échéances page every deadline of the dossiers retained — first the notification to
enter, then, once it is entered in the operation, the start of the works before the
caducité (two years after the notification, CGCT art. R2334-28).

Every figure is checked against the database with plain SQL, or against the test's own
data (what the export holds, what the agent typed), never against the code's output."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox
from sqlalchemy import text

from desktop import deadline_notice
from tests import demarches_fixtures as fx
from tests.test_deadlines_gui import _choose, _shown, _wait
from tests.test_editors import activate, type_into
from tests.test_programming_gui import _type_in, envelopes_page, euro, row_of

TODAY = date(2026, 3, 23)  # the Monday after the commission
DECISION = date(2026, 3, 20)
ENVELOPE = D("2400000.00")
STEM = "dossiers_dotations-detr-dsil-2026-nord_2026-02-02_10-00"
REFUSED, POSTPONED = 4, 11  # the dossiers the commission does not retain
SHOTS = Path("/tmp/programming-year-shots")


def year_dossiers() -> list[fx.Dossier]:
    """Twelve DETR 2026 dossiers of communes of arrondissement 591, all under
    instruction (the decision is the programmation's)."""
    found = []
    for index, d in enumerate(fx.dossiers(12)):
        deposited = datetime(2025, 11, 3, 9, 0) + timedelta(days=index * 3)
        department = round(d.cost * 0.2, 2)
        found.append(replace(
            d, dsil=0.0, state="en_instruction", deposited=deposited,
            instructed=deposited + timedelta(days=20), processed=None, granted_detr=0.0,
            granted_dsil=0.0, motivation="", start="2026-09-01", end="2027-12-31",
            cofinancing=[("DETR", d.detr), ("Département du Nord", department),
                         ("Autofinancement", round(d.cost - d.detr - department, 2))]))
    return found


def cents(value: float) -> D:
    return D(str(value)).quantize(D("0.01"))


def typed(amount: D) -> str:
    """« 283 200,00 », as the agent types an amount."""
    units, decimals = f"{amount:.2f}".split(".")
    return f"{int(units):,}".replace(",", " ") + f",{decimals}"


def sql(db, query: str, **values):
    with db.engine.connect() as connection:
        return connection.execute(text(query), values).all()


# The DETR 2026 lines of the arrondissement's communes (the dossiers imported).
LINES = """
SELECT o.reference, fl.status, fl.amount_requested_cents, fl.amount_granted_cents,
       fl.decision_date, fl.notification_date
FROM funding_line fl JOIN operation o ON o.id = fl.operation_id
WHERE fl.scheme_code = 'DETR' AND fl.budget_year = 2026 AND fl.operation_id IN (
    SELECT oc.operation_id FROM operation_commune oc JOIN commune c ON c.code = oc.commune_code
    WHERE c.arrondissement_code = '591')
ORDER BY o.reference
"""


def lines(db) -> dict[str, tuple]:
    return {reference: rest for reference, *rest in sql(db, LINES)}


def when_modal(act, tries: int = 200) -> None:
    """*act* on the next modal window (a message box, an input dialog) once it shows
    (within ten seconds)."""
    def wait(left: int = tries):
        box = QApplication.activeModalWidget()
        if box is not None:
            act(box)
        elif left:
            QTimer.singleShot(50, lambda: wait(left - 1))
    QTimer.singleShot(100, wait)


def deadlines_page(qtbot, window):
    item = window.navigation.findItems("Échéances", Qt.MatchFlag.MatchExactly)[0]
    qtbot.mouseClick(window.navigation.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.navigation.visualItemRect(item).center())
    page = window.pages["deadlines"]
    _wait(qtbot, page)
    return page


def test_a_year_of_programmation_from_the_export_to_the_deadlines(
        qtbot, window, demo_db, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(deadline_notice, "today", lambda: TODAY)
    SHOTS.mkdir(exist_ok=True)
    dossiers = year_dossiers()
    references = [f"DN-{d.number}" for d in dossiers]
    requested = {f"DN-{d.number}": cents(d.detr) for d in dossiers}

    # 1. The Démarches numériques export, through Fichier › Importer un tableau.
    export = fx.export(tmp_path, "xlsx", dossiers, STEM)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(export), "")))
    window.import_action.trigger()
    dialog = next(w for w in window.findChildren(object) if type(w).__name__ == "ImportDialog")
    assert "12 nouveau(x)" in dialog.summary.text()
    told = []
    when_modal(lambda box: (told.append(box.text()), box.accept()))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert "12 dossier(s) créé(s), 0 mis à jour" in told[0]
    imported = lines(demo_db)
    assert sorted(imported) == sorted(references)
    assert {ref: (status, D(asked) / 100) for ref, (status, asked, *_r) in imported.items()} \
        == {ref: ("sollicite", amount) for ref, amount in requested.items()}
    # The form's forecast dates are not the start and end of the works (else no caducité
    # would ever be watched, and a solde would be expected after the forecast end).
    assert sql(demo_db, "SELECT COUNT(*) FROM operation WHERE reference LIKE 'DN-%' "
                        "AND (start_date IS NOT NULL OR end_date IS NOT NULL)") == [(0,)]

    # 2. The DETR 2026 envelope of the arrondissement, typed in its dialog.
    page = envelopes_page(qtbot, window)
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    dialog = next(w for w in QApplication.topLevelWidgets()
                  if type(w).__name__ == "EnvelopeDialog" and w.isVisible())
    dialog.year.lineEdit().selectAll()
    qtbot.keyClicks(dialog.year, "2026")
    qtbot.mouseClick(dialog.by_arrondissement, Qt.MouseButton.LeftButton)
    dialog.arrondissement.setCurrentIndex(dialog.arrondissement.findData("591"))
    dialog.scheme.setCurrentIndex(dialog.scheme.findData("DETR"))
    qtbot.keyClicks(dialog.amount, typed(ENVELOPE))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible(), dialog.error.text()
    assert sql(demo_db, "SELECT scheme_code, year, amount_cents FROM envelope "
                        "WHERE arrondissement_code = '591' AND year = 2026") == [
        ("DETR", 2026, 240_000_000)]
    assert page.year.currentText() == "2026"
    row = row_of(page, "Arrondissement d'Avesnes-sur-Helpe")
    assert page.model.index(row, 5).data() == euro(sum(requested.values()))  # demandé
    assert page.model.index(row, 9).data() == "12"  # dossiers

    # 3. A new simulation: amounts proposed, one refused, one postponed.
    page.table.selectRow(row)
    qtbot.mouseClick(page.simulations_button, Qt.MouseButton.LeftButton)
    editor = page.editors[-1]
    qtbot.addWidget(editor)
    when_modal(lambda box: (box.setTextValue("Commission du 20 mars 2026"), box.accept())
               if isinstance(box, QInputDialog) else None)
    qtbot.mouseClick(editor.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.view is not None
                    and editor.view.name == "Commission du 20 mars 2026")
    assert [r.reference for r in editor.model.rows] == sorted(references)
    type_into(qtbot, editor.decision.line, DECISION.strftime("%d/%m/%Y"))
    proposed: dict[str, D] = {}
    for number, candidate in enumerate(editor.model.rows):
        index = references.index(candidate.reference)
        if index in (REFUSED, POSTPONED):
            continue
        # 80 % of the request, to the hundred euros below.
        amount = D(int(requested[candidate.reference] * 8 / 10) // 100 * 100)
        _type_in(qtbot, editor.table, number, 5, typed(amount))
        proposed[candidate.reference] = amount
    for index, label in ((REFUSED, "Refusé"), (POSTPONED, "Ajourné")):
        choose_status(qtbot, editor, references[index], label)
    retained = sum(proposed.values())
    assert len(proposed) == 10 and retained < ENVELOPE
    totals = editor.totals.text()
    assert totals.startswith(f"Enveloppe {euro(ENVELOPE)} — programmé {euro(retained)} "
                             f"(dont retenu dans la simulation {euro(retained)}) — "
                             f"reste à attribuer {euro(ENVELOPE - retained)} — "
                             f"demandé {euro(sum(requested.values()))}"), totals
    assert totals.endswith("10 retenus, 1 refusé, 1 ajourné, 0 à examiner"), totals
    editor.grab().save(str(SHOTS / "simulation.png"))

    # 4. The commission's workbook and PDF, read back.
    above = sorted(ref for ref in references if references.index(ref) != REFUSED
                   and proposed.get(ref, requested[ref]) > D("100000.00"))
    assert above and len(above) < 11
    workbook = export_simulation(monkeypatch, editor, tmp_path / "commission.xlsx")
    check_workbook(workbook, proposed, above, references)
    pdf = export_simulation(monkeypatch, editor, tmp_path / "commission.pdf")
    check_pdf(pdf, proposed, above, references)

    # 5. Applied: the funding lines granted (or refused) on the decision date.
    qtbot.mouseClick(editor.apply_button, Qt.MouseButton.LeftButton)
    assert editor.message.text().startswith("Simulation appliquée : 11 financement(s)")
    after = lines(demo_db)
    for reference in references:
        status, _asked, granted, decided, notified = after[reference]
        if reference in proposed:
            assert (status, granted, decided, notified) == (
                "accorde", int(proposed[reference] * 100), DECISION.isoformat(), None)
        elif references.index(reference) == REFUSED:
            assert (status, granted, decided) == ("refuse", None, DECISION.isoformat())
        else:
            assert (status, granted, decided) == ("sollicite", None, None)
    [(total,)] = sql(demo_db, "SELECT SUM(amount_granted_cents) FROM funding_line "
                              "WHERE scheme_code = 'DETR' AND budget_year = 2026 "
                              "AND status = 'accorde'")
    assert D(total) / 100 == retained
    page.reload()
    row = row_of(page, "Arrondissement d'Avesnes-sur-Helpe")
    assert page.model.index(row, 6).data() == euro(retained)  # programmé
    assert page.model.index(row, 7).data() == euro(ENVELOPE - retained)  # reste
    editor.close()

    # 6. The Échéances page: each retained dossier's notification to enter, late since
    # the decision; nothing for the refused and the postponed ones.
    deadlines = deadlines_page(qtbot, window)
    _choose(qtbot, deadlines.horizon, "Tout")
    assert deadlines.horizon.currentText() == "Tout"
    _choose(qtbot, deadlines.kind, "Notif")
    assert deadlines.kind.currentText() == "Notification à enregistrer"
    shown = [r for r in _shown(deadlines) if r[3].startswith("DN-")]
    assert sorted(shown) == sorted(("20/03/2026", "en retard de 3 jours",
                                    "Notification à enregistrer", ref) for ref in proposed)
    deadlines.grab().save(str(SHOTS / "echeances-notifications.png"))

    # 7. The notification entered in each operation's DETR line: the caducité comes.
    notified = {ref: date(2026, 3, 24) + timedelta(days=n)
                for n, ref in enumerate(sorted(proposed))}
    for reference, day in notified.items():
        enter_notification(qtbot, monkeypatch, window, demo_db, reference, day)
    assert {ref: rest[4] for ref, rest in lines(demo_db).items() if ref in proposed} == {
        ref: day.isoformat() for ref, day in notified.items()}
    _choose(qtbot, deadlines.kind, "D")
    assert deadlines.kind.currentText() == "Début des travaux avant caducité"
    shown = [r for r in _shown(deadlines) if r[3].startswith("DN-")]
    # Two years after the notification, the same day (none is a 29 February).
    expected = {ref: date(day.year + 2, day.month, day.day) for ref, day in notified.items()}
    assert sorted(shown) == sorted(
        (due.strftime("%d/%m/%Y"), f"dans {(due - TODAY).days} jours",
         "Début des travaux avant caducité", ref) for ref, due in expected.items())
    deadlines.grab().save(str(SHOTS / "echeances-caducite.png"))
    _choose(qtbot, deadlines.kind, "Notif")
    assert not [r for r in _shown(deadlines) if r[3].startswith("DN-")]


def choose_status(qtbot, editor, reference: str, label: str) -> None:
    from PySide6.QtWidgets import QAbstractItemView, QComboBox

    number = [r.reference for r in editor.model.rows].index(reference)
    rect = editor.table.visualRect(editor.model.index(number, 7))
    qtbot.mouseClick(editor.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(editor.table, Qt.Key.Key_F2)
    box = [b for b in editor.table.viewport().findChildren(QComboBox) if b.isVisible()][0]
    box.setCurrentIndex(box.findText(label))
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.table.state() != QAbstractItemView.State.EditingState)
    assert editor.model.index(number, 7).data() == label


def export_simulation(monkeypatch, editor, path: Path) -> Path:
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    button = editor.export_xlsx_button if path.suffix == ".xlsx" else editor.export_pdf_button
    button.click()
    assert editor.message.text() == f"Exporté : {path}"
    return path


def check_workbook(path: Path, proposed: dict[str, D], above: list[str],
                   references: list[str]) -> None:
    import pandas as pd

    sheets = pd.read_excel(path, sheet_name=None, header=2, engine="calamine")
    assert list(sheets) == ["Programmation", "Autres dossiers", "Avis de la commission"]
    programmation = sheets["Programmation"]
    rows = programmation[programmation["Référence"].notna()]
    assert sorted(rows["Référence"]) == sorted(proposed)
    assert {r: round(D(str(v)), 2) for r, v in zip(rows["Référence"], rows["Proposé"],
                                                  strict=True)} == proposed
    total = programmation[programmation["Catégorie prioritaire"].astype(str).str.startswith(
        "Total de la programmation")]
    assert round(D(str(total["Proposé"].iloc[0])), 2) == sum(proposed.values())
    others = sheets["Autres dossiers"]
    assert dict(zip(others["Référence"], others["Statut provisoire"], strict=True)) == {
        references[REFUSED]: "Refusé", references[POSTPONED]: "Ajourné"}
    assert sorted(sheets["Avis de la commission"]["Référence"]) == above


def check_pdf(path: Path, proposed: dict[str, D], above: list[str],
              references: list[str]) -> None:
    words = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                           text=True, check=True).stdout
    programme, rest = words.split("Dossiers non retenus", 1)
    others, opinion = rest.split("Dossiers soumis à l'avis de la commission", 1)
    assert "Programmation DETR 2026 — Arrondissement d'Avesnes-sur-Helpe" in programme
    assert "décision du 20 mars 2026" in programme
    assert sorted(ref for ref in references if ref in programme) == sorted(proposed)
    for amount in proposed.values():
        assert euro(amount).replace("\u202f", " ").replace("\xa0", " ") in \
            programme.replace("\u202f", " ").replace("\xa0", " ")
    assert sorted(ref for ref in references if ref in others) == sorted(
        [references[REFUSED], references[POSTPONED]])
    assert sorted(ref for ref in references if ref in opinion) == above
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path),
                    str(SHOTS / "commission")], check=True)


def enter_notification(qtbot, monkeypatch, window, db, reference: str, day: date) -> None:
    """Opens the operation, selects its DETR line, types its notification date, saves."""
    [(operation_id,)] = sql(db, "SELECT id FROM operation WHERE reference = :r", r=reference)
    import uuid

    editor = window.open_operation(uuid.UUID(str(operation_id)))
    activate(qtbot, editor)
    editor.tabs.setCurrentIndex(2)
    schemes = [editor.lines.item(row, 1) for row in range(editor.lines.rowCount())]
    detr = [row for row in range(editor.lines.rowCount())
            if (editor.lines.cellWidget(row, 1) is not None
                and editor.lines.cellWidget(row, 1).currentText() == "DETR")
            or (schemes[row] is not None and schemes[row].text() == "DETR")]
    assert len(detr) == 1, reference
    editor.lines.setCurrentCell(detr[0], 0)
    assert "DETR" in editor.decision_box.title()
    type_into(qtbot, editor.decision["notification_date"].line, day.strftime("%d/%m/%Y"))
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    qtbot.keySequence(editor, "Ctrl+S")
    assert not warned, warned
    assert not editor.isWindowModified() and not editor.windowTitle().endswith("*")
    editor.close()
