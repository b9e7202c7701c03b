"""The key footer, recomposed once per change of the keys it shows."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


def shown_keys(screen: Screen) -> tuple:
    """What a footer on `screen` shows: each visible binding, whether it is enabled, its tip."""
    return tuple(
        (key, b.action, b.description, b.key_display, b.group, enabled, tooltip)
        for key, (_, b, enabled, tooltip) in screen.active_bindings.items()
        if b.show
    )


class KeyFooter(Footer):
    """Textual's footer recomposes after every bindings refresh (each focus change and each
    `refresh_bindings()`, three or four while a capture opens), and composing and styling its
    keys costs the UI thread tens of milliseconds each time. This one skips a refresh that
    changes nothing it shows, and one that comes while a recompose is already due (that one
    composes the keys of its own moment)."""

    _shown: tuple | None = None
    _due = False

    def bindings_changed(self, screen: Screen) -> None:
        if self._due or (screen is self.screen and shown_keys(screen) == self._shown):
            return
        super().bindings_changed(screen)
        self._due = screen.app.app_focus and self.is_attached and screen is self.screen

    async def recompose(self) -> None:
        self._due = False
        self._shown = shown_keys(self.screen)
        await super().recompose()
