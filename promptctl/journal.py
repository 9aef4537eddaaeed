"""The landing journal: what a register is about to change, noted before it changes it.

A register lands in three steps (``writing.land``): the user's file, its index entry,
then the branch. A process killed between them leaves a file and an index entry that no
commit holds. So before the first step, ``<git-dir>/promptctl/landing.json`` is written
(under a temporary name, then renamed: it is whole or absent) naming the branch, the
commit it will move from and to, the path, and what the file and index entry held
before and will hold after; it is removed once the branch moved, or once a failed
landing was undone. A journal found later means a landing was interrupted: the next
write puts it back (``writing.recover``), reads warn.

Reading the journal is the only thing a read needs from here, and only when it exists
(:func:`exists` is one ``stat``): the load path imports nothing else of the write path.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import NamedTuple

from .errors import GitError

FILE_NAME = "landing.json"


def journal_path(git_dir: Path) -> Path:
    """Where the journal of the working tree whose git dir is ``git_dir`` lives."""
    return git_dir / "promptctl" / FILE_NAME


def exists(git_dir: Path) -> bool:
    """Whether an interrupted landing left its journal (one ``stat``)."""
    return os.path.lexists(journal_path(git_dir))


class Landing(NamedTuple):
    """One landing in progress: ``branch`` moves from ``parent`` to ``commit``; ``path``
    goes from ``old_blob`` (``None``: absent) to ``new_blob`` in the file, from
    ``old_entry`` to ``(mode, new_blob)`` in the index. ``pid`` made the temporary file."""

    branch: str
    parent: str | None
    commit: str
    path: str
    old_blob: str | None
    old_entry: tuple[str, str] | None
    new_blob: str
    mode: str
    pid: int


def begin(git_dir: Path, landing: Landing) -> None:
    """Write the journal of ``landing``, whole (temporary name, then rename)."""
    _write(journal_path(git_dir), landing._asdict())


def _write(target: Path, data: dict[str, object]) -> None:
    temp = target.with_name(target.name + ".tmp")  # one writer at a time: the write mutex
    try:
        target.parent.mkdir(exist_ok=True)
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise GitError("write", f"cannot write {target}: {exc.strerror or exc}") from exc
        raise


def end(git_dir: Path) -> None:
    """Remove the journal: the landing completed, or was put back."""
    with contextlib.suppress(OSError):  # left behind, it only says the landing completed
        os.unlink(journal_path(git_dir))


def read(git_dir: Path) -> Landing | None:
    """The interrupted landing the journal names; ``None`` when there is none, or when it
    cannot be read as one (then there is nothing to put back: it was being written)."""
    try:
        data = json.loads(journal_path(git_dir).read_text(encoding="utf-8"))
        entry = data["old_entry"]
        return Landing(
            str(data["branch"]), _opt(data["parent"]), str(data["commit"]), str(data["path"]),
            _opt(data["old_blob"]), (str(entry[0]), str(entry[1])) if entry else None,
            str(data["new_blob"]), str(data["mode"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


# -- alias moves ---------------------------------------------------------------------------

MOVE_FILE_NAME = "alias-move.json"


class AliasMove(NamedTuple):
    """One alias move in progress: tag ``ref`` goes from ``old`` to ``new`` (tag object
    ids; ``None``: absent) in the same transaction that appends ``record`` (the alias-log
    message) to the log, written by ``author``. Git renames the transaction's lock files
    one at a time, so a kill can move the tag without the record: the journal says
    which record to append."""

    ref: str
    old: str | None
    new: str | None
    record: str
    author: tuple[str, str] | None
    pid: int


def move_path(git_dir: Path) -> Path:
    """Where the alias-move journal lives."""
    return git_dir / "promptctl" / MOVE_FILE_NAME


def begin_move(git_dir: Path, move: AliasMove) -> None:
    """Write the journal of an alias move, whole."""
    _write(move_path(git_dir), move._asdict())


def end_move(git_dir: Path) -> None:
    """Remove the alias-move journal: the move and its record landed, or neither did."""
    with contextlib.suppress(OSError):
        os.unlink(move_path(git_dir))


def read_move(git_dir: Path) -> AliasMove | None:
    """The interrupted alias move the journal names (``None``: none, or unreadable)."""
    try:
        data = json.loads(move_path(git_dir).read_text(encoding="utf-8"))
        author = data["author"]
        return AliasMove(str(data["ref"]), _opt(data["old"]), _opt(data["new"]),
                         str(data["record"]),
                         (str(author[0]), str(author[1])) if author else None, int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def running(pid: int) -> bool:
    """Whether process ``pid`` still runs (its landing may simply not be done yet)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: it exists
    return True


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
