"""Remote registries: promptctl's own clone of a Git URL, fetched again as its TTL runs out.

``Registry("https://…/prompts.git")`` (also ``ssh://``, ``git@host:path``, ``file://``;
``URL#folder`` for a registry in a folder of the repository) works on a bare clone under
the user's cache directory: ``($XDG_CACHE_HOME or ~/.cache)/promptctl/<hash of the URL>``.
It is made on first use and fetched again once the fetch TTL has run out (default 60 s,
``$PROMPTCTL_FETCH_TTL``, ``fetch_ttl_seconds=``). The time of the last successful fetch
is a stamp file inside the clone, so every process sharing the cache shares the TTL.

A fetch force-updates tags and prunes the deleted ones (an alias is a tag, and plain
``git fetch`` keeps a moved tag where it was), resets the clone's branch to the remote's
default branch (the clone is ours: nothing of the user's lives there) and merges the alias
log. Clone, fetch and writes run under an ``flock`` beside the clone; a clone is made in a
scratch folder and renamed into place, so no process ever sees half of one. When the
remote cannot be reached, the last fetched state is served and the failure kept as a
warning (the core never prints); a registry never fetched is an error. The clone is
partial (``--filter=blob:none``) when the server allows it: only the prompt files of the
branch tip are downloaded with each fetch, older versions when first read.

A remote registry's writes must be pushed; ``push`` does that, for it and for a local
registry with an ``origin``.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import InvalidInput, RegistryUnreachable, RemoteUnreachable
from .formats.aliaslog import ALIAS_LOG_REF
from .git import Repo
from .location import split_location

REMOTE = "origin"
REMOTE_LOG = f"refs/remotes/{REMOTE}/promptctl/alias-log"
FETCH_REFSPECS = (
    f"+refs/heads/*:refs/remotes/{REMOTE}/*",
    "+refs/tags/*:refs/tags/*",
    f"+refs/promptctl/*:refs/remotes/{REMOTE}/promptctl/*",
)
ENV_FETCH_TTL = "PROMPTCTL_FETCH_TTL"
DEFAULT_FETCH_TTL = 60.0
_STAMP = "promptctl-fetched"


def fetch_ttl(seconds: float | None) -> float:
    """The fetch TTL: ``seconds``, else ``$PROMPTCTL_FETCH_TTL``, else 60."""
    if seconds is None:
        text = os.environ.get(ENV_FETCH_TTL, "").strip()
        if not text:
            return DEFAULT_FETCH_TTL
        try:
            seconds = float(text)
        except ValueError:
            raise InvalidInput(f"${ENV_FETCH_TTL} must be a number of seconds, "
                               f"got {text!r}") from None
    if math.isnan(seconds) or seconds < 0:
        raise InvalidInput(f"the fetch TTL must be 0 or more seconds, got {seconds}")
    return seconds


def cache_root() -> Path:
    """Where clones of remote registries live: ``($XDG_CACHE_HOME or ~/.cache)/promptctl``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"  # XDG: ignore relative
    return root / "promptctl"


class RemoteClone:
    """promptctl's own bare clone of a remote registry: made on first use, fetched per TTL.

    ``stale`` is true while the last fetch failed and the last fetched state is served;
    ``warnings`` then says why (empty otherwise).
    """

    def __init__(self, location: str, fetch_ttl_seconds: float | None = None) -> None:
        self.url, self.folder = split_location(location)
        self.ttl = fetch_ttl(fetch_ttl_seconds)
        import hashlib  # here: it loads OpenSSL, which a local registry's writes never need

        key = hashlib.sha256(self.url.encode()).hexdigest()[:24]
        self.path = cache_root() / key
        self._lock_path = self.path.with_name(f"{key}.lock")
        self._lock_depth = 0
        self._writing = 0
        self._next_check = 0.0
        self.stale = False
        self.warnings: list[str] = []
        fresh = False
        if not (self.path / "HEAD").is_file():
            with self.lock():
                if not (self.path / "HEAD").is_file():  # no other process made it meanwhile
                    self._clone()
                    fresh = True
        self.repo = Repo.open_bare(self.path)
        if fresh:
            self._next_check = time.monotonic() + self.ttl
        else:
            self.sync()

    @property
    def prompts_folder(self) -> str:
        """The registry's ``prompts/`` folder, from the repository's root."""
        return f"{self.folder}/prompts" if self.folder else "prompts"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the clone's lock: one clone, fetch or write at a time (re-entrant in a process)."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the lock across a write (and its push and retries), fetched first.

        Re-entrant: a write made of writes fetches once, and no fetch for the TTL runs
        until the outermost one ends (it would move the branch under the write).
        """
        with self.lock():
            if not self._writing:
                self.sync()
            self._writing += 1
            try:
                yield
            finally:
                self._writing -= 1

    def sync(self, *, force: bool = False) -> None:
        """Fetch if the TTL has run out (``force``: now); never for the TTL during a write.

        A failed fetch leaves the clone as it was, sets ``stale`` and a warning, and is
        not retried before another TTL; with ``force`` it raises :class:`RemoteUnreachable`.
        """
        if not force:
            if self._writing or time.monotonic() < self._next_check:
                return
            if self._fresh():
                return
        with self.lock():
            if not force and self._fresh():  # another process fetched while we waited
                return
            try:
                self._fetch(self.repo)
            except RemoteUnreachable as exc:
                if force:
                    raise
                self.stale = True
                when = self._fetched_when()
                self.warnings = [(f"cannot reach {self.url} ({exc.detail}); "
                                  f"serving the registry as fetched {when}")]
                self._next_check = time.monotonic() + self.ttl
                return
            _write_stamp(self.path)
            self.stale, self.warnings = False, []
            self._next_check = time.monotonic() + self.ttl

    def _fresh(self) -> bool:
        """True (and no longer stale) when some process fetched within the TTL."""
        stamp = _read_stamp(self.path)
        age = time.time() - stamp if stamp is not None else -1.0
        if not 0 <= age < self.ttl:
            return False
        self.stale, self.warnings = False, []
        self._next_check = time.monotonic() + self.ttl - age
        return True

    def _fetched_when(self) -> str:
        stamp = _read_stamp(self.path)
        if stamp is None:
            return "earlier"
        return "at " + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))

    def _clone(self) -> None:
        # Imported here: alias moves of every registry read this module's ref names, and
        # these two (with bz2, lzma and random under them) would cost each one ~3 ms.
        import shutil
        import tempfile

        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Scratch folders of a clone killed half way: we hold the lock, so none is in use.
        for stale in self.path.parent.glob(f"{self.path.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"{self.path.name}.tmp-", dir=self.path.parent))
        try:
            repo = Repo.clone_bare(self.url, scratch / "clone", FETCH_REFSPECS)
            try:
                self._fetch(repo)
                tip = repo.refs.head().commit
                if tip is not None:
                    repo.remotes.prefetch_blobs(tip, self.prompts_folder)
            finally:
                repo.close()
            _write_stamp(scratch / "clone")
            os.rename(scratch / "clone", self.path)
        except RemoteUnreachable as exc:
            raise RegistryUnreachable(self.url, exc.detail) from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _fetch(self, repo: Repo) -> None:
        """Fetch (refspecs: ``FETCH_REFSPECS``), follow the default branch, merge the alias log."""
        repo.remotes.fetch(REMOTE, prune=True)
        head = repo.refs.head()
        if head.ref is None:
            return
        tip = repo.refs.resolve(tracking_ref(head.ref))
        if tip is not None and tip != head.commit:
            repo.ref_updates.apply([(head.ref, tip, head.commit)], "promptctl: follow the remote")
            repo.remotes.prefetch_blobs(tip, self.prompts_folder)
        if repo.refs.resolve(REMOTE_LOG) is not None:
            # Registry.merge_alias_log without its lock: every writer of this clone holds ours.
            repo.records.merge(ALIAS_LOG_REF, REMOTE_LOG)


def tracking_ref(branch: str) -> str:
    """The ref a fetch from ``origin`` keeps ``branch`` in (``refs/remotes/origin/…``)."""
    return f"refs/remotes/{REMOTE}/{branch.removeprefix('refs/heads/')}"


def _read_stamp(clone: Path) -> float | None:
    try:
        return float((clone / _STAMP).read_text())
    except (OSError, ValueError):
        return None


def _write_stamp(clone: Path) -> None:
    temp = clone / f"{_STAMP}.{os.getpid()}"
    temp.write_text(repr(time.time()))
    os.replace(temp, clone / _STAMP)
