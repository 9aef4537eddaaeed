"""``promptctl lock [REF…] [--file F] [--check]``: pin the references an application loads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import completion, views
from .help import Command
from .state import state

# ruff: noqa: UP045 - Typer needs the Optional[...] spelling on Python 3.10

# lockfile.DEFAULT_LOCK_FILE, spelled out: Typer builds every command at start-up, and
# `promptctl load` must not import lockfile for this default (tests check they agree).
DEFAULT_LOCK_FILE = "promptctl.lock"


def add_commands(app: typer.Typer) -> None:
    """Register ``lock`` on ``app``."""
    app.command("lock", cls=Command)(lock)


def lock(
    ctx: typer.Context,
    refs: Annotated[Optional[list[str]], typer.Argument(
        metavar="[REF]...", help="References to pin, e.g. support/summarize@production.",
        autocompletion=completion.references)] = None,
    file: Annotated[Path, typer.Option(
        "--file", "-f", metavar="FILE", help="The lock file.")] = Path(DEFAULT_LOCK_FILE),
    check: Annotated[bool, typer.Option(
        "--check",
        help="Write nothing; exit 1 listing what changed if the file is stale.")] = False,
) -> None:
    """Pin each REF to its version, commit and content hash in a lock file (JSON).

    With REFs the file pins exactly those; without, the references already in the file
    are resolved again. --check exits 1 when running the same command without it would
    change the file (an alias moved, a prompt file differs), 0 when the file is current.

    Examples:

    \b
      promptctl lock support/summarize@production support/triage@production
      promptctl lock            # re-resolve every reference already in the file
      promptctl lock --check    # in CI: exit 1 when the file is stale
    """
    from ..formats.lockfile import read_lock, write_lock

    st = state(ctx)
    if check:
        drifts = st.registry().check_lock(file, refs or None)
        views.lock_check(str(file), drifts, st.json)
        if drifts:
            raise typer.Exit(1)
        return
    pinned = st.registry().lock(refs or read_lock(file).refs)
    write_lock(file, pinned)
    views.locked(str(file), pinned, st.json)
