"""The fast path: ``promptctl load``, ``show``, ``list``, ``search``, ``history``,
``register`` and ``alias set`` without Typer.

A cold ``load`` is mostly start-up: importing Typer and building every click command
costs more than the load itself (and ~25 ms of every read). Commands this module fully
understands run straight from here; for anything else (``--help``, ``--version``, an
option it does not know, a missing argument, shell completion …) :func:`run` returns
``False`` before doing anything, and the Typer app runs the command line instead, so
every usage error still comes from one place, worded one way.

The grammar taken is the one the Typer app defines for these commands, no more: the
global options (``--registry/-r PATH``, ``--json``) before or after the command name,
``--opt VALUE`` or ``--opt=VALUE``, flags alone, the command's arguments (one ``REF`` or
``NAME``; none for ``list``; an optional ``FILTER`` for ``search``; ``NAME ALIAS
VERSION`` for ``alias set``). A value is the next word, whatever it looks like, as click
takes it. The command bodies (:func:`load`, :func:`show` …, ``writes``) are the Typer
commands' own, so both paths print the same bytes; the tests run both on the same
command lines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MissingVariables
from . import views
from .state import State, is_pair, parse_pairs

REGISTRY_ENV = "PROMPTCTL_REGISTRY"  # the same as options.REGISTRY_ENV (which imports Typer)
_COMPLETE_ENV = "_PROMPTCTL_COMPLETE"  # set: the shell asks Typer for completions

# Each command's own options with a value, by spelling, and the name it is kept under.
_COMMANDS: dict[str, dict[str, str]] = {
    "load": {"--var": "var", "--vars-file": "vars_file", "--lock-file": "lock_file"},
    "show": {},
    "list": {},
    "search": {},
    "history": {},
    "register": {"--text": "text", "-t": "text", "--file": "file", "-f": "file",
                 "--message": "message", "-m": "message", "--model-config": "model_config",
                 "--tag": "tag", "--description": "description",
                 "--response-format": "response_format", "--author": "author"},
    "alias set": {"--message": "message", "-m": "message", "--author": "author"},
}
# Each command's flags (options without a value).
_FLAGS: dict[str, tuple[str, ...]] = {"register": ("--push",),
                                      "alias set": ("--force", "--push")}
# How many arguments each command takes: at least, at most (one where not said).
_ARGUMENTS: dict[str, tuple[int, int]] = {
    "list": (0, 0), "search": (0, 1), "alias set": (3, 3),  # NAME ALIAS VERSION
}
_PAIRS = ("var", "model_config", "tag")  # KEY=VALUE options
_REGISTRY_OPTIONS = ("--registry", "-r")


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


@dataclass(frozen=True)
class Call:
    """A command line the fast path runs: the command, the global options, its arguments,
    the values given to each of its options (by parameter name) and its flags."""

    command: str
    registry: str | None
    json: bool
    args: tuple[str, ...]
    values: dict[str, list[str]]
    flags: frozenset[str] = frozenset()

    def path(self, option: str) -> Path | None:
        """The path given to ``option`` (the last one, as click keeps it), if any."""
        given = self.value(option)
        return Path(given) if given is not None else None

    def value(self, option: str) -> str | None:
        """The value given to ``option`` (the last one, as click keeps it), if any."""
        given = self.values.get(option)
        return given[-1] if given else None


def parse(args: Sequence[str], environ: Mapping[str, str]) -> Call | None:
    """``args`` as the fast path runs them, or ``None`` where the Typer app must decide."""
    if environ.get(_COMPLETE_ENV):
        return None
    command: str | None = None
    words_so_far = ""  # the words of a command not complete yet ("alias" of "alias set")
    registry: str | None = None
    as_json = False
    positional: list[str] = []
    values: dict[str, list[str]] = {}
    flags: set[str] = set()
    words = iter(args)
    for word in words:
        if not word.startswith("-"):
            if command is None:  # a group takes no argument: the next one is a command
                words_so_far = f"{words_so_far} {word}".lstrip()
                if words_so_far in _COMMANDS:
                    command = words_so_far
                elif not any(known.startswith(f"{words_so_far} ") for known in _COMMANDS):
                    return None
            else:
                positional.append(word)
            continue
        name, eq, attached = word.partition("=") if word.startswith("--") else (word, "", "")
        if name == "--json" and not eq:
            as_json = True
            continue
        if command is not None and name in _FLAGS.get(command, ()):
            if eq:
                return None  # a flag given a value: click's error
            flags.add(name)
            continue
        own = _COMMANDS[command] if command is not None else {}
        if name not in _REGISTRY_OPTIONS and name not in own:
            return None  # --help, --version, --, -rPATH, a typo …: Typer's to answer
        value = attached if eq else next(words, None)
        if value is None:
            return None
        if name in _REGISTRY_OPTIONS:
            if not value:  # click's handling of an empty value depends on where it is
                return None
            registry = value  # the last one given wins, as the Typer app has it
        else:
            values.setdefault(own[name], []).append(value)
    if command is None:
        return None
    least, most = _ARGUMENTS.get(command, (1, 1))
    if not least <= len(positional) <= most:
        return None
    if command == "alias set" and not (positional[2].isascii() and positional[2].isdigit()):
        return None  # VERSION: what click's int conversion makes of the rest is its own
    if not all(is_pair(pair) for option in _PAIRS for pair in values.get(option, [])):
        return None  # the error is Typer's (a usage error, after the registry is opened)
    for option in ("vars_file", "lock_file"):
        # click's Path type refuses a path that exists but cannot be read, with its own
        # message.
        if any(_unreadable(path) for path in values.get(option, [])):
            return None
    return Call(command, registry or environ.get(REGISTRY_ENV) or None, as_json,
                tuple(positional), values, frozenset(flags))


def _unreadable(path: str) -> bool:
    return os.path.exists(path) and not os.access(path, os.R_OK)


# -- the command bodies, shared with the Typer commands (prompts.load, prompts.show …) -----


def load(st: State, ref: str, var: list[str] | None, vars_file: Path | None,
         lock_file: Path | None) -> None:
    """``promptctl load``: print the template, or the prompt formatted with the values."""
    prompt = st.registry().load_prompt(ref, cache_ttl_seconds=0, lock_file=lock_file)
    from ..formats.values import read_values_file

    given = parse_pairs(var, "--var")
    values: dict[str, Any] = read_values_file(vars_file) if vars_file else {}
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
