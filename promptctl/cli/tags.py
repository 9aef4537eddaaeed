"""``promptctl tag set | delete``: tags live in the prompt file, so each change is a version."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import views
from .state import parse_pairs, state

# ruff: noqa: UP045 - Typer needs the Optional[...] spelling on Python 3.10

app = typer.Typer(no_args_is_help=True)


@app.command("set")
def set_tags(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    pairs: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...", help="Tags to set.")],
    message: Annotated[Optional[str], typer.Option("--message", "-m", help="Version note.")] = None,
    author: Annotated[Optional[str], typer.Option(help="Commit as 'Name <email>'.")] = None,
    push: Annotated[bool, typer.Option("--push", help="Push the new version to origin.")] = False,
) -> None:
    """Set tags on NAME (a new version)."""
    st = state(ctx)
    result = st.registry().set_tags(name, parse_pairs(pairs, "tag"), message, author=author,
                                    push=push)
    views.registered(result, st.json)


@app.command("delete")
def delete_tags(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="Tags to remove.")],
    message: Annotated[Optional[str], typer.Option("--message", "-m", help="Version note.")] = None,
    author: Annotated[Optional[str], typer.Option(help="Commit as 'Name <email>'.")] = None,
    push: Annotated[bool, typer.Option("--push", help="Push the new version to origin.")] = False,
) -> None:
    """Delete tags from NAME (a new version)."""
    st = state(ctx)
    result = st.registry().delete_tags(name, keys, message, author=author, push=push)
    views.registered(result, st.json)
