"""Remote registries and pushing: promptctl's own clone of a Git URL, and writes that land remotely.

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

Pushing (``push=True``) goes to ``origin``: the local registry's, or the cache clone's.
An alias move is pushed before it is applied locally, as one atomic push of the tag and
its alias-log record with a lease on the tag (``--force-with-lease=<tag>:<value read>``):
if the alias moved on the remote since it was read, nothing lands anywhere and the caller
makes the local alias what the remote has. A register push that lost a race re-creates
its one commit on the remote's new tip and tries again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .aliaslog import ALIAS_LOG_REF
from .errors import (
    Conflict,
    GitError,
    InvalidInput,
    PromptctlError,
    RegistryUnreachable,
    RemoteUnreachable,
)
from .gitrepo import GitRepo, Head, LogEntry
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
_PUSH_ATTEMPTS = 5


def fetch_ttl(seconds: float | None) -> float:
    """The fetch TTL: ``seconds``, else ``$PROMPTCTL_FETCH_TTL``, else 60."""
    if seconds is None:
        text = os.environ.get(ENV_FETCH_TTL, "").strip()
        if not text:
            return DEFAULT_FETCH_TTL
        try:
            seconds = float(text)
        except ValueError:
            raise InvalidInput(f"${ENV_FETCH_TTL} must be a number of seconds, got {text!r}") from None
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
        key = hashlib.sha256(self.url.encode()).hexdigest()[:24]
        self.path = cache_root() / key
        self._lock_path = self.path.with_name(f"{key}.lock")
        self._lock_depth = 0
        self._next_check = 0.0
        self.stale = False
        self.warnings: list[str] = []
        fresh = False
        if not (self.path / "HEAD").is_file():
            with self.lock():
                if not (self.path / "HEAD").is_file():  # no other process made it meanwhile
                    self._clone()
                    fresh = True
        self.repo = GitRepo.open_bare(self.path)
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

    def sync(self, *, force: bool = False) -> None:
        """Fetch if the TTL has run out (``force``: now).

        A failed fetch leaves the clone as it was, sets ``stale`` and a warning, and is
        not retried before another TTL; with ``force`` it raises :class:`RemoteUnreachable`.
        """
        if not force:
            if time.monotonic() < self._next_check:
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
                self.warnings = [f"cannot reach {self.url} ({exc.detail}); "
                                 + f"serving the registry as fetched {when}"]
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"{self.path.name}.tmp-", dir=self.path.parent))
        try:
            repo = GitRepo.clone_bare(self.url, scratch / "clone", FETCH_REFSPECS)
            try:
                self._fetch(repo)
                tip = repo.head().commit
                if tip is not None:
                    repo.prefetch_blobs(tip, self.prompts_folder)
            finally:
                repo.close()
            _write_stamp(scratch / "clone")
            os.rename(scratch / "clone", self.path)
        except RemoteUnreachable as exc:
            raise RegistryUnreachable(self.url, exc.detail) from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _fetch(self, repo: GitRepo) -> None:
        """Fetch (refspecs: ``FETCH_REFSPECS``), follow the default branch, merge the alias log."""
        repo.fetch(REMOTE, prune=True)
        head = repo.head()
        if head.ref is None:
            return
        tip = repo.resolve(_tracking(head.ref))
        if tip is not None and tip != head.commit:
            repo.update_refs([(head.ref, tip, head.commit)], "promptctl: follow the remote")
            repo.prefetch_blobs(tip, self.prompts_folder)
        if repo.resolve(REMOTE_LOG) is not None:
            # Registry.merge_alias_log without its lock: every writer of this clone holds ours.
            repo.merge_records(ALIAS_LOG_REF, REMOTE_LOG)


# -- pushing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaseLost:
    """An alias push refused because the remote alias moved; ``theirs``: its tag now (or none)."""

    theirs: str | None


def push_alias(repo: GitRepo, refname: str, new: str | None, old: str | None, record: str, *,
               author: tuple[str, str] | None, reason: str) -> LeaseLost | None:
    """Move alias ``refname`` from ``old`` to ``new`` (``None``: delete) on ``origin``, then here.

    The tag and its alias-log ``record`` go in one atomic push with a lease on the tag. A
    log refused as non-fast-forward (another clone recorded a move) is fetched, merged
    into ours and the record rebuilt on top. Returns :class:`LeaseLost` when the alias
    moved on the remote: then nothing was written, here or there.
    """
    for _ in range(_PUSH_ATTEMPTS):
        log_tip = repo.resolve(ALIAS_LOG_REF)
        commit = repo.make_record(log_tip, record, author=author)
        refused = repo.push(REMOTE, [f"{new or ''}:{refname}", f"{commit}:{ALIAS_LOG_REF}"],
                            leases=[(refname, old)])
        if not refused:
            # A push updates what the fetch refspecs map (in the cache clone: the tag itself).
            moved = [] if repo.resolve(refname) == new else [(refname, new, old)]
            try:
                repo.update_refs([*moved, (ALIAS_LOG_REF, commit, log_tip)], reason)
            except GitError as exc:
                raise Conflict(f"pushed, but {refname} changed here meanwhile: fetch it") from exc
            return None
        if "stale info" in refused.get(refname, ""):
            return LeaseLost(repo.ls_remote(REMOTE, refname))
        if _behind(refused.get(ALIAS_LOG_REF, "")):
            repo.fetch(REMOTE, [f"+{ALIAS_LOG_REF}:{REMOTE_LOG}"])
            repo.merge_records(ALIAS_LOG_REF, REMOTE_LOG, author=author)
            continue
        raise _refusal(refused)
    raise Conflict(f"the alias log on {REMOTE} kept moving; try again")


def restore_alias(repo: GitRepo, refname: str, theirs: str | None) -> None:
    """Make the local alias what ``origin`` has (``theirs``) and merge the remote's alias log."""
    specs = [FETCH_REFSPECS[0], FETCH_REFSPECS[2]]
    if theirs is not None:
        specs.append(f"+{refname}:{refname}")
    repo.fetch(REMOTE, specs)
    current = repo.resolve(refname)
    if theirs is None and current is not None:
        repo.update_refs([(refname, None, current)], "promptctl: as on the remote")
    if repo.resolve(REMOTE_LOG) is not None:
        repo.merge_records(ALIAS_LOG_REF, REMOTE_LOG)


def push_commit(repo: GitRepo, made: LogEntry, path: str, data: bytes, message: str, *,
                author: tuple[str, str] | None,
                refetch: Callable[[], None] | None = None) -> LogEntry:
    """Push the branch whose tip is ``made`` (one commit writing ``data`` at ``path``).

    When the remote branch moved on (non-fast-forward), fetch it (``refetch``, else the
    branch alone), re-create the commit on the new tip and try again; returns the commit
    that landed. A remote that changed ``path`` too is a :class:`Conflict`, as is, in a
    user's repository, a branch that holds other unpushed commits.
    """
    branch = repo.head().ref
    assert branch is not None
    try:
        return _push_commit(repo, branch, made, path, data, message, author, refetch)
    except PromptctlError:
        current = repo.resolve(branch)
        if repo.bare and made.parents and current == made.commit:
            # promptctl's own clone holds only what the remote has: take the commit back.
            repo.move_ref(branch, made.parents[0], current, "promptctl: not pushed")
        raise


def _push_commit(repo: GitRepo, branch: str, made: LogEntry, path: str, data: bytes,
                 message: str, author: tuple[str, str] | None,
                 refetch: Callable[[], None] | None) -> LogEntry:
    tracking = _tracking(branch)
    short = branch.removeprefix("refs/heads/")
    for _ in range(_PUSH_ATTEMPTS):
        refused = repo.push(REMOTE, [f"{made.commit}:{branch}"])
        if not refused:
            return made
        if not _behind(refused.get(branch, "")):
            raise _refusal(refused)
        if refetch is not None:
            refetch()
        else:
            repo.fetch(REMOTE, [f"+{branch}:{tracking}"])
        tip = repo.resolve(tracking)
        base = made.parents[0] if made.parents else None
        kept = "" if repo.bare else f" (it stays committed on {short}, unpushed)"
        if tip is None:
            raise Conflict(f"{REMOTE} refused {short} and has no such branch{kept}")
        if repo.tree_entry(tip, path) != repo.tree_entry(base, path):
            raise Conflict(f"{path} was changed on {REMOTE} too since it was last fetched; "
                           f"your version was not pushed{kept}: look at theirs, then register again")
        if not repo.bare and base is not None and not repo.is_ancestor(base, tip):
            raise Conflict(f"{short} has commits {REMOTE}/{short} lacks besides the new version; "
                           f"pull and push them yourself{kept}")
        made = _recommit(repo, branch, tip, made, path, data, message, author)
    raise Conflict(f"{REMOTE}/{short} kept moving; try again")


def _recommit(repo: GitRepo, branch: str, tip: str, made: LogEntry, path: str, data: bytes,
              message: str, author: tuple[str, str] | None) -> LogEntry:
    """``made``'s change as a commit on ``tip``; a user's working tree follows, as a pull would."""
    with repo.write_lock():
        current = repo.resolve(branch)
        if not repo.bare and current != made.commit:
            raise Conflict(f"{branch} moved while pushing; push it yourself")
        rebased = repo.commit_file(Head(branch, tip), path, data, message, author=author,
                                   expect=current)
        if not repo.bare:
            try:
                repo.update_worktree(made.commit, rebased.commit)
            except Conflict:
                repo.move_ref(branch, made.commit, rebased.commit, "promptctl: undo rebase")
                raise
        return rebased


def _tracking(branch: str) -> str:
    return f"refs/remotes/{REMOTE}/{branch.removeprefix('refs/heads/')}"


def _behind(why: str) -> bool:
    """True when git refused a ref because the remote holds commits we lack."""
    return "non-fast-forward" in why or "fetch first" in why


def _refusal(refused: dict[str, str]) -> Conflict:
    """The refusal that is not just the echo of an atomic push failing elsewhere."""
    ref, why = next(((r, w) for r, w in refused.items() if "atomic" not in w),
                    next(iter(refused.items())))
    return Conflict(f"{REMOTE} refused {ref}: {why}")


def _read_stamp(clone: Path) -> float | None:
    try:
        return float((clone / _STAMP).read_text())
    except (OSError, ValueError):
        return None


def _write_stamp(clone: Path) -> None:
    temp = clone / f"{_STAMP}.{os.getpid()}"
    temp.write_text(repr(time.time()))
    os.replace(temp, clone / _STAMP)
