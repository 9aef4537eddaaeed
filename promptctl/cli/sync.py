"""``promptctl sync [--push]`` and ``promptctl hook pre-push``: staying in step with origin."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from ..errors import Conflict
from . import views
from .help import Command
from .state import state

hook = typer.Typer(no_args_is_help=True, help="Git hooks promptctl provides.")


def add_commands(app: typer.Typer) -> None:
    """Register ``sync`` and the ``hook`` group on ``app``."""
    app.command("sync", cls=Command)(sync)
    app.add_typer(hook, name="hook")


def sync(
    ctx: typer.Context,
    push: Annotated[bool, typer.Option(
        "--push", help="Also push what is local only: unpushed versions, the alias log.")] = False,
) -> None:
    """Fetch aliases and the alias log from origin, and say which aliases moved.

    Plain 'git fetch' keeps a moved tag where it was; sync force-updates alias tags,
    merges the remote's alias log into yours and lists every alias that moved. With
    --push it also pushes versions a failed '--push' left behind.

    Examples:

    \b
      promptctl sync
      promptctl sync --push
    """
    st = state(ctx)
    views.synced(st.registry().sync(push=push), st.json)


@hook.command("pre-push", cls=Command)
def pre_push(
    ctx: typer.Context,
    remote: Annotated[str, typer.Argument(help="The remote's name (git passes it).")] = "",
    url: Annotated[str, typer.Argument(help="The remote's URL (git passes it).")] = "",
) -> None:
    """Refuse a push to the registry branch that would renumber the remote's versions (a
    git pre-push hook).

    A merge made by 'git pull' puts the local commit first and the remote's versions on
    the side. With git's own message promptctl numbers along the remote's side, and the
    push goes ahead; a merge committed with another message is like any other, and
    pushed it would change what the remote's numbers mean: it is refused. Reads the refs
    git hands a pre-push hook on stdin (or pre-commit's PRE_COMMIT_FROM_REF,
    PRE_COMMIT_TO_REF and PRE_COMMIT_REMOTE_BRANCH). Another branch holds drafts and is
    not judged. A push behind the remote (its tip not fetched here) is left to git, which
    refuses it unless forced: forced pushes are for branch protection to forbid.

    Examples:

    \b
      printf '#!/bin/sh\\nexec promptctl hook pre-push "$@"\\n' > .git/hooks/pre-push
      chmod +x .git/hooks/pre-push        # or pre-commit's promptctl-pre-push hook
    """
    registry = state(ctx).registry()
    pairs = _pushed(sys.stdin.read() if not sys.stdin.isatty() else "")
    for branch, local, theirs in pairs:
        problem = registry.check_push(local, theirs, branch)
        if problem is not None:
            raise Conflict(problem)


def _pushed(text: str) -> list[tuple[str | None, str, str | None]]:
    """``(branch, local commit, remote commit)`` of each ref being pushed to a branch
    (``None``: pre-commit did not name the branch, the current one is meant)."""
    found: list[tuple[str | None, str, str | None]] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2].startswith("refs/heads/") and set(fields[1]) != {"0"}:
            found.append((fields[2], fields[1], fields[3]))
    branch = os.environ.get("PRE_COMMIT_REMOTE_BRANCH")
    # A tag or the alias log (pre-commit names any ref pushed) holds no version line.
    if not found and os.environ.get("PRE_COMMIT_TO_REF") and (
            branch is None or branch.startswith("refs/heads/")):
        found.append((branch, os.environ["PRE_COMMIT_TO_REF"],
                      os.environ.get("PRE_COMMIT_FROM_REF")))
    return found
