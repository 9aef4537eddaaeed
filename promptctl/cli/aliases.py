"""``promptctl alias set | delete | list``: move the pointers applications load by."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import views
from .state import state

# ruff: noqa: UP045 - Typer needs the Optional[...] spelling on Python 3.10

app = typer.Typer(no_args_is_help=True)


@app.command("set")
def set_alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    alias: Annotated[str, typer.Argument(help="Alias, e.g. production.")],
    version: Annotated[int, typer.Argument(help="Version number to point at.")],
    message: Annotated[Optional[str], typer.Option("--message", "-m", help="Why.")] = None,
    author: Annotated[Optional[str], typer.Option(help="Record as 'Name <email>'.")] = None,
) -> None:
    """Point ALIAS of NAME at VERSION (promote or roll back)."""
    st = state(ctx)
    views.alias_set(st.registry().set_alias(name, alias, version, message, author=author), st.json)


@app.command("delete")
def delete_alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    alias: Annotated[str, typer.Argument(help="Alias to remove.")],
) -> None:
    """Remove ALIAS from NAME."""
    state(ctx).registry().delete_alias(name, alias)
    views.message(f"deleted alias {alias} of {name}")


@app.command("list")
def list_aliases(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="Only this prompt's aliases.")] = None,
) -> None:
    """List aliases and the versions they point at."""
    st = state(ctx)
    views.aliases(st.registry().list_aliases(name), st.json)
