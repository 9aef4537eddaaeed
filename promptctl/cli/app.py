"""The Typer app: the command groups (each in a module of its own), and the click command
built from them with the global options on every level (see ``options``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from . import aliases, lock, options, prompts, sync, tags

if TYPE_CHECKING:
    from typer import _click as click  # Typer vendors click; these are its classes

app = typer.Typer(
    name="promptctl",
    help="A Git repository as your LLM prompt registry.\n\n"
         "Global options (--registry/-r, --json, --version) go anywhere on the command "
         "line; 'promptctl COMMAND --help' shows each command's own.\n\n"
         "Examples:\n\n\b\n"
         "  promptctl init\n"
         "  promptctl register greet -t 'Hello {{ name }}!' -m \"First greeting\"\n"
         "  promptctl alias set greet production 1 -m \"Ship it\"\n"
         "  promptctl load greet@production --var name=Ada\n"
         "  promptctl list --json",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

prompts.add_commands(app)
lock.add_commands(app)
sync.add_commands(app)
app.add_typer(aliases.app, name="alias", help="Point aliases (production, staging …) at versions.")
app.add_typer(tags.app, name="tag", help="Set or delete a prompt's tags (a new version).")


def command() -> click.Command:
    """The ``promptctl`` click command, global options attached everywhere."""
    root = typer.main.get_command(app)
    options.attach(root)
    return root
