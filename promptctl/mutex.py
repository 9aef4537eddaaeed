"""The write mutex: promptctl's writers on one repository take turns.

An ``flock`` on ``<git-common-dir>/promptctl/write.lock``, held by one process at a time
and re-entrant inside it (a write made of writes, threads sharing one ``Registry``).
It only orders promptctl's own writers; anyone else (plain git) is caught by the
compare-and-swap every ref move makes. The kernel drops an ``flock`` when its process
dies, so a crash never leaves this one held.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import GitError


class WriteMutex:
    """The write mutex of one repository (``common_dir`` is its git common dir)."""

    def __init__(self, common_dir: Path) -> None:
        self._path = common_dir / "promptctl" / "write.lock"
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._handle: IO[str] | None = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the mutex for the duration of the block (waits for other writers)."""
        with self._thread_lock:
            if self._depth == 0:
                try:
                    self._path.parent.mkdir(exist_ok=True)
                    handle = open(self._path, "a")  # noqa: SIM115 - closed on release
                except OSError as exc:
                    raise GitError("write", f"cannot open {self._path}: "
                                   f"{exc.strerror or exc}") from exc
                fcntl.flock(handle, fcntl.LOCK_EX)
                self._handle = handle
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._handle is not None:
                    fcntl.flock(self._handle, fcntl.LOCK_UN)
                    self._handle.close()
                    self._handle = None
