"""The options every command takes, declared once: ``--registry/-r``, ``--json``, ``--version``.

gh and kubectl take their global flags anywhere on the command line (``promptctl list
--json``, ``promptctl load x -r path``); click takes a group's options only before the
subcommand. So the same options are attached to the root and to every group and command
under it (:func:`attach`), and each records what it was given in the context's ``meta``,
the one dict the whole command line shares, where :func:`given` reads it. Click's own
parser then handles ``--`` and option values that look like options (``-t --json``), as
for any other option.

Only the root reads ``$PROMPTCTL_REGISTRY``: an option further right must win over it,
and one further left must not be overwritten by it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typer.core import TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer import _click as click  # Typer vendors click; these are its classes

REGISTRY_ENV = "PROMPTCTL_REGISTRY"
_REGISTRY = "promptctl.registry"
_JSON = "promptctl.json"


def attach(command: click.Command) -> None:
    """Give ``command`` and every group and command under it the global options."""
    _attach(command, root=True)


def given(ctx: click.Context) -> tuple[str | None, bool]:
    """What the global options were given on this command line: registry, JSON output."""
    meta = ctx.meta
    return meta.get(_REGISTRY) or None, bool(meta.get(_JSON, False))


def _attach(command: click.Command, *, root: bool) -> None:
    command.params.extend(_options(root=root))
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _attach(sub, root=False)


def _options(*, root: bool) -> list[click.Parameter]:
    # Names of their own: click matches values to parameters by name, and a command's
    # VERSION argument would otherwise feed --version.
    return [
        TyperOption(
            param_decls=["--registry", "-r", "global_registry"], metavar="PATH|URL",
            envvar=REGISTRY_ENV if root else None,
            callback=_record(_REGISTRY), expose_value=False,
            help=f"Registry folder or Git URL[#folder] (else ${REGISTRY_ENV}, else the "
                 "registry containing the current directory).",
        ),
        TyperOption(
            param_decls=["--json", "global_json"], is_flag=True, default=False,
            callback=_record(_JSON), expose_value=False,
            help="Print machine-readable JSON (for every command that prints data).",
        ),
        TyperOption(
            param_decls=["--version", "global_version"], is_flag=True, default=False, is_eager=True,
            callback=_show_version, expose_value=False, help="Print the version and exit.",
        ),
    ]


def _record(key: str) -> Any:
    def record(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        # Unset here (None, False) must not undo a value given further left.
        if value:
            ctx.meta[key] = value
        return value

    return record


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:  # resilient: shell completion is parsing
        from .. import __version__

        print(f"promptctl {__version__}")
        ctx.exit()
