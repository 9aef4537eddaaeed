"""The fast path: ``promptctl load``, ``show``, ``list``, ``search``, ``history``,
``register`` and ``alias set`` without Typer.

A cold ``load`` is mostly start-up: importing Typer and building every click command
costs more than the load itself (and ~25 ms of every read). Commands this module fully
understands run straight from here; for anything else (``--help``, ``--version``, an
option it does not know, a missing argument, shell completion …) :func:`run` returns
``False`` before doing anything, and the Typer app runs the command line instead, so
every usage error still comes from one place, worded one way.

The command lines it takes are parsed by ``grammar``. The command bodies (:func:`load`,
:func:`show` …, ``writes``) are the Typer commands' own, so both paths print the same
bytes; the tests run both on the same command lines.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import MissingVariables
from . import views
from .grammar import Call, parse, parse_pairs
from .state import State


def run(args: Sequence[str]) -> bool:
    """Run ``args`` if this module understands all of it; ``False``: nothing was done.

    Errors are raised as the Typer commands raise them (``promptctl.cli.main`` makes them
    one line and an exit code).
    """
    call = parse(args, os.environ)
    if call is None:
        return False
    st = State(call.registry, call.json)
    try:
        if call.command == "load":
            load(st, call.args[0], call.values.get("var"), call.path("vars_file"),
                 call.path("lock_file"))
        elif call.command == "show":
            show(st, call.args[0])
        elif call.command == "list":
            list_prompts(st)
        elif call.command == "search":
            search(st, call.args[0] if call.args else None)
        elif call.command == "history":
            history(st, call.args[0])
        else:
            _write(st, call)
    except BaseException:
        st.close()  # as click closes the context: with the error known, so no notes
        raise
    st.close()
    return True


# -- the command bodies, shared with the Typer commands (prompts.load, prompts.show …) -----


def load(st: State, ref: str, var: list[str] | None, vars_file: Path | None,
         lock_file: Path | None) -> None:
    """``promptctl load``: print the template, or the prompt formatted with the values."""
    prompt = st.registry().load_prompt(ref, cache_ttl_seconds=0, lock_file=lock_file)
    given = parse_pairs(var, "--var")
    values: dict[str, Any] = {}
    if vars_file:
        from ..formats.values import read_values_file

        values = read_values_file(vars_file)
    values.update(given)
    unused = prompt.unused(given)
    try:
        formatted = prompt.format(**values) if values or vars_file else None
    except MissingVariables as exc:
        exc.unused = unused  # a typo is most often why a value is missing: say it there
        raise
    for key in unused:  # once it formatted: a failure says one thing, on one line
        views.unused_variable(key, prompt.name, prompt.variables)
    views.loaded(prompt, formatted, st.json)


def show(st: State, ref: str) -> None:
    """``promptctl show``: one version in full."""
    views.version(st.registry().load_prompt(ref, cache_ttl_seconds=0), st.json)


def list_prompts(st: State) -> None:
    """``promptctl list``: every prompt with its newest version and aliases."""
    views.summaries(st.registry().list_prompts(), st.json)


def search(st: State, filter_string: str | None) -> None:
    """``promptctl search``: the prompts a filter matches."""
    views.summaries(st.registry().search_prompts(filter_string), st.json)


def history(st: State, name: str) -> None:
    """``promptctl history``: every version of a prompt."""
    views.history(st.registry().history(name), st.json)


def _write(st: State, call: Call) -> None:
    """``register`` and ``alias set``: their bodies (``writes``) are the Typer commands' own."""
    from . import writes

    value, push = call.value, "--push" in call.flags
    if call.command == "register":
        writes.register(st, call.args[0], value("text"), value("file"), value("message"),
                        call.values.get("model_config"), call.values.get("tag"),
                        value("description"), value("response_format"), value("author"), push)
    else:
        name, alias, version = call.args
        writes.set_alias(st, name, alias, int(version), value("message"), value("author"),
                         "--force" in call.flags, push)
