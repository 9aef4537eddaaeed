"""Refs: read from the ref files themselves, and moved by compare-and-swap transactions.

:class:`Refs` reads HEAD, loose refs and ``packed-refs`` straight from the files, with no
process: a load reads a branch and an alias tag or two, and spawning git for that would
cost more than the whole rest of the load. :class:`RefUpdates` moves refs in
all-or-nothing transactions whose every change names the value the ref must still have,
so nothing anyone else wrote meanwhile is overwritten: through one long-lived ``git
update-ref --stdin`` when no reflog line is due (alias tags and the alias log), a plain
branch written here exactly as ``update-ref`` writes it (a register), and anything else
through a ``git update-ref`` of its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

from ..errors import Conflict, GitError, PromptctlError, RefLocked
from . import files
from .locking import HeldLock
from .runner import Runner, failure

if TYPE_CHECKING:  # a load reads refs and never writes: no identity to work out
    from .identity import Identity, Profile

ZERO_OID = "0" * 40  # what git writes for "no object"

RefUpdate = tuple[str, str | None, str | None]
"""A ref change: ``(refname, new or None to delete, old or None if it must be absent)``."""


class Head(NamedTuple):
    """Where HEAD is: ``ref`` is ``None`` when detached, ``commit`` ``None`` when unborn."""

    ref: str | None
    commit: str | None


class Ref(NamedTuple):
    """A ref and the object it names; ``peeled`` is the commit under an annotated tag if known.

    A named tuple: ``list`` and ``search`` read every alias tag, 20,000 made in ~7 ms
    where frozen dataclasses took ~20 ms."""

    name: str
    target: str
    peeled: str | None = None


class Refs:
    """The refs of one repository, read from its files (``git_dir`` for HEAD, ``common_dir``
    for the rest, so a linked worktree reads its own HEAD and the shared refs)."""

    def __init__(self, git_dir: Path, common_dir: Path) -> None:
        self.git_dir = git_dir
        self.common_dir = common_dir
        self._packed_cache: tuple[tuple[int, int, int], bytes] | None = None
        self._packed_blocks: dict[str, dict[str, Ref]] = {}

    def head(self) -> Head:
        """Read HEAD: the branch it is on (if any) and the commit (if any)."""
        ref, detached = files.head(str(self.git_dir))
        if ref is not None:
            return Head(ref, self.resolve(ref))
        return Head(None, detached)

    def in_progress_operation(self) -> str | None:
        """The name of a merge, rebase, cherry-pick or revert under way, else ``None``."""
        for marker, what in (
            ("MERGE_HEAD", "a merge"),
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
        ):
            if (self.git_dir / marker).exists():
                return what
        return None

    def is_shallow(self) -> bool:
        """True for a shallow clone, whose history stops short."""
        return (self.common_dir / "shallow").exists()

    def resolve(self, refname: str) -> str | None:
        """The object id a ref points to (not peeled), or ``None`` if there is no such ref."""
        loose = self._read_loose(refname)
        if loose is not None:
            return loose
        packed = self.packed(refname).get(refname)
        return packed.target if packed else None

    def symbolic(self, refname: str) -> str | None:
        """The ref a symbolic ref such as ``refs/remotes/origin/HEAD`` names, or ``None``."""
        try:
            text = (self.common_dir / refname).read_text(errors="replace").strip()
        except OSError:
            return None
        return text[4:].strip() if text.startswith("ref:") else None

    def refs(self, prefix: str) -> dict[str, Ref]:
        """Every ref whose name starts with ``prefix``, loose ones overriding packed ones."""
        found = dict(self.packed(prefix))
        found.update(self.loose(prefix))
        return found

    def loose(self, prefix: str, keep: Callable[[str], bool] | None = None) -> dict[str, Ref]:
        """The loose refs whose names start with ``prefix``; with ``keep``, only those whose
        name it accepts are read (a search reads the tags of the prompts it found)."""
        found: dict[str, Ref] = {}
        folder, _, stem = prefix.rpartition("/")
        root = str(self.common_dir)
        # os.scandir on plain strings: a registry grown by promptctl has thousands of loose
        # tags in one folder, and a load lists that folder for one prompt's few.
        pending = [(f"{root}/{folder}", folder, stem)]
        while pending:
            path, rel, wanted = pending.pop()
            try:
                entries = list(os.scandir(path))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if not entry.name.startswith(wanted) or entry.name.endswith(".lock"):
                    continue
                name = f"{rel}/{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, name, ""))
                elif keep is None or keep(name):
                    target = self._read_loose(name)
                    if target is not None:
                        found[name] = Ref(name, target)
        return found

    def _read_loose(self, refname: str) -> str | None:
        text = files.read_loose(str(self.common_dir), refname)
        if text is not None and text.startswith("ref:"):
            return self.resolve(text[4:].strip())
        return text

    def packed(self, prefix: str) -> dict[str, Ref]:
        """The packed refs whose names start with ``prefix``, not to be changed: the same
        dict while the file is unchanged.

        The file is sorted, so they stand together: their block is found by bisection
        (:func:`files.packed_block`) and only its lines are decoded and parsed. A block
        once parsed is kept until the file changes (a search reads all 20,000 aliases of
        a large registry each time).
        """
        data = self._packed_data()
        cached = self._packed_blocks.get(prefix)
        if cached is None:
            if len(self._packed_blocks) >= 4096:
                self._packed_blocks.clear()
            cached = self._packed_blocks[prefix] = _parse_packed(data, prefix)
        return cached

    def logged_values(self, refname: str) -> set[str]:
        """Every object ``refname`` has named that git remembers: its value now and each old
        and new value its reflog records (``git clone`` writes no reflog for a
        remote-tracking branch, so its first fetch logs the cloned value as old). All it
        named only where git logs its moves (:meth:`RefUpdates.keeps_reflog`); empty for
        no such ref."""
        now = self.resolve(refname)
        if now is None:
            return set()
        values = {now}
        with contextlib.suppress(OSError):  # no reflog: it has not moved since the clone
            for line in (self.common_dir / "logs" / refname).read_bytes().splitlines():
                values.update(value.decode() for value in line.split(b" ", 2)[:2]
                              if _HEX40.fullmatch(value) and value != ZERO_OID.encode())
        return values

    def _packed_data(self) -> bytes:
        # Read once per change of the file: the stat costs microseconds.
        path = self.common_dir / "packed-refs"
        try:
            st = path.stat()
        except FileNotFoundError:
            self._packed_cache = None
            self._packed_blocks.clear()
            return b""
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if self._packed_cache is None or self._packed_cache[0] != stamp:
            self._packed_cache = (stamp, path.read_bytes())
            self._packed_blocks.clear()
        return self._packed_cache[1]


class RefUpdates:
    """Moving refs: every change a compare-and-swap, several at once all or nothing.

    A transaction that writes no reflog line goes through one long-lived ``git
    update-ref --stdin`` (``start`` / ``update`` … / ``prepare`` / ``commit``): ~0.2 ms
    where a spawned ``update-ref`` costs ~1.7 ms. One that writes a reflog line (a
    branch, a ref that has a reflog, ``core.logAllRefUpdates=always``) spawns its own
    ``update-ref -m REASON``: a long-lived one writes every reflog line with the reason,
    identity and date it was started with.
    """

    def __init__(self, runner: Runner, refs: Refs, identity: Identity | None = None,
                 bare: bool = False) -> None:
        self._runner = runner
        self._refs = refs
        self._identity = identity
        self._bare = bare
        self._session: _Session | None = None
        self._no_session = False  # a git without transactions on stdin
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop the long-lived ``update-ref``; it restarts on demand."""
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def warm(self) -> None:
        """Start the long-lived ``update-ref`` now, so that git starts up while the caller
        prepares its transaction (an alias move writes its tag and record first)."""
        if self._identity is None or self._no_session:
            return
        with self._lock:
            if self._session is None or not self._session.alive():
                if self._session is not None:
                    self._session.close()
                    self._session = None
                with contextlib.suppress(PromptctlError):  # the move itself says what failed
                    self._session = _Session(self._runner, self._identity.key(),
                                             self._refs.common_dir)

    def apply(self, changes: Sequence[RefUpdate], reason: str) -> None:
        """Apply ``(refname, new, old)`` changes in one all-or-nothing transaction.

        Raises (nothing changed) :class:`Conflict` naming the first ref that is not where
        ``old`` says, :class:`RefLocked` when another writer holds a ref's lock file, or
        git's own error for anything else (a full disk, say).
        """
        lines = []
        for refname, new, old in changes:
            if new is None:
                lines.append(f"delete {refname} {old or ZERO_OID}")
            else:
                lines.append(f"update {refname} {new} {old or ZERO_OID}")
        try:
            if len(changes) == 1 and changes[0][1] is not None and changes[0][2] is not None:
                refname, new, old = changes[0]
                if new is not None and old is not None and self._write_branch(
                        refname, new, old, reason):
                    return
            # An empty reason goes to git, which refuses it, as it always has.
            if not reason or not self._in_session(lines, [name for name, _, _ in changes]):
                self._runner.run("update-ref", "-m", reason, "--stdin",
                                 input="\n".join(lines) + "\n")
        except PromptctlError:
            for refname, _new, old in changes:
                if self._refs.resolve(refname) != old:
                    raise Conflict(f"{refname} was changed by someone else meanwhile; "
                                   "try again") from None
            raise

    def move(self, refname: str, new: str, old: str | None, reason: str) -> None:
        """Point ``refname`` at ``new`` only if it still points at ``old`` (``None``: absent)."""
        self.apply([(refname, new, old)], reason)

    def _in_session(self, lines: list[str], refnames: list[str]) -> bool:
        """Run the transaction in the long-lived process if no reflog line is due (True:
        done); a failure raises git's error, with nothing changed."""
        if self._identity is None or self._no_session:
            return False
        profile = self._identity.profile()
        head, _ = files.head(str(self._refs.git_dir))
        if any(self._logged(name, profile, head) for name in refnames):
            return False
        key = profile.key
        with self._lock:
            session = self._session
            if session is not None and (session.key != key or not session.alive()):
                session.close()
                session = self._session = None
            if session is None:
                session = self._session = _Session(self._runner, key, self._refs.common_dir)
            try:
                if session.run(lines):
                    return True
                self._no_session = True
                session.close()
                self._session = None
                return False
            except BaseException:
                session.close()  # a failed transaction ends the process: start afresh
                self._session = None
                raise

    def _log_mode(self, profile: Profile) -> str | None:
        """``core.logAllRefUpdates`` as git reads it: ``always``, ``normal`` (heads,
        remotes, notes, HEAD) or ``none``; ``None`` for a value git reads its own way."""
        config = profile.config
        if "core.logallrefupdates" not in config:
            return "none" if self._bare else "normal"
        value = (config["core.logallrefupdates"] or "true").strip().lower()
        if value == "always":
            return "always"
        if value in ("false", "no", "off", "0", ""):
            return "none"
        return "normal" if value in ("true", "yes", "on", "1") else None

    def _logs(self, refname: str, mode: str, folder: Path) -> bool:
        """Would git append to (or make) the reflog of ``refname``, kept under ``folder``?"""
        if mode == "always" or os.path.isfile(f"{folder}/logs/{refname}"):
            return True
        return mode == "normal" and refname.startswith(_LOGGED_PREFIXES)

    def keeps_reflog(self, refname: str) -> bool:
        """Whether git logs every move of ``refname`` here (``False`` when that cannot be
        told: no identity to read the configuration with, or a setting git reads its own
        way)."""
        if self._identity is None:
            return False
        mode = self._log_mode(self._identity.profile())
        return mode is not None and self._logs(refname, mode, self._refs.common_dir)

    def _logged(self, refname: str, profile: Profile, head: str | None) -> bool:
        """Would git write a reflog line for ``refname`` (or HEAD, on its branch: ``head``
        is the ref HEAD names)?"""
        mode = self._log_mode(profile)
        if mode is None or self._logs(refname, mode, self._refs.common_dir):
            return True
        return head == refname and self._logs("HEAD", mode, self._refs.git_dir)

    def _write_branch(self, refname: str, new: str, old: str, reason: str) -> bool:
        """Move a loose or packed branch as ``git update-ref`` does, without a process:
        lock, compare, write, reflog lines (the branch's, and HEAD's when HEAD is on it),
        rename. ``False`` (nothing done) for anything less plain: a setting or hook git
        would apply (fsync, shared permissions, reference-transaction hook, another ref
        store), a symbolic or odd ref, no identity for the reflog."""
        identity = self._identity
        if identity is None or not refname.startswith("refs/heads/") or not reason:
            return False  # (git refuses an empty -m: let it say so)
        profile = identity.profile()
        mode = self._log_mode(profile)
        if mode is None:
            return False
        config = profile.config
        if any(key in config for key in _GIT_ONLY_SETTINGS):
            return False
        common, git_dir = self._refs.common_dir, self._refs.git_dir
        if os.path.lexists(f"{common}/hooks/reference-transaction"):
            return False
        try:
            now, zone = identity.now()
            who = identity.ident("committer", None, now, zone, profile)
        except PromptctlError:
            return False  # git writes a reflog with a guessed identity: let it
        path = f"{common}/{refname}"
        lock = f"{path}.lock"
        try:
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                return False
        except FileNotFoundError:
            pass  # packed only: git writes the loose file, so do we
        except OSError:
            return False
        fd = _lock(lock, refname, config.get("core.filesreflocktimeout"))
        try:
            with HeldLock(fd, lock, path) as held:
                current = self._read_locked(path, refname)
                if current != old:
                    raise Conflict(f"{refname} was changed by someone else meanwhile; "
                                   "try again")
                held.write(f"{new}\n".encode())
                message = _reflog_message(reason)
                line = f"{old} {new} {who}{chr(9) if message else ''}{message}\n".encode()
                logs = [(common, refname)] if self._logs(refname, mode, common) else []
                if files.head(str(git_dir))[0] == refname and self._logs("HEAD", mode, git_dir):
                    logs.append((git_dir, "HEAD"))
                for folder, name in logs:
                    log = f"{folder}/logs/{name}"
                    os.makedirs(os.path.dirname(log), exist_ok=True)
                    with open(log, "ab") as handle:
                        handle.write(line)
                held.commit()
        except OSError as exc:
            raise GitError("update-ref", f"cannot update {refname}: "
                           f"{exc.strerror or exc}") from exc
        return True

    def _read_locked(self, path: str, refname: str) -> str | None:
        """The branch's value read under its lock: the loose file, else packed-refs."""
        try:
            with open(path, "rb") as handle:
                text = handle.read(256).decode("ascii", "replace").strip()
        except FileNotFoundError:
            try:  # read afresh, not from the cache: this answer decides the swap
                data = (self._refs.common_dir / "packed-refs").read_bytes()
            except FileNotFoundError:
                return None
            return files.packed_target(data, refname)
        if len(text) != 40 or text.startswith("ref:"):
            raise Conflict(f"{refname} is not a plain branch; not moved")
        return text


# Refs git gives a reflog under core.logAllRefUpdates=true (the default with a work tree).
_LOGGED_PREFIXES = ("refs/heads/", "refs/remotes/", "refs/notes/", "HEAD")


# Settings under which git's ref writes do more than ``_write_branch`` does.
_GIT_ONLY_SETTINGS = ("core.fsync", "core.fsyncmethod", "core.fsyncobjectfiles",
                      "core.sharedrepository", "core.hookspath", "extensions.refstorage",
                      "core.prefersymlinkrefs")
_LOCK_RETRY_MS = 100  # core.filesRefLockTimeout's default


def _lock(path: str, refname: str, timeout: str | None) -> int:
    """Take ``path`` as git takes a ref lock: create it exclusively, retrying for
    ``core.filesRefLockTimeout`` ms (100 by default) while someone else holds it."""
    try:
        wait_ms = int(timeout) if timeout is not None else _LOCK_RETRY_MS
    except ValueError:
        wait_ms = _LOCK_RETRY_MS
    deadline = time.monotonic() + wait_ms / 1000
    delay = 0.001
    while True:
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            if wait_ms >= 0 and time.monotonic() >= deadline:
                raise RefLocked("update-ref", f"cannot lock ref '{refname}': Unable to "
                                f"create '{path}': File exists.") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
        except OSError as exc:
            raise GitError("update-ref", f"cannot lock ref '{refname}': "
                           f"{exc.strerror or exc}") from exc


def _reflog_message(reason: str) -> str:
    """``reason`` as git keeps it in a reflog (``copy_reflog_msg``): blanks (space, tab,
    CR, LF) collapsed into one space, none leading or trailing."""
    out = []
    was_space = True
    for char in reason:
        space = char in " \t\n\r"
        if space and was_space:
            continue
        was_space = space
        out.append(" " if space else char)
    return "".join(out).rstrip(" ")


class _Session:
    """One long-lived ``git update-ref --stdin``, a transaction at a time."""

    def __init__(self, runner: Runner, key: object, folder: Path) -> None:
        self.key = key
        try:
            self._errors = _unnamed_file(str(folder))
        except OSError as exc:  # a read-only or full repository: git could not write either
            raise GitError("update-ref", exc.strerror or str(exc)) from exc
        try:
            self._proc = runner.start("update-ref", "--stdin", stderr=self._errors)
        except BaseException:
            self._errors.close()
            raise

    def alive(self) -> bool:
        """True while the process runs."""
        return self._proc.poll() is None

    def run(self, lines: list[str]) -> bool:
        """Apply one transaction; git's error (raised) when it refuses, nothing changed.
        ``False``: this git has no transactions on stdin (older than 2.27)."""
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        script = "start\n" + "".join(f"{line}\n" for line in lines) + "prepare\ncommit\n"
        try:
            proc.stdin.write(script.encode())
            proc.stdin.flush()
            replies = [proc.stdout.readline() for _ in range(3)]
        except OSError:
            replies = [b""]
        if replies == [b"start: ok\n", b"prepare: ok\n", b"commit: ok\n"]:
            return True
        # git refused and exited (it aborts the transaction as it dies): its words.
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.wait()
        self._errors.seek(0)
        stderr = self._errors.read().decode("utf-8", "replace")
        if "unknown command: start" in stderr:
            return False
        raise failure("update-ref", proc.returncode or 1, stderr)

    def close(self) -> None:
        """End the process (an open transaction, if any, is aborted by git)."""
        proc = self._proc
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._errors.close()


def _unnamed_file(folder: str) -> IO[bytes]:
    """A file in ``folder`` that no other process can open, for a long-lived git's stderr
    (``tempfile`` would cost a write command ~3 ms of imports): ``O_TMPFILE`` where the
    file system has it, else a file created and unlinked at once."""
    flags = os.O_RDWR | os.O_CLOEXEC
    if hasattr(os, "O_TMPFILE"):
        with contextlib.suppress(OSError):
            return os.fdopen(os.open(folder, flags | os.O_TMPFILE, 0o600), "w+b")
    while True:
        path = os.path.join(folder, f"promptctl-stderr-{os.urandom(8).hex()}")
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        try:
            os.unlink(path)
        except OSError:
            os.close(fd)
            raise
        return os.fdopen(fd, "w+b")


# A packed ref and the peeled line that may follow it.
_HEX40 = re.compile(rb"[0-9a-f]{40}")
_PACKED_ENTRY = re.compile(r"([0-9a-f]+) ([^\n]+)\n(?:\^([0-9a-f]+)(?:\n|\Z))?")


def _parse_packed(data: bytes, prefix: str) -> dict[str, Ref]:
    """The refs in ``packed-refs`` (its bytes, ``data``) whose names start with ``prefix``."""
    start, end = files.packed_block(data, prefix.encode("utf-8", "surrogateescape"))
    # Ref names are bytes to git; a name that is not UTF-8 cannot be one of ours.
    text = data[start:end].decode("utf-8", "replace")
    found: dict[str, Ref] = {}
    at = 0
    # Well-formed entries, each with its peeled line if any, one match per ref: 20,000
    # aliases in ~15 ms where a line-by-line loop took ~60 ms. What does not match (a
    # header, anything unusual) is left to the loop below.
    while (match := _PACKED_ENTRY.match(text, at)) is not None:
        target, name, peeled = match.groups()
        if name.startswith(prefix):
            found[name] = Ref(name, target, peeled)
        at = match.end()
    last: Ref | None = None
    for line in _lines_from(text, at):
        if line.startswith("^"):
            if last is not None:
                last = found[last.name] = Ref(last.name, last.target, line[1:])
            continue
        last = None
        if not line or line.startswith("#"):
            continue
        target, _, name = line.partition(" ")
        if name.startswith(prefix):
            last = found[name] = Ref(name, target)
    return found


def _lines_from(text: str, start: int) -> Iterator[str]:
    """The lines of ``text`` from offset ``start``, cut one at a time.

    Not ``text[start:].splitlines()``: that copies and splits the rest of a file of tens
    of thousands of refs on every lookup, when a lookup reads a handful of lines.
    """
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        yield text[start:end]
        start = end + 1
