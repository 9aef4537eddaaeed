"""The Typer app: global options and the command groups (each in a module of its own)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .. import __version__
from . import aliases, lock, prompts, tags
from .state import State

app = typer.Typer(
    name="promptctl",
    help="A Git repository as your LLM prompt registry.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        print(f"promptctl {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    registry: Annotated[
        Optional[str],  # noqa: UP045 - Typer needs the Optional spelling on Python 3.10
        typer.Option("--registry", "-r", envvar="PROMPTCTL_REGISTRY",
                     help="Registry path or Git URL[#folder] (default: the one containing "
                          "the current directory)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True,
                           help="Print the version and exit.")
    ] = False,
) -> None:
    ctx.obj = State(registry or None, json_output)
    ctx.call_on_close(ctx.obj.close)


prompts.add_commands(app)
lock.add_commands(app)
app.add_typer(aliases.app, name="alias", help="Point aliases (production, staging …) at versions.")
app.add_typer(tags.app, name="tag", help="Set or delete a prompt's tags (a new version).")
