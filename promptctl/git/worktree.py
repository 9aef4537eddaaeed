"""The user's working tree and index: read and touched one file at a time, never more.

A register changes exactly one path here, ``prompts/<name>.yaml``: its index entry (the
user's other staged work stays staged; read and patched in place by ``dircache`` where it
can, else by ``git ls-files`` / ``git update-index``) and its file, written under a
temporary name and renamed into place. Every change can be undone, so a write that fails
half way leaves the file and the index as they were (see ``writing``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path

from ..errors import Conflict, GitError, PromptctlError
from .dircache import IndexFile, Unhandled
from .runner import Runner

FILE_MODE = "100644"


class Worktree:
    """The working tree and index of a non-bare repository."""

    def __init__(self, runner: Runner, root: Path, git_dir: Path | None = None) -> None:
        self._runner = runner
        self.root = root
        self._index = IndexFile(git_dir if git_dir is not None else root / ".git")

    def staged(self, path: str) -> tuple[str, str] | None:
        """``(mode, blob)`` of ``path`` in the user's index (``None``: not in the index).

        A path in a merge conflict gives ``("conflict", "")``. Read from the index file
        when ``dircache`` knows its shape, else from ``git ls-files``.
        """
        with contextlib.suppress(Unhandled):
            return self._index.entry(path)
        out = self._runner.run_bytes("ls-files", "--stage", "-z", "--", f":(literal){path}")
        entries = [e for e in out.split(b"\0") if e]
        if not entries:
            return None
        if len(entries) > 1:
            return ("conflict", "")
        mode, blob, _stage = entries[0].split(b"\t", 1)[0].split()
        return mode.decode(), blob.decode()

    def read(self, path: str) -> bytes | None:
        """The bytes of the user's copy of ``path`` (``None``: absent), refusing symlinks."""
        target = self._safe_path(path)
        try:
            return target.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise GitError("read", f"cannot read {path}: {exc.strerror or exc}") from exc

    def stage(self, path: str, entry: tuple[str, str] | None) -> None:
        """Set the index entry of ``path`` to ``(mode, blob)``, or remove it (``None``)."""
        if entry is None:
            self._git_on_index("update-index", "--force-remove", "--", path)
            return
        with contextlib.suppress(Unhandled):
            # Patched in place (or added), as update-index would leave it.
            self._index.patch(path, entry[0], entry[1])
            return
        self._git_on_index("update-index", "--add", "--cacheinfo",
                           f"{entry[0]},{entry[1]},{path}")

    def _git_on_index(self, *args: str) -> None:
        """Run a git command that rewrites the index under ``index.lock``. Git removes its
        lock as it fails, but not when a signal kills it (SIGKILL, SIGXFSZ): a lock that
        was not there before and was made since this command started is its, and is
        removed, so the next write does not meet a stale lock."""
        lock = self._index.path.with_name("index.lock")
        started = time.time_ns()
        held = os.path.lexists(lock)
        try:
            self._runner.run(*args)
        except GitError as exc:
            if exc.signal is not None and not held:
                with contextlib.suppress(OSError):
                    if os.lstat(lock).st_mtime_ns >= started - 10_000_000:  # coarse clocks
                        os.unlink(lock)
            raise

    def write(self, path: str, data: bytes | None, mode: str = FILE_MODE) -> None:
        """Make the user's copy of ``path`` hold ``data`` (``None``: remove it), atomically."""
        target = self._safe_path(path)
        if data is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            return
        temp = target.with_name(f".{target.name}.promptctl-{os.getpid()}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._safe_path(path)  # mkdir may have met a folder swapped for a link meanwhile
            with open(temp, "wb") as handle:
                handle.write(data)
            os.chmod(temp, 0o755 if mode == "100755" else 0o644)
            os.replace(temp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise GitError("write", f"cannot write {path}: {exc.strerror or exc}") from exc

    def update(self, old: str, new: str) -> None:
        """Carry the user's index and files from commit ``old`` to ``new``, as a checkout would.

        ``read-tree -m -u`` touches only the paths that differ and refuses (a
        :class:`Conflict`, nothing changed) when one of them has local edits.
        """
        try:
            # read-tree takes an entry whose stat data does not match its file for an
            # edit, as a register leaves its entry (no stat data, like --cacheinfo) and as
            # an index write leaves a racily clean one (smudged): refresh first, as checkout
            # and merge do. A refresh rewrites only the stat data of entries whose file
            # holds their content; an edited file still blocks the update.
            self._git_on_index("update-index", "-q", "--unmerged", "--refresh")
            self._git_on_index("read-tree", "-m", "-u", old, new)
        except PromptctlError as exc:
            raise Conflict(f"cannot update your working tree: {exc}") from exc

    def _safe_path(self, path: str) -> Path:
        """``root/path``, refused when a folder on the way or the file itself is a symlink:
        a link could point anywhere, and a write must never land outside the repository."""
        current = self.root
        parts = path.split("/")
        for i, part in enumerate(parts):
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                break
            except OSError as exc:
                raise GitError("write", f"cannot use {path}: {exc.strerror or exc}") from exc
            if stat.S_ISLNK(info.st_mode):
                shown = "/".join(parts[: i + 1])
                raise Conflict(f"{shown} is a symbolic link; promptctl writes prompt files "
                               "only inside the repository")
        return self.root / path
