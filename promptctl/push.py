"""Pushing: writes that land on ``origin``, the local registry's or the cache clone's.

An alias move is pushed before it is applied locally, as one atomic push of the tag and
its alias-log record with a lease on the tag (``--force-with-lease=<tag>:<value read>``):
if the alias moved on the remote since it was read, nothing lands anywhere and the caller
makes the local alias what the remote has. A register push that lost a race re-creates
its one commit on the remote's new tip and tries again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import Conflict, GitError, InvalidInput, PromptctlError
from .formats.aliaslog import ALIAS_LOG_REF
from .gitrepo import GitRepo, Head, LogEntry
from .remote import FETCH_REFSPECS, REMOTE, REMOTE_LOG, tracking_ref

if TYPE_CHECKING:
    from .remote import RemoteClone

_PUSH_ATTEMPTS = 5


@contextlib.contextmanager
def write_scope(repo: GitRepo, remote: RemoteClone | None, push: bool) -> Iterator[None]:
    """Check that a write may happen; for a remote registry, hold its lock, fetched first.

    A remote registry's writes must be pushed; a local one's push needs an ``origin``.
    """
    if remote is None:
        if push and repo.remote_url(REMOTE) is None:
            raise InvalidInput(f"--push needs a Git remote named {REMOTE!r} "
                               f"(git remote add {REMOTE} URL)")
        yield
        return
    if not push:
        raise InvalidInput(f"{remote.url} is a remote registry: "
                           "a write must be pushed (--push, push=True)")
    with remote.writing():
        yield


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
    tracking = tracking_ref(branch)
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


def _behind(why: str) -> bool:
    """True when git refused a ref because the remote holds commits we lack."""
    return "non-fast-forward" in why or "fetch first" in why


def _refusal(refused: dict[str, str]) -> Conflict:
    """The refusal that is not just the echo of an atomic push failing elsewhere."""
    ref, why = next(((r, w) for r, w in refused.items() if "atomic" not in w),
                    next(iter(refused.items())))
    return Conflict(f"{REMOTE} refused {ref}: {why}")
