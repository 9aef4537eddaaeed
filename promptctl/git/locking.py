"""Git's lock-file protocol for replacing one file: write ``<file>.lock``, then rename it
over the file; a lock given up (an error, a refusal) is removed, so the file is either
as it was or wholly new. Taking the lock stays with the caller: a ref lock retries for
``core.filesRefLockTimeout``, the index lock does not, and each names its own error."""

from __future__ import annotations

import contextlib
import os
from types import TracebackType
from typing import final


@final
class HeldLock:
    """A lock file created exclusively (``fd``) at ``lock``, standing in for ``target``.

    Used as a context manager: leaving it without :meth:`commit` removes the lock file.
    """

    def __init__(self, fd: int, lock: str | os.PathLike[str],
                 target: str | os.PathLike[str]) -> None:
        self._fd = fd
        self._lock = lock
        self._target = target
        self._committed = False

    def write(self, data: bytes) -> None:
        """Append ``data`` to the lock file, all of it."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def commit(self) -> None:
        """Close the lock file and rename it over the target."""
        self._close()
        os.replace(self._lock, self._target)
        self._committed = True

    def _close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._close()
        if not self._committed:
            with contextlib.suppress(OSError):
                os.unlink(self._lock)
