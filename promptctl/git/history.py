"""History: which commits there are, what they hold, and which files they changed.

Git's output is parsed by structure only, so no commit content can pass for structure:
commit ids and parents come from ``rev-list`` (hex and spaces), each commit's message,
author and tree are read from the commit object itself (:func:`parse_commit`: the header
ends at the first blank line, the message is the rest) or, for a long walk, from one
``rev-list --format`` whose entries end in a random marker made for that run (so no
message can end an entry early), and file changes come from ``diff-tree -z``
(NUL-separated, so a path or message cannot fake a line).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from ..errors import GitError, NotFound
from .objects import Objects
from .refs import ZERO_OID, Refs
from .runner import Runner

_HEX40 = re.compile(rb"[0-9a-f]{40}")
# The fields of a walk entry before the author: id, tree, parents, author date.
_ENTRY_HEAD = re.compile(rb"([0-9a-f]{40})\0([0-9a-f]{40})\0((?:[0-9a-f]{40}(?: [0-9a-f]{40})*)?)"
                         rb"\0([0-9]*)\0")
_UNSHALLOW_LOCK_NAME = "promptctl-unshallow.lock"
_WALK_CHUNK = 1 << 20  # bytes of a walk's output parsed at a time

# Small pack windows and delta cache: on a 100,000-commit history git's own defaults
# held ~700 MB for the same speed.
_LOW_MEMORY = ("-c", "core.packedGitLimit=32m", "-c", "core.packedGitWindowSize=8m",
               "-c", "core.deltaBaseCacheLimit=8m")


class Commit(NamedTuple):
    """One commit as its object says: id, tree, parents, author and message.

    A named tuple, not a dataclass: a first index build makes one per commit, 100,000
    of them on a large registry.
    """

    id: str
    tree: str
    parents: tuple[str, ...]
    author: str
    email: str
    timestamp: int
    message: str


class FileChange(NamedTuple):
    """One file that differs between two commits (paths relative to the repo root).

    ``status`` is ``A``, ``D``, ``M``, ``T`` or ``R`` (a rename: ``old_path`` became
    ``path``, possibly with edits); a blob is ``None`` on the side the file is absent from.
    """

    status: str
    old_path: str
    path: str
    old_blob: str | None
    blob: str | None


def parse_commit(oid: str, data: bytes) -> Commit | None:
    """A commit object's content as a :class:`Commit`; ``None`` if it is not one we can read."""
    header, _, body = data.partition(b"\n\n")
    tree = ""
    parents: list[str] = []
    author, email, stamp = "", "", 0
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key == b"tree" and _HEX40.fullmatch(value):
            tree = value.decode()
        elif key == b"parent" and _HEX40.fullmatch(value):
            parents.append(value.decode())
        elif key == b"author":
            who, _, when = value.rpartition(b"> ")
            name, _, mail = who.partition(b" <")
            author = name.decode("utf-8", "replace")
            email = mail.decode("utf-8", "replace")
            with contextlib.suppress(ValueError, IndexError):
                stamp = int(when.split()[0])
    if not tree:
        return None
    message = body.decode("utf-8", "replace").strip()
    return Commit(oid, tree, tuple(parents), author, email, stamp, message)


def _walk_entry(entry: bytes, names: dict[bytes, str], ids: dict[bytes, str]) -> Commit:
    """One entry of :meth:`History.walk`'s output (without its end marker); ``names``
    holds the author names and emails decoded so far, ``ids`` the parents named so far
    whose own entry has not come yet.

    A commit's id is the same string as its child's parent: git lists children first,
    so a parent's id is decoded once and taken back from ``ids`` when its entry comes
    (~9 MB of a 100,000-commit build, one string per commit where there were two)."""
    head = _ENTRY_HEAD.match(entry)
    fields = entry[head.end():].split(b"\0", 2) if head else ()
    if head is None or len(fields) != 3:
        raise GitError("rev-list", "a commit entry without all its fields")
    oid, tree, parents, stamp = head.groups()
    author, email, message = fields
    for raw in (author, email):
        if raw not in names:
            names[raw] = raw.decode("utf-8", "replace")
    parent_ids = []
    for parent in parents.split():
        known = ids.get(parent)
        if known is None:
            known = ids[parent] = parent.decode()
        parent_ids.append(known)
    return Commit(ids.pop(oid, "") or oid.decode(), tree.decode(), tuple(parent_ids),
                  names[author], names[email], int(stamp) if stamp else 0,
                  message.decode("utf-8", "replace").strip())


class History:
    """Walks and comparisons of one repository's commits."""

    def __init__(self, runner: Runner, refs: Refs, objects: Objects, root: Path) -> None:
        self._runner = runner
        self._refs = refs
        self._objects = objects
        self._root = root

    def walk(self, *tips: str, since: str | None = None) -> Iterator[Commit]:
        """Every commit reachable from ``tips`` and not from ``since``, newest first by
        commit date (no other order is promised: clocks skew), read in one process (the
        graph and each commit's fields at once).

        Yielded as git writes them: git needs no whole-history sort before its first
        entry, so on a long history git reading commits and the caller's work on them
        run side by side.
        """
        token = os.urandom(16).hex()  # unguessable: no message can hold it
        marker = f"\0{token}\n".encode()
        args = ["rev-list", "--no-commit-header",
                f"--format=%H%x00%T%x00%P%x00%at%x00%an%x00%ae%x00%B%x00{token}",
                *tips, *([f"^{since}"] if since else []), "--"]
        rest = b""
        names: dict[bytes, str] = {}  # a history has few authors: one string each
        ids: dict[bytes, str] = {}  # parents not walked yet (see _walk_entry)
        with self._runner.stream(*_LOW_MEMORY, *args) as out:
            while chunk := out.read(_WALK_CHUNK):
                entries = (rest + chunk).split(marker)
                rest = entries.pop()  # the entry still being written
                for entry in entries:
                    yield _walk_entry(entry, names, ids)
        if rest.strip():
            raise GitError("rev-list", "unexpected output after the last commit")

    def read_commits(self, ids: Sequence[str]) -> Iterator[Commit]:
        """The commits ``ids`` name, in that order, read from their objects in one process."""
        if not ids:
            return
        if len(ids) < 64:  # not worth a second process
            for oid in ids:
                found = self._objects.read(oid)
                commit = parse_commit(oid, found[1]) if found and found[0] == "commit" else None
                if commit is None:
                    raise GitError("cat-file", f"cannot read commit {oid}")
                yield commit
            return
        proc = subprocess.Popen(["git", *_LOW_MEMORY, "cat-file", "--batch"], cwd=self._root,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        assert proc.stdin is not None and proc.stdout is not None
        stdin = proc.stdin

        def feed() -> None:  # in a thread: a full stdout pipe would block our writes
            with contextlib.suppress(OSError):
                stdin.write("".join(f"{oid}\n" for oid in ids).encode())
                stdin.close()

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:
            for oid in ids:
                header = proc.stdout.readline().split()
                if len(header) != 3 or header[1] != b"commit":
                    raise GitError("cat-file", f"cannot read commit {oid}")
                size = int(header[2])
                data = proc.stdout.read(size + 1)[:-1]
                commit = parse_commit(oid, data)
                if commit is None:
                    raise GitError("cat-file", f"cannot read commit {oid}")
                yield commit
        finally:
            proc.stdout.close()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            writer.join()

    def first_parent_changes(self, commits: Iterable[tuple[str, str | None]],
                             folder: str) -> dict[str, list[FileChange]]:
        """For each ``(commit, first parent or None)``, the files under ``folder`` it changed.

        One ``diff-tree --stdin`` for all: a merge is compared with its first parent only,
        so a prompt changed on a merged branch counts once, at the merge.
        """
        pairs = list(commits)
        if not pairs:
            return {}
        lines = "".join(f"{c} {p}\n" if p else f"{c}\n" for c, p in pairs)
        out = self._runner.run_bytes(*_LOW_MEMORY, "diff-tree", "--stdin", "-r", "-z",
                                     "--no-renames", "--root", "--always", "--",
                                     f":(literal){folder}", input=lines.encode())
        found: dict[str, list[FileChange]] = {c: [] for c, _ in pairs}
        current: list[FileChange] | None = None
        fields = iter(out.split(b"\0"))
        for field in fields:
            if _HEX40.fullmatch(field):
                current = found.get(field.decode())
                continue
            if not field.startswith(b":") or current is None:
                continue
            meta = field[1:].split()
            path = next(fields, b"").decode("utf-8", "surrogateescape")
            if len(meta) != 5:
                continue
            old_blob, blob = meta[2].decode(), meta[3].decode()
            current.append(FileChange(meta[4][:1].decode(), path, path,
                                      None if old_blob == ZERO_OID else old_blob,
                                      None if blob == ZERO_OID else blob))
        return found

    def count(self, tip: str) -> int:
        """How many commits ``tip`` has in all (for a progress bar)."""
        return int(self._runner.run("rev-list", "--count", tip).strip() or 0)

    def unreachable(self, commits: Iterable[str], tips: Iterable[str]) -> set[str] | None:
        """Those of ``commits`` that none of ``tips`` reaches (``None``: a commit is gone,
        pruned, and nothing is known)."""
        wanted, tips = set(commits), set(tips)
        if not wanted:
            return set()
        # rev-list reads them from stdin: thousands of commits fit no command line.
        revs = "".join(f"{c}\n" for c in sorted(wanted)) + "".join(f"^{t}\n" for t in tips)
        try:
            out = self._runner.run("rev-list", "--stdin", input=revs)
        except GitError:
            return None
        return wanted & set(out.split())

    def is_ancestor(self, older: str, newer: str) -> bool:
        """True when commit ``older`` is reachable from ``newer``."""
        return self._runner.try_run("merge-base", "--is-ancestor", older, newer) is not None

    def merge_base(self, one: str, other: str) -> str | None:
        """The best common ancestor of two commits, or ``None`` when they share no history."""
        out = self._runner.try_run("merge-base", one, other)
        return out.strip() or None if out else None

    def rev_parse(self, ref: str) -> str:
        """The commit ``ref`` names (branch, tag, id, ``HEAD~2`` …); else :class:`NotFound`."""
        out = self._runner.try_run("rev-parse", "--verify", "--quiet", "--end-of-options",
                                   f"{ref}^{{commit}}")
        if not out or not out.strip():
            hint = "; this clone is shallow, fetch the ref first" if self._refs.is_shallow() else ""
            raise NotFound(f"unknown git ref {ref!r}: no commit, branch or tag of that name{hint}")
        return out.strip()

    def changed_files(self, base: str, head: str, folder: str) -> list[FileChange]:
        """Files under ``folder`` that differ from commit ``base`` to ``head``.

        A rename is a file moved with its content unchanged: prompt files are small and
        share their keys, so git's usual 50 % similarity would pair unrelated prompts.
        """
        out = self._runner.run_bytes("diff-tree", "-r", "-M100%", "-z", "--no-commit-id",
                                     base, head, "--", f":(literal){folder}")
        fields = iter(out.decode("utf-8", "surrogateescape").split("\0"))
        found = []
        for meta in fields:  # -z: ":modes blobs status" NUL path NUL [new path NUL]
            if not meta.startswith(":"):
                continue
            _, _, old_blob, blob, status = meta[1:].split()
            old_path = next(fields)
            path = next(fields) if status[0] in "RC" else old_path
            found.append(FileChange(
                status[0], old_path, path,
                None if old_blob == ZERO_OID else old_blob, None if blob == ZERO_OID else blob,
            ))
        return found

    def unshallow(self) -> str | None:
        """Fetch the history and tags a shallow clone lacks; return the remote fetched from.

        The remote is the one the current branch tracks, else ``origin``. Tags are fetched
        without ``--force``: a local alias that differs from the remote's stays as it is.
        Returns ``None`` when another process deepened the clone while this one waited.
        Raises :class:`GitError` when there is no remote, the fetch fails, or the clone is
        still shallow afterwards.
        """
        remote = self.tracked_remote()
        if remote is None:
            raise GitError("fetch", "the repository has no remote to fetch the history from")
        lock = self._refs.common_dir / _UNSHALLOW_LOCK_NAME
        try:
            handle = open(lock, "a")  # noqa: SIM115 - closed below, whatever happens
        except OSError as exc:
            raise GitError("fetch", f"cannot lock {lock}: {exc.strerror}") from exc
        with handle:
            # One fetch at a time: processes started together on a fresh CI checkout wait
            # for the first one and find the history already there.
            fcntl.flock(handle, fcntl.LOCK_EX)
            if not self._refs.is_shallow():
                return None
            result = self._runner.network("fetch", "--quiet", "--unshallow", "--tags", remote)
            # A refused tag (a local alias differs from the remote's) is not a failure:
            # the whole history is what we came for.
            if result.returncode and self._refs.is_shallow():
                from .runner import first_line

                raise GitError("fetch", first_line(result.stderr))
        if self._refs.is_shallow():
            raise GitError("fetch", f"the clone is still shallow after fetching from {remote!r}")
        return remote

    def tracked_remote(self) -> str | None:
        """The remote the current branch tracks, else ``origin`` if it exists, else ``None``."""
        remotes = (self._runner.try_run("remote") or "").split()
        ref = self._refs.head().ref
        if ref is not None and ref.startswith("refs/heads/"):
            key = f"branch.{ref.removeprefix('refs/heads/')}.remote"
            tracked = (self._runner.try_run("config", "--get", key) or "").strip()
            if tracked in remotes:
                return tracked
        return "origin" if "origin" in remotes else None
