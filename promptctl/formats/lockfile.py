"""Lock files: the exact version each prompt reference of an application resolved to.

A lock file pins references such as ``support/summarize@production`` to a version, the
commit that made that version, and the SHA-256 of the prompt file's bytes at that commit
(what ``git show <commit>:prompts/<name>.yaml | sha256sum`` prints), so a deploy loads
exactly what was tested however the aliases move afterwards.

The file is JSON, not YAML: it is written by a program and read at every deploy, so it
needs no parser beyond the standard library, and sorted keys with a fixed indent give
the same bytes for the same pins (stable diffs in review)::

    {
      "lock_version": 1,
      "prompts": {
        "support/summarize@production": {
          "commit": "3f2a…", "name": "support/summarize", "sha256": "9b1c…", "version": 4
        }
      }
    }

Keys are references in their canonical form (``name@alias``, ``name@latest``,
``name/3``). This module holds the values and reads, writes and compares them; resolving
references is the registry's job (``Registry.lock``, ``Registry.check_lock``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import InvalidInput, InvalidLockFile, LockFileError, LockFileNotFound
from .bounded import json_depth_problem, read_text_file, shown_key, text_size_problem
from .references import parse_ref

LOCK_FORMAT = 1
DEFAULT_LOCK_FILE = "promptctl.lock"

MAX_LOCK_BYTES = 16 * 1024 * 1024
"""The largest lock file read: a pin is about 250 bytes, so some 60,000 references."""

_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def content_hash(data: bytes) -> str:
    """The SHA-256 (hex) of a prompt file's bytes, as a lock file records it."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class LockedPrompt:
    """One pinned reference: the version it resolved to, that version's commit and hash."""

    ref: str
    name: str
    version: int
    commit: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the reference included)."""
        return {"ref": self.ref, "name": self.name, "version": self.version,
                "commit": self.commit, "sha256": self.sha256}


@dataclass(frozen=True)
class Lock:
    """The pins of a lock file, sorted by reference (one pin per reference)."""

    prompts: tuple[LockedPrompt, ...] = ()

    @classmethod
    def of(cls, pins: Iterable[LockedPrompt]) -> Lock:
        """A lock of ``pins``, sorted; of two pins for one reference the last wins."""
        by_ref = {pin.ref: pin for pin in pins}
        return cls(tuple(by_ref[ref] for ref in sorted(by_ref)))

    @property
    def refs(self) -> tuple[str, ...]:
        """The pinned references."""
        return tuple(pin.ref for pin in self.prompts)

    @cached_property
    def _by_ref(self) -> dict[str, LockedPrompt]:
        return {pin.ref: pin for pin in self.prompts}

    def get(self, ref: str) -> LockedPrompt | None:
        """The pin of ``ref`` (canonical form, e.g. ``name@production``), or ``None``."""
        return self._by_ref.get(ref)

    def to_dict(self) -> dict[str, Any]:
        """The document a lock file holds."""
        return {
            "lock_version": LOCK_FORMAT,
            "prompts": {
                pin.ref: {"name": pin.name, "version": pin.version, "commit": pin.commit,
                          "sha256": pin.sha256}
                for pin in self.prompts
            },
        }


@dataclass(frozen=True)
class LockDrift:
    """How one reference differs from its pin (``Registry.check_lock``).

    ``kind`` is one of:

    * ``moved``: the reference now resolves to another version (an alias moved);
    * ``rewritten``: the same version number is now another commit (history rewritten);
    * ``content``: the prompt file of the pinned commit does not hash to the pin;
    * ``unresolved``: the reference no longer resolves (``detail`` says why);
    * ``unlocked``: a reference asked for is not in the lock file;
    * ``unrequested``: the lock file pins a reference that was not asked for.
    """

    ref: str
    kind: str
    locked: LockedPrompt | None
    current: LockedPrompt | None
    detail: str | None = None

    @property
    def description(self) -> str:
        """One line saying what changed."""
        old, new = self.locked, self.current
        if self.kind == "unlocked":
            return f"{self.ref}: not in the lock file"
        if self.kind == "unrequested":
            return f"{self.ref}: in the lock file but not requested"
        if self.kind == "unresolved" or old is None or new is None:
            return f"{self.ref}: no longer resolves ({self.detail})"
        if self.kind == "moved":
            return f"{self.ref}: now version {new.version}, locked at version {old.version}"
        if self.kind == "rewritten":
            content = "" if new.sha256 == old.sha256 else ", and its content differs"
            return (f"{self.ref}: version {new.version} is now commit {new.commit[:10]}, locked "
                    f"at commit {old.commit[:10]} (history was rewritten{content})")
        return (f"{self.ref}: the prompt file of version {old.version} (commit "
                f"{old.commit[:10]}) does not match the locked sha256")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "ref": self.ref,
            "kind": self.kind,
            "description": self.description,
            "locked": self.locked.to_dict() if self.locked else None,
            "current": self.current.to_dict() if self.current else None,
            "detail": self.detail,
        }


def compare(locked: Lock, current: Lock,
            failures: Mapping[str, str] | None = None) -> list[LockDrift]:
    """What differs between the pins of a lock file and the same references resolved now.

    ``current`` holds the references asked for that resolved; ``failures`` maps those
    that did not to the reason. A pin of ``locked`` asked for by neither is
    ``unrequested``. An empty list means the lock file is current.
    """
    failures = dict(failures or {})
    wanted = set(current.refs) | set(failures)
    drifts = []
    for ref in sorted(wanted | set(locked.refs)):
        old, new = locked.get(ref), current.get(ref)
        if ref not in wanted:
            drifts.append(LockDrift(ref, "unrequested", old, None))
        elif old is None:
            drifts.append(LockDrift(ref, "unlocked", None, new, failures.get(ref)))
        elif new is None:
            drifts.append(LockDrift(ref, "unresolved", old, None, failures[ref]))
        elif new.version != old.version or new.name != old.name:
            drifts.append(LockDrift(ref, "moved", old, new))
        elif new.commit != old.commit:
            drifts.append(LockDrift(ref, "rewritten", old, new))
        elif new.sha256 != old.sha256:
            drifts.append(LockDrift(ref, "content", old, new))
    return drifts


# -- the file -----------------------------------------------------------------------------


def dump_lock(lock: Lock) -> str:
    """The text of a lock file: same pins, same bytes."""
    return json.dumps(lock.to_dict(), indent=2, sort_keys=True) + "\n"


def parse_lock(text: str, source: str) -> Lock:
    """Read a lock file's text; :class:`InvalidLockFile` names ``source`` and the problem.

    Bounded like every file promptctl reads: at most :data:`MAX_LOCK_BYTES`, nested at
    most :data:`.bounded.MAX_DEPTH` levels (``json`` would recurse into anything deeper).
    """
    if problem := text_size_problem(text, MAX_LOCK_BYTES) or json_depth_problem(text):
        raise InvalidLockFile(source, None, problem)
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidLockFile(source, None, f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InvalidLockFile(source, None, "must be a JSON object")
    if (version := data.get("lock_version")) != LOCK_FORMAT or isinstance(version, bool):
        shown = repr(version) if len(repr(version)) <= 40 else repr(version)[:37] + "..."
        raise InvalidLockFile(source, "lock_version",
                              f"{shown} is not supported (expected {LOCK_FORMAT})")
    prompts = data.get("prompts")
    if not isinstance(prompts, dict):
        raise InvalidLockFile(source, "prompts", "must be an object of references")
    return Lock.of(_parse_pin(source, ref, entry) for ref, entry in prompts.items())


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse_pin(source: str, ref: str, entry: Any) -> LockedPrompt:
    try:
        parsed = parse_ref(ref)
    except InvalidInput as exc:
        raise InvalidLockFile(source, shown_key(ref), str(exc)) from exc
    if str(parsed) != ref:
        raise InvalidLockFile(source, shown_key(ref), f"write the reference as {str(parsed)!r}")
    if not isinstance(entry, dict):
        raise InvalidLockFile(source, shown_key(ref), "must be an object")
    name, version = entry.get("name"), entry.get("version")
    commit, sha256 = entry.get("commit"), entry.get("sha256")
    if name != parsed.name:
        raise InvalidLockFile(source, shown_key(ref), f"name must be {parsed.name!r}")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidLockFile(source, shown_key(ref), "version must be a positive whole number")
    if parsed.version is not None and version != parsed.version:
        raise InvalidLockFile(source, shown_key(ref), f"version must be {parsed.version}")
    if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
        raise InvalidLockFile(source, shown_key(ref), "commit must be a full commit id")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise InvalidLockFile(source, shown_key(ref), "sha256 must be 64 hex digits")
    return LockedPrompt(ref, name, version, commit, sha256)


def read_lock(path: str | os.PathLike[str]) -> Lock:
    """Read the lock file at ``path``; :class:`LockFileNotFound` if there is none."""
    source = os.fspath(path)
    try:
        # At most MAX_LOCK_BYTES (+1, to tell it is too big): `--lock-file /dev/zero` ends.
        text = read_text_file(Path(path), source, MAX_LOCK_BYTES, InvalidLockFile)
    except FileNotFoundError as exc:
        raise LockFileNotFound(source) from exc
    return parse_lock(text, source)


def write_lock(path: str | os.PathLike[str], lock: Lock) -> None:
    """Write ``lock`` to ``path`` atomically: a reader sees the old file or the new one."""
    target = Path(path)
    if not target.name or target.name == "..":
        raise InvalidInput(f"invalid lock file {os.fspath(path)!r}: name a file, not a folder")
    temp = target.with_name(f".{target.name}.promptctl-{os.getpid()}")
    try:
        temp.write_text(dump_lock(lock), encoding="utf-8")
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise LockFileError(f"cannot write lock file {target}: {exc.strerror}") from exc
