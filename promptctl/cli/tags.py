"""``promptctl tag set | delete``: tags live in the prompt file, so each change is a version.

Each docstring is the command's ``--help`` (see ``prompts`` on the ``\\b`` lines).
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import completion, views
from .grammar import parse_pairs
from .help import Command
from .state import state

# ruff: noqa: UP045 - Typer needs the Optional[...] spelling on Python 3.10

app = typer.Typer(no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Prompt name.", autocompletion=completion.prompt_names)]
Message = Annotated[Optional[str], typer.Option(
    "--message", "-m", help="Version note (default: what changed).")]
Author = Annotated[Optional[str], typer.Option(
    metavar="'NAME <EMAIL>'", help="Commit as this author (default: your Git identity).")]
Push = Annotated[bool, typer.Option("--push", help="Push the new version to origin.")]


@app.command("set", cls=Command)
def set_tags(
    ctx: typer.Context,
    name: Name,
    pairs: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...", help="Tags to set.")],
    message: Message = None,
    author: Author = None,
    push: Push = False,
) -> None:
    """Set tags on NAME (a new version).

    Examples:

    \b
      promptctl tag set support/summarize owner=ana -m "Ana owns it"
      promptctl tag set greet team=web task=greeting
    """
    st = state(ctx)
    result = st.registry().set_tags(name, parse_pairs(pairs, "tag"), message, author=author,
                                    push=push)
    views.registered(result, st.json)


@app.command("delete", cls=Command)
def delete_tags(
    ctx: typer.Context,
    name: Name,
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="Tags to remove.")],
    message: Message = None,
    author: Author = None,
    push: Push = False,
) -> None:
    """Delete tags from NAME (a new version).

    Examples:

    \b
      promptctl tag delete support/summarize owner -m "Nobody owns it"
    """
    st = state(ctx)
    result = st.registry().delete_tags(name, keys, message, author=author, push=push)
    views.registered(result, st.json)
