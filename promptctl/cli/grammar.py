"""The command lines the fast path takes (``fast``, and the cold ``load`` in ``quick``),
parsed without Typer.

The grammar taken is the one the Typer app defines for these commands, no more: the
global options (``--registry/-r PATH``, ``--json``) before or after the command name,
``--opt VALUE`` or ``--opt=VALUE``, flags alone, the command's arguments (one ``REF`` or
``NAME``; none for ``list``; an optional ``FILTER`` for ``search``; ``NAME ALIAS
VERSION`` for ``alias set``). A value is the next word, whatever it looks like, as click
takes it. For anything else (``--help``, ``--version``, an option it does not know, a
missing argument, shell completion …) :func:`parse` returns ``None``, and the Typer app
runs the command line instead, so every usage error still comes from one place, worded
one way.

Nothing here imports more than ``os``: the cold ``load`` parses its command line here.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing itself costs a cold load ~3 ms
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

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


class Call:
    """A command line the fast path runs: the command, the global options, its arguments,
    the values given to each of its options (by parameter name) and its flags.

    A plain class: ``dataclasses`` costs a cold ``load`` ~9 ms to import."""

    __slots__ = ("args", "command", "flags", "json", "registry", "values")

    def __init__(self, command: str, registry: str | None, as_json: bool,
                 args: tuple[str, ...], values: dict[str, list[str]],
                 flags: frozenset[str] = frozenset()) -> None:
        self.command = command
        self.registry = registry
        self.json = as_json
        self.args = args
        self.values = values
        self.flags = flags

    def path(self, option: str) -> Path | None:
        """The path given to ``option`` (the last one, as click keeps it), if any."""
        from pathlib import Path

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
    if command == "alias set" and not _small_number(positional[2]):
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


def _small_number(text: str) -> bool:
    """Digits that ``int()`` takes at once: no version has more than ten (a 5,000-digit
    one would pass Python's limit on converting text to int, an internal error)."""
    return text.isascii() and text.isdigit() and len(text) <= 10


def _unreadable(path: str) -> bool:
    return os.path.exists(path) and not os.access(path, os.R_OK)


def parse_pairs(pairs: list[str] | None, what: str) -> dict[str, str]:
    """``["k=v", …]`` as a dict; a pair without ``=`` is a usage error naming it."""
    result: dict[str, str] = {}
    for pair in pairs or []:
        if not is_pair(pair):
            import typer

            raise typer.BadParameter(f"{what} must be KEY=VALUE, got {pair!r}")
        key, _, value = pair.partition("=")
        result[key.strip()] = value
    return result


def is_pair(text: str) -> bool:
    """Whether ``text`` is a ``KEY=VALUE`` pair :func:`parse_pairs` takes."""
    key, sep, _ = text.partition("=")
    return bool(sep and key.strip())
