"""How ``--help`` reads: placeholders as man pages and git write them.

Typer's defaults print ``<str>`` for an option's value and ``{name}`` for a required
argument in the usage line. :class:`Command` names each value in capitals instead
(``-m MESSAGE``, ``register [OPTIONS] NAME``), optional arguments in brackets; a
``metavar`` given where a command declares its parameters still wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typer.core import TyperArgument, TyperCommand

if TYPE_CHECKING:
    from typer import _click as click  # Typer vendors click; these are its classes


class Command(TyperCommand):
    """A command whose help names every value plainly (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            flag = getattr(param, "is_flag", False) or getattr(param, "count", False)
            if param.metavar is None and param.name and not flag:
                param.metavar = param.name.upper()

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """``[OPTIONS]`` then each argument: ``NAME``, ``[NAME]``, ``KEY=VALUE...``."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(_usage(param))
        return pieces


def _usage(argument: TyperArgument) -> str:
    text = argument.metavar or (argument.name or "").upper()
    if not argument.required and not text.startswith("["):
        text = f"[{text}]"
    if argument.nargs != 1 and not text.endswith("..."):
        text += "..."
    return text
