"""The cold ``promptctl load``: answered without the registry, from what the last load
kept or, with nothing kept, straight from the version index and Git.

A ``promptctl load`` process spends most of its life starting up: importing what the
whole way needs (the registry, the index machinery, the object reader, the YAML parser,
the models) costs several times the load itself. Two shortcuts answer most loads:

* **Kept loads.** A command-line load (a :class:`~promptctl.registry.Registry` made with
  ``keep_loads=True``) keeps what it loaded in ``<git dir>/promptctl/loads.json``, with
  the state it read it at: the registry folder, the branch and its tip commit, and for a
  load by alias the alias tag's object. A later process loading the same reference from
  the same folder reads only those few files (``os`` and ``json``, no git, no index, no
  YAML) and, where every one still says the same, formats the kept template itself.
  A change to the repository's config file (a remote added: the whole way configures
  fetching for it) also sends it the whole way.
* **First loads** (:func:`_first`), when nothing is kept for the reference or the state
  changed (a pull, a register, a moved alias). Where the index is current (its stored
  tip is the branch's tip), the reference is looked up in it as the whole way looks it
  up, the file is read through its commit from one ``git cat-file``, and it is in the
  plain form (``formats.plainyaml``) and passes the schema checks, the template is
  kept and answered: ``sqlite3`` and a few light modules, no YAML, no ``dataclasses``.
  The index's numbering findings about the prompt, an alias on a commit that made no
  version, a record naming a blob its commit does not hold, a file only YAML reads or
  one with a problem, a detached HEAD: each is left to the whole way, so that its
  warnings and errors come from one place.

Anything else (a register's landing journal, a load that gave a warning, a registry
behind a URL, values that are not exactly the template's variables) takes the whole way,
which keeps its result anew.

Why this is exact: which version a reference names, and what that version holds, is
worked out from the history the tip commit names and from the tag object an alias
names; both are object ids, so the same ids give the same answer. An alias moved,
packed or fetched changes the tag's id or nothing at all. The file is a cache: a broken
or foreign one is ignored (and rewritten by the next whole load), and it never holds
more than :data:`LIMIT` entries of at most :data:`LARGEST` characters.

A kept load imports nothing heavier than ``json`` (with ``re`` under it) and the light
:mod:`location` and :mod:`git.files`; ``promptctl.registry`` imports this module for
:func:`keep`, and what a first load needs is imported when one is tried.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat

from .git import files
from .location import folder_prefix, is_remote, locate

TYPE_CHECKING = False  # typing itself costs a cold load ~3 ms
if TYPE_CHECKING:
    from typing import Any

    from .formats.template import Template

FILE = "loads.json"
LIMIT = 32
"""Entries kept; the oldest go first."""
LARGEST = 64 << 10
"""Templates longer than this (characters) are not kept: reading the file stays cheap."""
# Kept loads answer by number as the index numbered when they were kept: a new schema of
# the index (indexfile.SCHEMA_VERSION) may number otherwise, so their format moves with it.
_FORMAT = 2
_LARGEST_FILE = 16 << 20  # bytes: LIMIT entries of LARGEST characters, JSON-escaped
_JOURNAL = "landing.json"  # journal.FILE_NAME (a register was interrupted: the whole way warns)


def load(location: str | None, reference: str, values: dict[str, str]) -> Template | None:
    """What ``promptctl load REFERENCE`` prints for the registry at ``location`` (``None``:
    the one around the current directory): the kept template, else the one a first load
    reads (:func:`_first`), filled with ``values`` if any are given. ``None``: the whole
    way must answer, because nothing is kept and the first load cannot be sure of its
    answer, or ``values`` are not exactly the template's variables (a missing or unused
    value has a message the whole way gives)."""
    try:
        if location is not None and is_remote(location):
            return None
        root = locate(location)
        found = files.find_repository(root)
        if found is None:
            return None
        top, git_dir, common_dir = found
        if os.path.lexists(os.path.join(git_dir, "promptctl", _JOURNAL)):
            return None
        read = _kept(git_dir, common_dir, f"{root}\0{reference}") \
            or _first(top, git_dir, common_dir, root, reference)
        if read is None:
            return None
        template, parts = read
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


def _kept(git_dir: str, common_dir: str, key: str) -> tuple[Template, Any] | None:
    """The template kept under ``key`` and its parts, if what it was read from is the same."""
    entry = _read(git_dir).get(key)
    if entry is None or entry["state"] != _state(git_dir, common_dir, entry["tag"]):
        return None
    template: Template = entry["template"]
    if not (isinstance(template, str) or (isinstance(template, list)
            and all(isinstance(message, dict) for message in template))):
        return None  # not what keep() writes
    return template, entry["parts"]


def _first(top: str, git_dir: str, common_dir: str, root: str,
           reference: str) -> tuple[str, list[str]] | None:
    """A load nothing was kept for, read straight from the version index and Git, and
    kept; ``None`` where the whole way could answer otherwise (see the module)."""
    import sqlite3

    from . import indexfile
    from .errors import PromptctlError
    from .formats import plainyaml, schema
    from .formats.references import alias_ref, parse_ref
    from .formats.template import split_variables

    branch, _ = files.head(git_dir)
    tip = files.resolve(common_dir, branch) if branch is not None else None
    if tip is None or files.fetch_unconfigured(common_dir):
        return None  # a detached HEAD, an unborn branch; a clone the whole way configures
    prefix = folder_prefix(root, top)
    prefix.encode()  # a folder name that is not UTF-8: the whole way refuses it
    try:
        ref = parse_ref(reference)
    except PromptctlError:
        return None
    database = indexfile.path(common_dir, prefix, branch)
    if any(char in database for char in "?#%"):
        return None  # not a path an SQLite URI can hold as it is
    try:  # read-only: never makes an index
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            db.execute("BEGIN")  # one snapshot of the index for every lookup below
            meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('schema', 'tip')"))
            if meta.get("schema") != indexfile.SCHEMA_VERSION or meta.get("tip") != tip or \
                    db.execute(indexfile.FAILING_FINDING,
                               (ref.name, *indexfile.NOTED_FINDINGS)).fetchone():
                return None  # an index to bring up to date; numbers to warn about
            # Git is started only now: after a pull, the index is behind and this is it.
            with _Objects(top) as git:
                tag = target = None
                if ref.alias is not None:
                    tag = alias_ref(ref.name, ref.alias)
                    target = files.resolve(common_dir, tag)
                    commit = git.commit(target) if target is not None else None
                    row = db.execute(indexfile.VERSION_MADE_BY, (ref.name, commit)).fetchone()
                elif ref.version is not None:
                    row = db.execute(indexfile.VERSION_BY_NUMBER,
                                     (ref.name, ref.version)).fetchone()
                else:
                    row = db.execute(indexfile.NEWEST_VERSION, (ref.name,)).fetchone()
                # Read as the whole way reads it (snapshot.read_version): through the commit.
                found = git.read(f"{row[2]}:{prefix}prompts/{ref.name}.yaml") if row else None
    except sqlite3.Error:
        return None  # no index yet, or one the whole way resets
    if found is None or found[:2] != (row[3], "blob"):  # row: VersionRow's columns
        return None
    content = plainyaml.read(found[2].decode("utf-8"))
    if content is None or next(schema.problems(content), None) is not None:
        return None  # YAML must read it, or the whole way reports a problem
    template = content["template"]
    keep(git_dir, common_dir, root, reference, [branch, tip, target], tag, template)
    return template, split_variables(template)


class _Objects:
    """A ``git cat-file --batch`` for the objects a first load reads, started with
    ``posix_spawn``: ``subprocess`` costs a cold load ~3.5 ms to import."""

    def __init__(self, work_tree: str) -> None:
        child_in, to_git = os.pipe()
        from_git, child_out = os.pipe()
        try:
            self._pid = os.posix_spawnp(
                # Found from the work tree, as the whole way's git finds it (with the
                # same refusal of a repository another user owns).
                "git", ["git", "-C", work_tree, "cat-file", "--batch"], os.environ,
                file_actions=[(os.POSIX_SPAWN_DUP2, child_in, 0),
                              (os.POSIX_SPAWN_DUP2, child_out, 1),
                              (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
        except BaseException:
            for fd in (to_git, from_git):
                os.close(fd)
            raise
        finally:
            os.close(child_in)
            os.close(child_out)
        self._to_git = os.fdopen(to_git, "wb")
        self._from_git = os.fdopen(from_git, "rb")

    def __enter__(self) -> _Objects:  # noqa: PYI034 - not meant to be subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):  # it ended already
            self._to_git.close()  # git ends at the end of its input
        self._from_git.close()
        os.waitpid(self._pid, 0)

    def read(self, spec: str) -> tuple[str, str, bytes] | None:
        """``(object id, type, content)`` of ``spec``, or ``None`` when git has none or it
        is larger than :data:`LARGEST` bytes (more than a kept template may hold)."""
        if "\n" in spec:
            return None
        self._to_git.write(spec.encode() + b"\n")
        self._to_git.flush()
        header = self._from_git.readline().split()
        if len(header) != 3:
            return None  # "<spec> missing", or git ended
        size = int(header[2])
        if size > LARGEST:
            return None  # what git still writes is cut off when the pipe is closed
        data = self._from_git.read(size + 1)
        if len(data) != size + 1:
            return None
        return header[0].decode(), header[1].decode(), data[:-1]

    def commit(self, target: str) -> str | None:
        """The commit the object ``target`` is or, as an annotated tag, names."""
        found = self.read(target)
        if found is not None and found[1] == "commit":
            return found[0]
        if found is None or found[1] != "tag":
            return None
        head = found[2].split(b"\n", 2)
        if len(head) < 2 or head[1] != b"type commit" or not head[0].startswith(b"object "):
            return None  # a tag of a tag: the whole way peels it
        return head[0][7:].decode()


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
