"""``promptctl alias set | delete | list | history``: move the pointers applications load by."""

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
    force: Annotated[bool, typer.Option(
        "--force", help="Override a protected alias's rules (needs -m; recorded).")] = False,
    push: Annotated[bool, typer.Option(
        "--push", help="Also move it on origin, refused if it moved there since read.")] = False,
) -> None:
    """Point ALIAS of NAME at VERSION (promote or roll back)."""
    st = state(ctx)
    info = st.registry().set_alias(name, alias, version, message, author=author, force=force,
                                   push=push)
    views.alias_set(info, st.json)


@app.command("delete")
def delete_alias(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    alias: Annotated[str, typer.Argument(help="Alias to remove.")],
    message: Annotated[Optional[str], typer.Option("--message", "-m", help="Why.")] = None,
    author: Annotated[Optional[str], typer.Option(help="Record as 'Name <email>'.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Delete a protected alias (needs -m; recorded).")] = False,
    push: Annotated[bool, typer.Option(
        "--push", help="Also delete it on origin, refused if it moved there since read.")] = False,
) -> None:
    """Remove ALIAS from NAME."""
    state(ctx).registry().delete_alias(name, alias, message, author=author, force=force,
                                       push=push)
    views.message(f"deleted alias {alias} of {name}")


@app.command("list")
def list_aliases(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(help="Only this prompt's aliases.")] = None,
) -> None:
    """List aliases and the versions they point at."""
    st = state(ctx)
    views.aliases(st.registry().list_aliases(name), st.json)


@app.command("history")
def alias_history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Prompt name.")],
    alias: Annotated[Optional[str], typer.Argument(help="Only this alias.")] = None,
) -> None:
    """Every move of NAME's aliases: from which version to which, who, when, why."""
    st = state(ctx)
    views.alias_history(st.registry().alias_history(name, alias), st.json)
