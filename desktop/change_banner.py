"""The banner an open editor shows when someone else has just saved or deleted its
record (desktop.live_refresh finds out, the editor says so before the agent types
over it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

NOTICE_MS = 12000  # a silent reload is told for a while, then the banner goes
WARNING_STYLE = ("QFrame#changeBanner { background: #fff4ce; border: 1px solid #e0c860; }"
                 " QLabel { color: #4a3b00; }")
NOTICE_STYLE = ("QFrame#changeBanner { background: #e8edff; border: 1px solid #b8c2f0; }"
                " QLabel { color: #000091; }")
# How each editor names its record: (« Cette opération », agreement of the participle).
NOUNS = {"operation": ("Cette opération", "e"), "contract": ("Ce contrat", ""),
         "organisation": ("Cette organisation", "e")}


@dataclass(frozen=True)
class ExternalChange:
    """Someone else's write to the record an editor shows."""

    entity: str
    login: str | None
    at: datetime | None
    deleted: bool = False
    version: int | None = None  # the version now in the base (None once deleted)


def when(at: datetime | None) -> str:
    """« à 10 h 42 », in the agent's local time."""
    if at is None:
        return ""
    local = at.astimezone()
    return f" à {local.hour} h {local.minute:02d}"


def sentence(change: ExternalChange) -> str:
    noun, agreement = NOUNS.get(change.entity, ("Cette fiche", "e"))
    verb = "supprimé" if change.deleted else "modifié"
    who = f" par {change.login}" if change.login else ""
    return f"{noun} vient d'être {verb}{agreement}{who}{when(change.at)}."


class ChangeBanner(QFrame):
    """Placed at the top of an editor; hidden until a change is announced."""

    def __init__(self, editor: QWidget) -> None:
        super().__init__(editor)
        self.editor = editor
        self.setObjectName("changeBanner")
        self.setAccessibleName("Modification par un autre agent")
        self.change: ExternalChange | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.reload_button = QPushButton("Recharger")
        self.reload_button.setToolTip("Afficher la fiche telle qu'elle est enregistrée "
                                      "(votre saisie non enregistrée est perdue)")
        self.keep_button = QPushButton("Garder ma saisie")
        self.keep_button.setToolTip("Continuer : à l'enregistrement, les différences vous "
                                    "seront montrées avant d'écraser quoi que ce soit")
        self.close_button = QPushButton("Fermer la fiche")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label, 1)
        for button in (self.reload_button, self.keep_button, self.close_button):
            button.setAutoDefault(False)
            layout.addWidget(button)
        self.reload_button.clicked.connect(self._reload)
        self.keep_button.clicked.connect(self.hide)
        self.close_button.clicked.connect(self._close_editor)
        self._timer = QTimer(self, singleShot=True, interval=NOTICE_MS, timeout=self.hide)
        self.hide()

    def warn(self, change: ExternalChange) -> None:
        """The agent has typed something: say it, let the agent choose."""
        self._show(change, WARNING_STYLE, sentence(change) + (
            "" if change.deleted else " Votre saisie n'est pas encore enregistrée."))
        self.reload_button.setVisible(not change.deleted)
        self.close_button.setVisible(change.deleted)
        self.keep_button.setVisible(True)

    def notify(self, change: ExternalChange) -> None:
        """Nothing typed: the editor reloaded already, the banner only tells it."""
        self._show(change, NOTICE_STYLE, sentence(change) + " La fiche a été rechargée.")
        for button in (self.reload_button, self.keep_button, self.close_button):
            button.hide()
        self._timer.start()

    def _show(self, change: ExternalChange, style: str, text: str) -> None:
        self._timer.stop()
        self.change = change
        self.setStyleSheet(style)
        self.label.setText(text)
        self.setAccessibleDescription(text)
        self.show()

    def _reload(self) -> None:
        self.editor.load(self.editor.reload_from_database())
        self.hide()

    def _close_editor(self) -> None:
        self.hide()
        self.editor.discard_and_close()


def banner_of(editor: QWidget) -> ChangeBanner:
    """The editor's banner, made and placed at its top the first time."""
    banner = editor.findChild(ChangeBanner)
    if banner is None:
        banner = ChangeBanner(editor)
        editor.layout().insertWidget(0, banner)
    return banner


def announce(editor, change: ExternalChange) -> None:
    """Tell *editor* that its record changed: reload it if nothing was typed, warn
    otherwise (the conflict dialog still guards the save)."""
    banner = banner_of(editor)
    if change.deleted or editor.is_dirty():
        banner.warn(change)
        return
    editor.load(editor.reload_from_database())
    banner.notify(change)
