"""Showing a panel: live widgets with a front end, the same engine results as static output without.

A notebook run by papermill or nbval has no browser to draw widgets; with ``interactive=False``
each panel shows what it computed for its starting values as HTML, tables and images, which
are stored in the executed notebook and readable anywhere.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["show"]


class _Panel(Protocol):
    def static(self) -> list[object]: ...


def show(panel: _Panel, interactive: bool = True) -> None:
    """Display ``panel`` as a widget, or, when ``interactive`` is false, its static view."""
    from IPython.display import display

    if interactive:
        display(panel)
    else:
        display(*panel.static())
