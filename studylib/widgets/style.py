"""How the panels look: colours for statuses and responses, and small HTML helpers.

Tables and their colours are :mod:`studylib.tables`' (re-exported here for the panels).

Presentation only: which status or response a value has is always decided by an engine.
"""

from __future__ import annotations

import html
import io

from matplotlib.figure import Figure

# One table builder for widgets and notebooks alike: it never breaks a word.
from studylib.tables import COLOURS, table_html

__all__ = ["COLOURS", "badge", "table_html", "message_html", "figure_png"]


def badge(text: str, status: str | None = None) -> str:
    """``text`` in a coloured pill, coloured by ``status`` (default: the text itself)."""
    colour = COLOURS.get(status or text, "#ffffff")
    return (
        f'<span style="background:{colour};border-radius:4px;padding:1px 6px;'
        f'font-weight:bold">{html.escape(str(text))}</span>'
    )


def message_html(text: str, status: str = "error") -> str:
    """A boxed message (for input the engine could not read), coloured by ``status``."""
    return (
        f'<div style="background:{COLOURS.get(status, "#fff")};padding:6px;border-radius:4px;'
        f'white-space:pre-wrap">{html.escape(text)}</div>'
    )


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """A figure as PNG bytes: shown the same way in a widget, Voilà, or any matplotlib backend."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
