"""What the global options leave for every command: the registry, opened on first use.

Typer is imported only where a Typer context is at hand: the fast path (``fast``) makes
a :class:`State` of its own without importing it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..registry import Registry
from . import views

if TYPE_CHECKING:
    import typer


@dataclass
class State:
    """The global options, and the registry opened on first use."""

    registry_path: str | None  # a folder or a Git URL (kept a string: Path mangles "//")
    json: bool
    _registry: Registry | None = field(default=None, repr=False)

    def registry(self) -> Registry:
        """The registry the global options name (opened once)."""
        if self._registry is None:
            # keep_loads: the next `promptctl load` of the same reference is answered
            # from what this one found, while it holds (see coldload).
            self._registry = Registry(self.registry_path, progress=views.index_progress(),
                                      keep_loads=True)
        return self._registry

    def close(self) -> None:
        """At the end of the command: report what the registry did on the side, release it."""
        if self._registry is not None:
            # Called while click unwinds: an exception on its way out means the command
            # failed, and a failure prints its one error line and nothing else new.
            if sys.exc_info()[0] is None:
                for text in self._registry.notes:
                    views.message(f"note: {text}")
            for text in self._registry.warnings:
                views.warning(text)
            if self._registry.deepened_from is not None:
                views.deepened(self._registry.deepened_from)
            self._registry.close()


def state(ctx: typer.Context) -> State:
    """The :class:`State` of the running command, made from the global options at first use.

    Made only once the whole command line is parsed, since a global option may follow
    the command; the registry is closed when the command ends.
    """
    from . import options

    root = ctx.find_root()
    if root.obj is None:
        root.obj = State(*options.given(ctx))
        root.call_on_close(root.obj.close)
    assert isinstance(root.obj, State)
    return root.obj
