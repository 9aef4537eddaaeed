"""``promptctl alias set | delete | list | history``: move the pointers applications load by.

Each docstring is the command's ``--help`` (see ``prompts`` on the ``\\b`` lines).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import completion, views, writes
from .help import Command
from .state import state

# ruff: noqa: UP045 - Typer needs the Optional[...] spelling on Python 3.10

app = typer.Typer(no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Prompt name.", autocompletion=completion.prompt_names)]
Why = Annotated[Optional[str], typer.Option(
    "--message", "-m", help="Why (recorded in the alias history; protected aliases need it).")]
Author = Annotated[Optional[str], typer.Option(
    metavar="'NAME <EMAIL>'", help="Record as this person (default: your Git identity).")]


@app.command("set", cls=Command)
def set_alias(
    ctx: typer.Context,
    name: Name,
    alias: Annotated[str, typer.Argument(
        help="Alias, e.g. production.", autocompletion=completion.alias_names)],
    version: Annotated[int, typer.Argument(
        help="Version number to point at.", autocompletion=completion.version_numbers)],
    message: Why = None,
    author: Author = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Override a protected alias's rules (needs -m; recorded).")] = False,
    push: Annotated[bool, typer.Option(
        "--push", help="Also move it on origin, refused if it moved there since read.")] = False,
) -> None:
    """Point ALIAS of NAME at VERSION (promote or roll back).

    Examples:

    \b
      promptctl alias set support/summarize production 4 -m "QA passed"
      promptctl alias set support/summarize production 3 -m "Roll back" --push
    """
    writes.set_alias(state(ctx), name, alias, version, message, author, force, push)


@app.command("delete", cls=Command)
def delete_alias(
    ctx: typer.Context,
    name: Name,
    alias: Annotated[str, typer.Argument(
        help="Alias to remove.", autocompletion=completion.alias_names)],
    message: Why = None,
    author: Author = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Delete a protected alias (needs -m; recorded).")] = False,
    push: Annotated[bool, typer.Option(
        "--push", help="Also delete it on origin, refused if it moved there since read.")] = False,
) -> None:
    """Remove ALIAS from NAME.

    Examples:

    \b
      promptctl alias delete support/summarize canary -m "Experiment over"
    """
    state(ctx).registry().delete_alias(name, alias, message, author=author, force=force,
                                       push=push)
    views.message(f"deleted alias {alias} of {name}")


@app.command("list", cls=Command)
def list_aliases(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(
        metavar="[NAME]", help="Only this prompt's aliases.",
        autocompletion=completion.prompt_names)] = None,
) -> None:
    """List aliases and the versions they point at.

    Examples:

    \b
      promptctl alias list
      promptctl alias list support/summarize --json
    """
    st = state(ctx)
    views.aliases(st.registry().list_aliases(name), st.json)


@app.command("history", cls=Command)
def alias_history(
    ctx: typer.Context,
    name: Name,
    alias: Annotated[Optional[str], typer.Argument(
        metavar="[ALIAS]", help="Only this alias.", autocompletion=completion.alias_names)] = None,
) -> None:
    """Every move of NAME's aliases: from which version to which, who, when, why.

    Examples:

    \b
      promptctl alias history support/summarize
      promptctl alias history support/summarize production --json
    """
    st = state(ctx)
    views.alias_history(st.registry().alias_history(name, alias), st.json)
