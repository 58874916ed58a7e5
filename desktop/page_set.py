"""The pages of the navigation, each built the first time it is shown or asked for.

Building every page up front cost a start-up of more than a second on a large base
(six list pages, their filter boxes, the reports): only the page the agent sees is
built before the window paints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from PySide6.QtWidgets import QStackedWidget, QWidget


class NavigationPage(QWidget):
    """A page of the navigation: the window marks it stale when the base changes
    (desktop.live_refresh) and it reloads when next shown; it defines ``reload``."""

    _stale = True

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        if self._stale:
            self.reload()
        super().showEvent(event)

    def mark_stale(self) -> None:
        self._stale = True

    def reload(self) -> None:
        raise NotImplementedError


class PageSet(Mapping[str, QWidget]):
    """A mapping key → page over a stack of placeholders, built on first access."""

    def __init__(self, stack: QStackedWidget, factories: dict[str, Callable[[], QWidget]],
                 on_built: Callable[[str, QWidget], None]) -> None:
        self._stack = stack
        self._factories = factories
        self._on_built = on_built
        self._keys = list(factories)
        self._built: dict[str, QWidget] = {}
        for _key in self._keys:
            stack.addWidget(QWidget())

    def __getitem__(self, key: str) -> QWidget:
        page = self._built.get(key)
        if page is None:
            page = self._factories[key]()  # KeyError for an unknown page, as a dict
            index = self._keys.index(key)
            placeholder = self._stack.widget(index)
            was_current = self._stack.currentIndex() == index
            self._stack.insertWidget(index, page)
            self._stack.removeWidget(placeholder)
            placeholder.deleteLater()
            if was_current:
                self._stack.setCurrentIndex(index)
            self._built[key] = page
            self._on_built(key, page)
        return page

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def replace_factories(self, factories: dict[str, Callable[[], QWidget]]) -> None:
        """How to build the pages not built yet (e.g. for another arrondissement)."""
        self._factories = factories

    def built(self) -> list[QWidget]:
        """The pages built so far (the others will be built up to date)."""
        return list(self._built.values())

    def show(self, key: str) -> QWidget:
        page = self[key]
        self._stack.setCurrentWidget(page)
        return page

    def clear(self) -> None:
        """Remove every page (built or not) from the stack."""
        while self._stack.count():
            widget = self._stack.widget(0)
            self._stack.removeWidget(widget)
            widget.deleteLater()
        self._built.clear()
