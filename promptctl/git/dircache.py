"""The user's index file (``.git/index``), read and patched one entry at a time.

A register reads one entry (is the prompt file staged with edits?) and then sets it to
the new blob; ``git ls-files`` and ``git update-index`` cost a process each (7 ms for
update-index on a 10,000-entry index). Both are done here instead, but only on the index
shape this module knows exactly; anything else is ``None`` (or :class:`Unhandled`) and
the caller asks git:

* version 2 or 3, a real checksum, only the ``TREE`` (cache tree) and ``REUC`` (resolve
  undo) extensions: no split index, sparse index, untracked cache, fsmonitor or
  end-of-entries extension, and no ``GIT_INDEX_FILE``;
* a patch replaces one existing stage-0 entry of a regular file without extended or
  assume-valid flags, keeping its mode, or adds a new one where git sorts it; a
  conflict, or a file where the index has a folder (or the other way round), goes to git.

A patch does what ``git update-index --cacheinfo MODE,BLOB,PATH`` does: the entry gets
the blob and zeroed stat data (so git compares content on its next look), the cache
tree is invalidated along the path, the file is rewritten under ``index.lock`` with a
new checksum. Entries git would see as racily clean (changed in the second the old
index was written) have their size zeroed, as git "smudges" them on every index write:
without that, the newer index file would make an edit made in that second invisible.
"""

from __future__ import annotations

import bisect
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitError, RefLocked
from . import digest
from .locking import HeldLock

_HANDLED_EXTENSIONS = (b"TREE", b"REUC")
_REGULAR = (0o100644, 0o100755)
_STAGE = 0x3000
_EXTENDED = 0x4000
_ASSUME_VALID = 0x8000


class Unhandled(Exception):
    """The index (or the entry) is of a shape this module leaves to git."""


@dataclass
class _Layout:
    """Where things are in one version of the index file's bytes."""

    data: bytes
    entries: dict[bytes, int]  # stage-0 path -> entry offset
    names: list[bytes]  # every entry's path, in the index's (sorted) order
    offsets: list[int]  # where each of those entries starts
    conflicts: set[bytes]  # paths with entries at stages 1-3
    extensions: int  # offset of the first extension (or of the checksum)
    newest_mtime: int  # the largest entry mtime (seconds): racy entries need one this new


class IndexFile:
    """The index of one work tree: ``git_dir/index``."""

    def __init__(self, git_dir: Path) -> None:
        self.path = git_dir / "index"
        self._cached: _Layout | None = None

    def entry(self, path: str) -> tuple[str, str] | None:
        """``(mode, blob)`` of ``path`` at stage 0, ``None`` when absent; raises
        :class:`Unhandled` when git must answer (a conflict, an index shape left to git)."""
        if "GIT_INDEX_FILE" in os.environ:
            raise Unhandled("GIT_INDEX_FILE")
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None  # no index yet: nothing staged
        except OSError as exc:
            raise Unhandled(str(exc)) from exc
        layout = self._layout(data)
        name = path.encode("utf-8", "surrogateescape")
        if name in layout.conflicts or _holds_below(layout, name):
            raise Unhandled("a conflict, or a folder of that name")  # as ls-files lists it
        at = layout.entries.get(name)
        if at is None:
            return None
        mode = struct.unpack_from(">I", data, at + 24)[0]
        return f"{mode:06o}", data[at + 40:at + 60].hex()

    def patch(self, path: str, mode: str, blob: str) -> None:
        """Set the stage-0 entry of ``path`` to ``(mode, blob)`` (added if new) as
        ``update-index --add --cacheinfo`` would; :class:`Unhandled` (nothing written)
        when git must do it, :class:`RefLocked` when ``index.lock`` is held."""
        if "GIT_INDEX_FILE" in os.environ:
            raise Unhandled("GIT_INDEX_FILE")
        lock = self.path.with_name("index.lock")
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            raise RefLocked("update-index", f"Unable to create '{lock}': File exists.") from None
        except OSError as exc:
            raise GitError("update-index", f"cannot create {lock}: {exc.strerror}") from exc
        try:
            with HeldLock(fd, lock, self.path) as held:
                # Read under the lock: what we write back must be what is there now.
                with open(self.path, "rb") as handle:
                    data = handle.read()
                    index_mtime = int(os.fstat(handle.fileno()).st_mtime)
                held.write(self._patched(data, index_mtime, path, int(mode, 8),
                                         bytes.fromhex(blob)))
                held.commit()
        except FileNotFoundError as exc:
            raise Unhandled("no index") from exc
        except OSError as exc:
            raise GitError("update-index", f"cannot write {self.path}: "
                           f"{exc.strerror or exc}") from exc

    def _patched(self, data: bytes, index_mtime: int, path: str, mode: int,
                 blob: bytes) -> bytes:
        layout = self._layout(data)
        name = path.encode("utf-8", "surrogateescape")
        at = layout.entries.get(name)
        if name in layout.conflicts or mode not in _REGULAR:
            raise Unhandled("a conflict, or not a regular file")
        if at is None:
            return self._inserted(layout, index_mtime, name, mode, blob)
        old_mode, = struct.unpack_from(">I", data, at + 24)
        flags, = struct.unpack_from(">H", data, at + 60)
        if old_mode != mode or flags & (_EXTENDED | _ASSUME_VALID):
            raise Unhandled("an entry update-index would change otherwise")
        out = bytearray(data[:layout.extensions])
        if layout.newest_mtime >= index_mtime:
            _smudge_racy(out, index_mtime)
        # As make_cache_entry() leaves it: no stat data, the mode, the blob, same flags.
        out[at:at + 60] = bytes(24) + struct.pack(">I", mode) + bytes(12) + blob
        out += _invalidated(data[layout.extensions:-20], name)
        out += digest.sha1(out)
        patched = bytes(out)
        # The entries kept their places: the new bytes have the same layout.
        self._cached = _Layout(patched, layout.entries, layout.names, layout.offsets,
                               layout.conflicts, layout.extensions, layout.newest_mtime)
        return patched

    def _inserted(self, layout: _Layout, index_mtime: int, name: bytes, mode: int,
                  blob: bytes) -> bytes:
        """The index with a new entry for ``name``, where git sorts it."""
        folders = name.split(b"/")[:-1]
        parents = [b"/".join(folders[:i]) for i in range(1, len(folders) + 1)]
        if (len(name) >= 0xFFF or _holds_below(layout, name)
                or any(parent in layout.entries or parent in layout.conflicts
                       for parent in parents)):
            raise Unhandled("a file where a folder is, or the other way round")
        data = layout.data
        at = bisect.bisect_left(layout.names, name)
        where = layout.offsets[at] if at < len(layout.offsets) else layout.extensions
        entry = bytes(24) + struct.pack(">I", mode) + bytes(12) + blob + \
            struct.pack(">H", len(name)) + name
        entry += bytes(8 - len(entry) % 8)  # NUL-padded to a multiple of 8, at least one
        out = bytearray(data[:where])
        out[8:12] = struct.pack(">I", len(layout.names) + 1)
        if layout.newest_mtime >= index_mtime:
            _smudge_racy(out, index_mtime, at)
        tail = bytearray(data[where:layout.extensions])
        if layout.newest_mtime >= index_mtime and tail:
            _smudge_racy(tail, index_mtime, len(layout.names) - at, start=0)
        out += entry + tail
        out += _invalidated(data[layout.extensions:-20], name)
        out += digest.sha1(out)
        self._cached = None  # the entries moved: the next read walks them again
        return bytes(out)

    def _layout(self, data: bytes) -> _Layout:
        cached = self._cached
        if cached is not None and cached.data == data:
            return cached
        layout = self._cached = _parse(data)
        return layout


def _parse(data: bytes) -> _Layout:
    """Walk the entries once (git keeps no offset table), checking the shape."""
    if len(data) < 32 or data[:4] != b"DIRC":
        raise Unhandled("not an index")
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3):
        raise Unhandled(f"index version {version}")
    trailer = data[-20:]
    if trailer == bytes(20) or digest.sha1(data[:-20]) != trailer:
        raise Unhandled("no checksum, or a wrong one")
    entries: dict[bytes, int] = {}
    names: list[bytes] = []
    offsets: list[int] = []
    conflicts: set[bytes] = set()
    newest = 0
    at = 12
    end = len(data) - 20
    try:
        for _ in range(count):
            mtime, = struct.unpack_from(">I", data, at + 8)
            flags, = struct.unpack_from(">H", data, at + 60)
            start = at + 64 if flags & _EXTENDED else at + 62
            length = flags & 0xFFF
            if length == 0xFFF:
                length = data.index(b"\0", start) - start
            name = data[start:start + length]
            names.append(name)
            offsets.append(at)
            if flags & _STAGE:
                conflicts.add(name)
            else:
                entries[name] = at
            newest = max(newest, mtime)
            at += (start - at + length + 8) & ~7
    except (struct.error, ValueError) as exc:
        raise Unhandled("a truncated entry") from exc
    if at > end:
        raise Unhandled("entries past the end")
    extensions = at
    while at < end:
        if at + 8 > end:
            raise Unhandled("a truncated extension")
        signature = data[at:at + 4]
        size, = struct.unpack_from(">I", data, at + 4)
        if signature not in _HANDLED_EXTENSIONS:
            raise Unhandled(f"extension {signature!r}")
        at += 8 + size
    if at != end:
        raise Unhandled("extensions do not end at the checksum")
    if names != sorted(names):
        raise Unhandled("entries out of order")  # git would refuse it
    return _Layout(data, entries, names, offsets, conflicts, extensions, newest)


def _holds_below(layout: _Layout, name: bytes) -> bool:
    """True when some entry lies inside a folder called ``name``."""
    folder = name + b"/"
    at = bisect.bisect_left(layout.names, folder)
    return at < len(layout.names) and layout.names[at].startswith(folder)


def _smudge_racy(entries: bytearray, index_mtime: int, count: int | None = None,
                 start: int = 12) -> None:
    """Zero the size of every entry modified no earlier than the index was written (git's
    racy-clean rule, by the second: a superset of git's, which is always safe).
    ``entries`` holds ``count`` entries from ``start`` (default: a whole index)."""
    if count is None:
        count, = struct.unpack_from(">I", entries, 8)
    at = start
    for _ in range(count):
        mtime, = struct.unpack_from(">I", entries, at + 8)
        mode, = struct.unpack_from(">I", entries, at + 24)
        if mtime >= index_mtime and mode != 0o160000:  # git leaves submodules be
            entries[at + 36:at + 40] = bytes(4)
        flags, = struct.unpack_from(">H", entries, at + 60)
        start = at + 64 if flags & _EXTENDED else at + 62
        length = flags & 0xFFF
        if length == 0xFFF:
            length = entries.index(b"\0", start) - start
        at += (start - at + length + 8) & ~7


def _invalidated(extensions: bytes, name: bytes) -> bytes:
    """The extensions with the cache tree invalidated along ``name``'s folders."""
    out = bytearray()
    at = 0
    while at < len(extensions):
        signature = extensions[at:at + 4]
        size, = struct.unpack_from(">I", extensions, at + 4)
        body = extensions[at + 8:at + 8 + size]
        if signature == b"TREE":
            body = _invalidate_tree(body, name)
        out += signature + struct.pack(">I", len(body)) + body
        at += 8 + size
    return bytes(out)


def _invalidate_tree(body: bytes, name: bytes) -> bytes:
    """A ``TREE`` extension with every node on ``name``'s path marked invalid (entry
    count -1, no tree id), as git's ``cache_tree_invalidate_path`` leaves it; the other
    nodes byte for byte as they were."""
    *folders, leaf = name.split(b"/")
    out = bytearray()

    def node(at: int, below: list[bytes] | None) -> int:
        # One node, then its subtrees (pre-order). ``below``: the folders still to
        # descend when this node is on the path, else None.
        start = at
        nul = body.index(b"\0", at)
        newline = body.index(b"\n", nul)
        count_text, subtrees_text = body[nul + 1:newline].split(b" ")
        count, subtrees = int(count_text), int(subtrees_text)
        at = newline + 1
        if count >= 0:
            at += 20
            if at > len(body):
                raise Unhandled("a truncated cache tree")
        if below is None:
            out.extend(body[start:at])
        else:
            out.extend(body[start:nul] + b"\0-1 " + subtrees_text + b"\n")
        for _ in range(max(subtrees, 0)):
            child = body[at:body.index(b"\0", at)]
            step: list[bytes] | None = None
            if below:
                step = below[1:] if child == below[0] else None
            elif below is not None and child == leaf:
                raise Unhandled("a folder named like the file")  # git would drop it
            at = node(at, step)
        return at

    try:
        if body and node(0, folders) != len(body):
            raise Unhandled("a cache tree with trailing bytes")
    except ValueError as exc:
        raise Unhandled("a cache tree git would not read") from exc
    return bytes(out)
