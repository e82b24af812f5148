"""The login shells the guard supports, on their own so the command line can offer them as
choices without importing the guard (``envoverlay.shell``) for every command."""

from __future__ import annotations

from typing import Final, Literal

Shell = Literal["bash", "zsh", "sh", "fish"]

#: The shells the guard supports, by the name passed as ``shell``.
SHELLS: Final[tuple[Shell, ...]] = ("bash", "zsh", "sh", "fish")
