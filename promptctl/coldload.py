"""The cold ``promptctl load``: what a load found, kept for the next process that asks.

A ``promptctl load`` process spends most of its life starting up: importing what a load
needs (the index, the object reader, the YAML parser, the models) costs several times
the load itself. So a command-line load (a :class:`~promptctl.registry.Registry` made
with ``keep_loads=True``) keeps what it loaded in ``<git dir>/promptctl/loads.json``,
with the state it read it at: the registry folder, the branch and its tip commit, and
for a load by alias the alias tag's object. A later process loading the same reference
from the same folder reads only those few files (:func:`load`: ``os`` and ``json``, no
git, no index, no YAML) and, where every one still says the same, formats the kept
template itself. Anything else (another tip, a moved alias, a register's landing
journal, a load that gave a warning, a registry behind a URL) takes the whole way,
which keeps its result anew. So does a change to the repository's config file (a
remote added: the whole way configures fetching for it).

Why this is exact: which version a reference names, and what that version holds, is
worked out from the history the tip commit names and from the tag object an alias
names; both are object ids, so the same ids give the same answer. An alias moved,
packed or fetched changes the tag's id or nothing at all. The file is a cache: a broken
or foreign one is ignored (and rewritten by the next whole load), and it never holds
more than :data:`LIMIT` entries of at most :data:`LARGEST` characters.

This module imports nothing heavier than ``json`` (with ``re`` under it) and the light
:mod:`location` and :mod:`git.files`; ``promptctl.registry`` imports it for :func:`keep`.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat

from .git import files
from .location import is_remote, locate

TYPE_CHECKING = False  # typing itself costs a cold load ~3 ms
if TYPE_CHECKING:
    from typing import Any

    from .formats.template import Template

FILE = "loads.json"
LIMIT = 32
"""Entries kept; the oldest go first."""
LARGEST = 64 << 10
"""Templates longer than this (characters) are not kept: reading the file stays cheap."""
_FORMAT = 1
_LARGEST_FILE = 16 << 20  # bytes: LIMIT entries of LARGEST characters, JSON-escaped
_JOURNAL = "landing.json"  # journal.FILE_NAME (a register was interrupted: the whole way warns)


def load(location: str | None, reference: str, values: dict[str, str]) -> Template | None:
    """What ``promptctl load REFERENCE`` prints for the registry at ``location`` (``None``:
    the one around the current directory): the kept template, filled with ``values`` if
    any are given. ``None``: the whole way must answer, because nothing is kept, what it
    was read from changed, or ``values`` are not exactly the template's variables (a
    missing or unused value has a message the whole way gives)."""
    try:
        if location is not None and is_remote(location):
            return None
        root = locate(location)
        found = files.find_repository(root)
        if found is None:
            return None
        _, git_dir, common_dir = found
        if os.path.lexists(os.path.join(git_dir, "promptctl", _JOURNAL)):
            return None
        entry = _read(git_dir).get(f"{root}\0{reference}")
        if entry is None or entry["state"] != _state(git_dir, common_dir, entry["tag"]):
            return None
        template: Template = entry["template"]
        parts = entry["parts"]
        if not (isinstance(template, str) or (isinstance(template, list)
                and all(isinstance(message, dict) for message in template))):
            return None  # not what keep() writes
        if not values:
            return template
        texts = [parts] if isinstance(template, str) else parts
        if {name for text in texts for name in text[1::2]} != values.keys():
            return None
        if isinstance(template, str):
            return _fill(parts, values)
        return [{**message, "content": _fill(text, values)}
                for message, text in zip(template, parts, strict=True)]
    except (OSError, ValueError, LookupError, TypeError, AttributeError):
        return None  # not a registry, a foreign file: the whole way says what is wrong


def keep(git_dir: str, common_dir: str, root: str, reference: str, state: list[Any],
         tag: str | None, template: Template) -> None:
    """Keep a load of ``reference`` from the registry at ``root`` (see the module).

    ``state`` is what :func:`load` compares, read where the load read it: the branch,
    its tip and, for a load by alias, the tag's object id (its ref name is ``tag``).
    Best effort: a full disk or a read-only clone keeps nothing, silently.
    """
    from .formats.template import split_variables

    if isinstance(template, str):
        parts: list[Any] = split_variables(template)
    elif all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in template):
        parts = [split_variables(message["content"]) for message in template]
    else:
        return  # not a chat template the whole way can format: let it say so each time
    try:  # as --json prints it; a key JSON cannot hold (a date) keeps nothing
        if len(json.dumps(template, default=str)) > LARGEST:
            return
        loads = _read(git_dir)
        key = f"{root}\0{reference}"
        loads.pop(key, None)
        state = [*state, _config_stamp(common_dir)]
        loads[key] = {"state": state, "tag": tag, "template": template, "parts": parts}
        while len(loads) > LIMIT:
            loads.pop(next(iter(loads)))
        text = json.dumps({"format": _FORMAT, "loads": loads}, default=str)
    except (TypeError, ValueError):
        return
    folder = os.path.join(git_dir, "promptctl")
    temporary = os.path.join(folder, f".{FILE}.{os.getpid()}")
    try:
        os.makedirs(folder, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)  # left by a killed process of the same id
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, os.path.join(folder, FILE))  # readers see all of it or none
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


def forget(git_dir: str) -> None:
    """Drop every kept load: the index started afresh or found that history was rewritten,
    so a tip seen before may now load with a warning the kept load would not give."""
    with contextlib.suppress(OSError):
        os.unlink(os.path.join(git_dir, "promptctl", FILE))


def _state(git_dir: str, common_dir: str, tag: str | None) -> list[Any]:
    branch, detached = files.head(git_dir)
    tip = files.resolve(common_dir, branch) if branch is not None else detached
    return [branch, tip, files.resolve(common_dir, tag) if tag is not None else None,
            _config_stamp(common_dir)]


def _config_stamp(common_dir: str) -> list[int]:
    """The repository's config file by size and time: a change there (a remote added,
    which the whole way configures fetching for) makes the next load take the whole way."""
    try:
        st = os.stat(os.path.join(common_dir, "config"))
    except OSError:
        return []
    return [st.st_size, st.st_mtime_ns]


def _read(git_dir: str) -> dict[str, Any]:
    """The kept loads; none from anything but a regular file of a sane size (a link, a
    FIFO or a huge file put there is ignored, never followed, waited on or read)."""
    path = os.path.join(git_dir, "promptctl", FILE)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > _LARGEST_FILE:
                return {}
            data = json.loads(handle.read())
    except (OSError, ValueError):
        return {}
    loads = data.get("loads") if isinstance(data, dict) and data.get("format") == _FORMAT \
        else None
    return loads if isinstance(loads, dict) else {}


def _fill(parts: list[str], values: dict[str, str]) -> str:
    return "".join(part if i % 2 == 0 else values[part] for i, part in enumerate(parts))
