"""``.git``'s own files, read with nothing but ``os``: where a repository is, HEAD, a ref.

The rest of the Git layer builds on these (``Repo.find``, :class:`~.refs.Refs`), and so
does the cold ``promptctl load`` (``promptctl.coldload``), which must answer before a
heavier module would have finished importing: nothing here may import more than ``os``.
Paths are plain strings for the same reason (``pathlib`` costs a cold load ~2 ms).
"""

from __future__ import annotations

import os


def find_repository(start: str) -> tuple[str, str, str] | None:
    """``(work tree root, git dir, common dir)`` of the repository containing the folder
    ``start`` (an absolute path), or ``None``.

    A ``.git`` file (a linked worktree, a submodule) names the git dir; a ``commondir``
    file there names the common dir, which holds the refs and objects.
    """
    folder = start
    while True:
        dot_git = os.path.join(folder, ".git")
        if os.path.isdir(dot_git):
            return folder, dot_git, _common_dir(dot_git)
        if os.path.isfile(dot_git):
            text = _read_text(dot_git) or ""
            if text.startswith("gitdir:"):
                git_dir = os.path.realpath(os.path.join(folder, text[7:].strip()))
                return folder, git_dir, _common_dir(git_dir)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def head(git_dir: str) -> tuple[str | None, str | None]:
    """HEAD as ``(branch ref, None)``, or ``(None, commit)`` when detached (``(None,
    None)``: no HEAD file)."""
    text = _read_text(os.path.join(git_dir, "HEAD")) or ""
    if text.startswith("ref:"):
        return text[4:].strip(), None
    return None, text or None


def read_loose(common_dir: str, refname: str) -> str | None:
    """What the loose ref file ``refname`` holds (an object id, or ``ref: <name>`` for a
    symbolic ref), or ``None`` when there is no such file."""
    try:
        with open(f"{common_dir}/{refname}", "rb") as handle:
            return handle.read(4096).decode("utf-8", "replace").strip() or None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def packed_target(data: bytes, refname: str) -> str | None:
    """The object id ``packed-refs`` (its bytes, ``data``) gives ``refname``, or ``None``.

    Bytes, not text: at 20,000 aliases the file is ~2 MB, and decoding it all would cost
    more than finding the one line."""
    start, end = packed_block(data, refname.encode("utf-8", "surrogateescape"))
    needle = f" {refname}\n".encode("utf-8", "surrogateescape")
    at = data.find(needle, start, end)
    while at >= 0:
        target = data[data.rfind(b"\n", 0, at) + 1:at]
        if b" " not in target and not target.startswith((b"#", b"^")):  # not a comment
            return target.decode("ascii", "replace")
        at = data.find(needle, at + 1, end)
    return None


def packed_block(data: bytes, prefix: bytes) -> tuple[int, int]:
    """Where the refs whose names start with ``prefix`` stand in ``packed-refs`` (its
    bytes, ``data``): the offset of their first line, and the one just past their last.

    A file git wrote says on its first line that it is sorted, so the block is found by
    bisection, as git finds a ref there: ~20 µs at any size, where a scan for the name
    read the file up to it (at 20,000 aliases, ~0.3 ms on average for every prompt a load
    asks about).
    A file that does not say so is read whole: the block is all of it.
    """
    if not data.startswith(b"#") or b" sorted" not in data[:data.find(b"\n")]:
        return 0, len(data)
    first = data.find(b"\n") + 1
    start = _first_ref(data, first, prefix, after=False)
    return start, _first_ref(data, start, prefix, after=True)


def _first_ref(data: bytes, lo: int, prefix: bytes, *, after: bool) -> int:
    """The offset of the first ref line from ``lo`` whose name, cut to ``prefix``'s length,
    is at least ``prefix`` (``after``: past it); ``len(data)`` if none is.

    Each step reads the line holding the middle offset (or the ref line a peeled ``^``
    line belongs to) and moves one bound past it, so it ends on any bytes, sorted or not.
    A line with no name (a peeled line at ``lo``, whose ref is behind) counts as before.
    """
    hi = len(data)
    size = len(prefix)
    while lo < hi:
        mid = (lo + hi) // 2
        line = data.rfind(b"\n", lo, mid) + 1 or lo
        if data.startswith(b"^", line) and line > lo:  # a peeled line: its ref is above
            line = data.rfind(b"\n", lo, line - 1) + 1 or lo
        end = data.find(b"\n", line, hi)
        end = hi if end < 0 else end
        space = data.find(b" ", line, end)
        key = data[space + 1:min(space + 1 + size, end)] if space >= 0 else b""
        if key > prefix if after else key >= prefix:
            hi = line
        else:
            lo = min(data.find(b"\n", mid) + 1 or hi, hi)
    return lo


def resolve(common_dir: str, refname: str, depth: int = 0) -> str | None:
    """The object id ``refname`` points to (symbolic refs followed), or ``None``."""
    loose = read_loose(common_dir, refname)
    if loose is None:
        data = _read_bytes(os.path.join(common_dir, "packed-refs"))
        return packed_target(data, refname) if data else None
    if loose.startswith("ref:"):
        return resolve(common_dir, loose[4:].strip(), depth + 1) if depth < 5 else None
    return loose


FETCH_REFSPECS = ("+refs/tags/prompts/*:refs/tags/prompts/*",
                  "+refs/promptctl/*:refs/remotes/origin/promptctl/*")
"""What ``git fetch`` must bring for aliases to stay current: moved tags are force-updated
(plain fetch keeps a moved tag where it was), the alias log is fetched at all."""


def fetch_unconfigured(common_dir: str) -> bool:
    """True when the repository has an ``origin`` whose fetch does not bring
    :data:`FETCH_REFSPECS` yet (a ``Registry`` adds them, once per clone)."""
    try:
        with open(os.path.join(common_dir, "config"), "rb") as handle:
            config = handle.read()
    except OSError:
        return False  # an unreadable config: nothing can be configured there either
    return b'[remote "origin"]' in config and FETCH_REFSPECS[0].encode() not in config


def _common_dir(git_dir: str) -> str:
    named = _read_text(os.path.join(git_dir, "commondir"))
    return os.path.realpath(os.path.join(git_dir, named)) if named else git_dir


def _read_text(path: str) -> str | None:
    data = _read_bytes(path)
    return None if data is None else data.decode("utf-8", "replace").strip()


def _read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
