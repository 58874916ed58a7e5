"""Consultation mode: a base that cannot be written here (db.database opens it read-only)
is shown with a banner saying why, and every action that would write is disabled, so the
agent never types something that cannot be saved."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

# The main window's actions that write to the base (or to its settings in it).
WRITE_ACTIONS = ("new_action", "delete_action", "import_action", "undo_import_action",
                 "scans_action", "checkout_action", "checkin_action", "conflicts_action",
                 "restore_action", "arrondissement_action", "office_action",
                 "templates_action")

BANNER_STYLE = ("QLabel { background: #fff4ce; color: #3b2f00; padding: 6px 10px; "
                "border-bottom: 1px solid #d8c36a; }")


def banner_text(db) -> str:
    return (f"Base ouverte en lecture seule : {db.read_only_reason}. Consultation "
            "seulement : rien ne peut être créé, modifié ni supprimé. Copiez la base dans "
            "un dossier accessible en écriture pour la modifier.")


def make_banner() -> QLabel:
    banner = QLabel()
    banner.setObjectName("readOnlyBanner")
    banner.setWordWrap(True)
    banner.setAccessibleName("Base en lecture seule")
    banner.setStyleSheet(BANNER_STYLE)
    banner.hide()
    return banner


def apply(window) -> None:
    """Show or hide the banner and disable the write actions of *window* (a MainWindow)
    according to its base; called after anything that re-enables actions."""
    read_only = bool(getattr(window.db, "read_only", False))
    window.read_only_banner.setVisible(read_only)
    window.read_only_banner.setText(banner_text(window.db) if read_only else "")
    if not read_only:
        return
    for name in WRITE_ACTIONS:
        action = getattr(window, name, None)
        if action is not None:
            action.setEnabled(False)
            action.setToolTip("Base ouverte en lecture seule : consultation seulement")
