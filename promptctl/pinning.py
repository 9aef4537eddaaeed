"""Lock files against the registry: pin references, check pins, load through them.

``lockfile`` reads and writes the file; this module resolves what it pins. A pin holds
the version a reference resolved to, the commit that made it and the SHA-256 of the
prompt file at that commit. A load through a lock file takes the pinned version,
wherever the alias points now, and refuses it unless its content still hashes to the pin.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import LockFileNotFound, LockMismatch, NotFound, NotLocked
from .formats.lockfile import Lock, LockDrift, LockedPrompt, compare, content_hash, read_lock
from .formats.references import PromptRef, parse_ref

if TYPE_CHECKING:
    from .index import VersionRow
    from .snapshot import Snapshot


class Pinning:
    """Lock files against a registry: each call is handed the snapshot it reads."""

    def __init__(self) -> None:
        self._files: dict[Path, tuple[tuple[int, int, int], Lock]] = {}

    def lock(self, snapshot: Snapshot, refs: Iterable[str]) -> Lock:
        """Pin each reference as it resolves now (writing the file is the caller's)."""
        return Lock.of(_pin(snapshot, parse_ref(ref)) for ref in refs)

    def check(self, snapshot: Snapshot, path: str | os.PathLike[str],
              refs: Iterable[str] | None = None) -> list[LockDrift]:
        """What differs between the lock file at ``path`` and the registry now (see
        ``Registry.check_lock``); an empty list means the file is current."""
        locked = read_lock(path)
        wanted = locked.refs if refs is None else [str(parse_ref(ref)) for ref in refs]
        current: list[LockedPrompt] = []
        failures: dict[str, str] = {}
        for ref in dict.fromkeys(wanted):
            try:
                current.append(_pin(snapshot, parse_ref(ref)))
            except NotFound as exc:
                failures[ref] = str(exc)
        return compare(locked, Lock.of(current), failures)

    def pin_of(self, path: Path, ref: PromptRef) -> LockedPrompt:
        """The pin of ``ref`` in the lock file at ``path``; :class:`NotLocked` if it has none."""
        pin = self._read(path).get(str(ref))
        if pin is None:
            raise NotLocked(str(ref), str(path))
        return pin

    @staticmethod
    def pinned_row(snapshot: Snapshot, path: Path, ref: PromptRef,
                   pin: LockedPrompt) -> VersionRow:
        """The version ``pin`` names, checked against it; :class:`LockMismatch` if it changed."""
        row = snapshot.index.version(pin.name, pin.version)
        if row is None:
            raise LockMismatch(str(ref), str(path), f"version {pin.version} no longer exists")
        actual = content_hash(snapshot.read_file(row))
        if actual != pin.sha256:
            raise LockMismatch(
                str(ref), str(path),
                f"the prompt file of version {pin.version} has sha256 {actual[:12]}…, "
                f"the lock pins {pin.sha256[:12]}…",
            )
        return row

    def _read(self, path: Path) -> Lock:
        """The lock file at ``path``, parsed again only when the file changed."""
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise LockFileNotFound(str(path)) from exc
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        known = self._files.get(path)
        if known is None or known[0] != stamp:
            known = self._files[path] = (stamp, read_lock(path))
        return known[1]


def _pin(snapshot: Snapshot, ref: PromptRef) -> LockedPrompt:
    row = snapshot.row(ref)
    return LockedPrompt(str(ref), row.name, row.number, row.commit,
                        content_hash(snapshot.read_file(row)))
