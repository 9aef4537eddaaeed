"""Reading history: first-parent walks, shallow clones, commits and the files between them.

Versions are the commits of the first-parent line that changed a prompt file, so the
walks here diff a merge against its first parent only: a prompt changed on a merged
branch counts once, at the merge.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .errors import GitError, NotFound
from .gitrepo_commands import GitCommands
from .gitrepo_files import ZERO_OID

_UNSHALLOW_LOCK_NAME = "promptctl-unshallow.lock"


@dataclass(frozen=True)
class LogEntry:
    """One commit of a first-parent walk and the files it changed (relative to the repo root).

    ``changes`` holds ``(status, path, blob)`` with status ``A``, ``M``, ``D`` or ``T``.
    """

    commit: str
    parents: tuple[str, ...]
    author: str
    email: str
    timestamp: int
    message: str
    changes: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class FileChange:
    """One file that differs between two commits (paths relative to the repo root).

    ``status`` is ``A``, ``D``, ``M``, ``T`` or ``R`` (a rename: ``old_path`` became
    ``path``, possibly with edits); a blob is ``None`` on the side the file is absent from.
    """

    status: str
    old_path: str
    path: str
    old_blob: str | None
    blob: str | None


class GitHistory(GitCommands):
    """A repository's history, through git log, rev-list, rev-parse and diff-tree."""

    def log_first_parent(
        self, tip: str, *, since: str | None = None, paths: Sequence[str] = ()
    ) -> Iterator[LogEntry]:
        """Commits on the first-parent line from ``since`` (exclusive) to ``tip``, oldest first.

        Merges are diffed against their first parent, so a prompt changed on a merged
        branch counts once, at the merge, as a version of this line.
        """
        args = [
            # Small pack windows and delta cache: on a 100,000-commit history git's own
            # defaults held ~700 MB for the same speed (measured: 72 s either way).
            "-c", "core.packedGitLimit=32m", "-c", "core.packedGitWindowSize=8m",
            "-c", "core.deltaBaseCacheLimit=8m",
            "log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--raw",
            "--reverse", "--no-abbrev", "--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%B%x1f",
            f"{since}..{tip}" if since else tip, "--", *paths,
        ]
        with self._stream(args) as out:
            buffer = b""
            for chunk in iter(lambda: out.read(1 << 16), b""):
                buffer += chunk
                *records, buffer = buffer.split(b"\x1e")
                for record in records:
                    if record:
                        yield parse_log_record(record)
            if buffer.strip():
                yield parse_log_record(buffer)

    def count_first_parent(self, tip: str) -> int:
        """How many commits the first-parent line up to ``tip`` holds (for a progress bar)."""
        return int((self._git("rev-list", "--first-parent", "--count", tip) or "0").strip())

    def last_change(self, commit: str, path: str) -> str | None:
        """The newest commit on the first-parent line of ``commit`` that changed ``path``."""
        out = self._git(
            "log", "--first-parent", "--diff-merges=first-parent", "-1", "--format=%H",
            commit, "--", path, check=False,
        )
        return out.strip() or None if out else None

    def is_ancestor(self, older: str, newer: str) -> bool:
        """True when commit ``older`` is reachable from ``newer``."""
        return self._git("merge-base", "--is-ancestor", older, newer, check=False) is not None

    def rev_parse(self, ref: str) -> str:
        """The commit ``ref`` names (branch, tag, commit id, ``HEAD~2`` …); else :class:`NotFound`."""
        out = self._git(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False
        )
        if not out or not out.strip():
            hint = "; this clone is shallow, fetch the ref first" if self.is_shallow() else ""
            raise NotFound(f"unknown git ref {ref!r}: no commit, branch or tag of that name{hint}")
        return out.strip()

    def changed_files(self, base: str, head: str, folder: str) -> list[FileChange]:
        """Files under ``folder`` that differ from commit ``base`` to ``head``.

        A rename is a file moved with its content unchanged: prompt files are small and
        share their keys, so git's usual 50 % similarity would pair unrelated prompts.
        """
        out = self._git(
            "diff-tree", "-r", "-M100%", "-z", "--no-commit-id", base, head,
            "--", f":(literal){folder}",
        ) or ""
        fields = iter(out.split("\0"))
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

    def is_shallow(self) -> bool:
        """True for a shallow clone, whose history stops short."""
        return (self.common_dir / "shallow").exists()

    def unshallow(self) -> str | None:
        """Fetch the history and tags a shallow clone lacks; return the remote fetched from.

        The remote is the one the current branch tracks, else ``origin``. Tags are fetched
        without ``--force``: a local alias that differs from the remote's stays as it is.
        Returns ``None`` when another process deepened the clone while this one waited.
        Raises :class:`GitError` when there is no remote, the fetch fails, or the clone is
        still shallow afterwards.
        """
        remote = self._history_remote()
        if remote is None:
            raise GitError("fetch", "the repository has no remote to fetch the history from")
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}  # fail, never wait for a password
        lock = self.common_dir / _UNSHALLOW_LOCK_NAME
        try:
            handle = open(lock, "a")  # noqa: SIM115 - closed below, whatever happens
        except OSError as exc:
            raise GitError("fetch", f"cannot lock {lock}: {exc.strerror}") from exc
        with handle:
            # One fetch at a time: processes started together on a fresh CI checkout wait
            # for the first one and find the history already there.
            fcntl.flock(handle, fcntl.LOCK_EX)
            if not self.is_shallow():
                return None
            try:
                self._git("fetch", "--quiet", "--unshallow", "--tags", remote, env=env)
            except GitError:
                if self.is_shallow():
                    raise
                # The history arrived and only a tag was refused (a local alias differs
                # from the remote's): the whole history is what we came for.
        if self.is_shallow():
            raise GitError("fetch", f"the clone is still shallow after fetching from {remote!r}")
        return remote

    def _history_remote(self) -> str | None:
        """The remote the current branch tracks, else ``origin`` if it exists, else ``None``."""
        remotes = (self._git("remote", check=False) or "").split()
        ref = self.head().ref
        if ref is not None and ref.startswith("refs/heads/"):
            key = f"branch.{ref.removeprefix('refs/heads/')}.remote"
            tracked = (self._git("config", "--get", key, check=False) or "").strip()
            if tracked in remotes:
                return tracked
        return "origin" if "origin" in remotes else None


def parse_log_record(record: bytes) -> LogEntry:
    fields = record.decode("utf-8", "replace").split("\x1f", 6)
    commit, parents, author, email, stamp, message, raw = fields
    changes = []
    for line in raw.splitlines():
        if line.startswith(":"):
            meta, _, path = line.partition("\t")
            parts = meta.split()
            changes.append((parts[4][0], path, parts[3]))
    return LogEntry(
        commit, tuple(parents.split()), author, email, int(stamp or 0), message.strip(),
        tuple(changes),
    )
