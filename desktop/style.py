"""A sober look, close to the French State's design system (bleu France #000091).

The style sheet is set on the main window's central area only: a style sheet makes
Qt polish every widget beneath it the slow way, and the editors hold hundreds of
field widgets (an editor opened 3x slower under an application-wide sheet). The
editors get their colours from the palette instead.
"""

from PySide6.QtGui import QColor, QPalette

STYLESHEET = """
QListWidget#navigation {
    background: #f6f6f6; border: none; border-right: 1px solid #dddddd;
    font-size: 11pt; padding-top: 8px; outline: 0;
}
QListWidget#navigation::item { padding: 9px 14px; color: #161616; }
QListWidget#navigation::item:selected {
    background: #e3e3fd; color: #000091; border-left: 4px solid #000091;
}
QLabel#pageTitle { font-size: 16pt; font-weight: 600; color: #000091; padding: 4px 0 8px 0; }
QLabel#listFooter { color: #3a3a3a; padding: 6px 2px; }
QTableView {
    gridline-color: #e5e5e5; selection-background-color: #000091;
    selection-color: #ffffff; alternate-background-color: #f6f6f6; border: 1px solid #dddddd;
}
QHeaderView::section {
    background: #eeeeee; padding: 5px 6px; border: none;
    border-right: 1px solid #dddddd; border-bottom: 1px solid #cecece; font-weight: 600;
}
"""
TOOLBAR = "QToolBar { background: #ffffff; border-bottom: 1px solid #dddddd; spacing: 6px; }"
STATUSBAR = "QStatusBar { background: #f6f6f6; color: #3a3a3a; }"


def editor_palette(palette: QPalette) -> QPalette:
    """Selected rows stay readable around the field widgets of the editors' tables."""
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#e3e3fd"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#161616"))
    return palette
