"""Shell completion of prompt names, references, versions and aliases.

The shell runs ``promptctl`` to ask for completions as the user presses Tab. Each
function here opens the registry the command line names (``-r``, else
``$PROMPTCTL_REGISTRY``, else the current directory's) and offers the values that begin
with what is typed. A completion must never print or fail where the user is typing,
so any error (no registry, a bad name so far) offers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from . import options

if TYPE_CHECKING:
    from ..registry import Registry

_URI = "prompts:/"


def prompt_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """``NAME``: every prompt name beginning with ``incomplete``."""
    return _ask(ctx, lambda registry: [
        s.name for s in registry.list_prompts() if s.name.startswith(incomplete)])


def references(ctx: typer.Context, incomplete: str) -> list[str]:
    """``REF``: names; after ``name@`` its aliases and ``latest``; after ``name/`` its versions."""
    scheme = _URI if incomplete.startswith(_URI) else ""
    typed = incomplete[len(scheme):]
    name, at, _ = typed.partition("@")

    def answer(registry: Registry) -> list[str]:
        if at:
            found = [f"{name}@{a.alias}" for a in registry.list_aliases(name)]
            found.append(f"{name}@latest")
        else:
            names = [s.name for s in registry.list_prompts()]
            found = [n for n in names if n.startswith(typed)]
            found += [f"{n}/{v.version}" for n in names if typed.startswith(n + "/")
                      for v in registry.history(n)]
        return [scheme + ref for ref in found if ref.startswith(typed)]

    return _ask(ctx, answer)


def version_specs(ctx: typer.Context, incomplete: str) -> list[str]:
    """``FROM`` / ``TO`` of NAME: its version numbers, its aliases and ``latest``."""
    return _of_name(ctx, incomplete, lambda registry, name: [
        *(str(v.version) for v in registry.history(name)),
        *(a.alias for a in registry.list_aliases(name)),
        "latest",
    ])


def version_numbers(ctx: typer.Context, incomplete: str) -> list[str]:
    """``VERSION`` of NAME: its version numbers."""
    return _of_name(ctx, incomplete,
                    lambda registry, name: [str(v.version) for v in registry.history(name)])


def alias_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """``ALIAS`` of NAME: the aliases it has."""
    return _of_name(ctx, incomplete,
                    lambda registry, name: [a.alias for a in registry.list_aliases(name)])


def _of_name(ctx: typer.Context, incomplete: str,
             values: Callable[[Registry, str], list[str]]) -> list[str]:
    name = ctx.params.get("name")
    if not isinstance(name, str):
        return []
    return _ask(ctx, lambda registry: [
        value for value in values(registry, name) if value.startswith(incomplete)])


def _ask(ctx: typer.Context, answer: Callable[[Registry], list[str]]) -> list[str]:
    """``answer`` from the registry the command line names; nothing on any error."""
    from ..registry import Registry

    try:
        with Registry(options.given(ctx)[0]) as registry:
            return answer(registry)
    except Exception:  # noqa: BLE001 - see the module docstring
        return []
