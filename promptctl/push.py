"""Pushing: writes that land on ``origin``, the local registry's or the cache clone's.

An alias move is pushed before it is applied locally, as one atomic push of the tag and
its alias-log record with a lease on the tag (``--force-with-lease=<tag>:<value read>``):
if the alias moved on the remote since it was read, nothing lands anywhere and the
caller is handed a :class:`LeaseLost`. A version push that lost a race re-makes its one
commit on the remote's new tip and tries again; a branch that holds other unpushed work
is left for the user to rebase (never to merge: a merge of its own making would take the
remote's versions off the line they are numbered along, see :func:`line_problem`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import Conflict, PromptctlError
from .formats.aliaslog import ALIAS_LOG_REF
from .index import line_parent
from .remote import FETCH_REFSPECS, REMOTE, REMOTE_LOG, tracking_ref

if TYPE_CHECKING:
    from .git import Repo
    from .git.remotes import Refusal
    from .writing import Commit

_PUSH_ATTEMPTS = 5


@dataclass(frozen=True)
class LeaseLost:
    """A result, not an error: an alias push refused because the remote alias moved.

    ``theirs`` is the remote's tag now (``None``: the remote has no such alias).
    """

    theirs: str | None


def push_alias(repo: Repo, refname: str, new: str | None, old: str | None,
               record: str | None, *, lease: str | None, author: tuple[str, str] | None,
               reason: str) -> LeaseLost | None:
    """Move alias ``refname`` from ``old`` to ``new`` (``None``: delete) on ``origin``, then here.

    The tag and its alias-log ``record`` go in one atomic push with a lease on the tag:
    the remote must still hold ``lease`` (usually ``old``, the local tag). ``record``
    ``None``: the move is recorded here already, the log goes as it is. A log
    refused as behind (another clone recorded a move) is fetched, merged into ours and
    the record rebuilt on top. Returns :class:`LeaseLost` when the alias moved on the
    remote: then nothing was written, here or there.
    """
    for _ in range(_PUSH_ATTEMPTS):
        log_tip = repo.refs.resolve(ALIAS_LOG_REF)
        commit = log_tip if record is None else repo.commits.record(
            (log_tip,) if log_tip else (), record, author)
        logs = [f"{commit}:{ALIAS_LOG_REF}"] if commit else []
        refused = repo.remotes.push(REMOTE, [f"{new or ''}:{refname}", *logs],
                                    leases=[(refname, lease)])
        if not refused:
            # A push updates what the fetch refspecs map (in the cache clone: the tag itself).
            moved = [] if repo.refs.resolve(refname) == new else [(refname, new, old)]
            logged = [] if commit == log_tip else [(ALIAS_LOG_REF, commit, log_tip)]
            try:
                if moved or logged:
                    repo.ref_updates.apply([*moved, *logged], reason)
            except PromptctlError as exc:
                raise Conflict(f"pushed, but {refname} changed here meanwhile: run "
                               "'promptctl sync'") from exc
            return None
        if _kind(refused, refname) == "lease":
            return LeaseLost(repo.remotes.ls_remote(REMOTE, refname))
        if _kind(refused, ALIAS_LOG_REF) == "behind" or _raced(refused):
            time.sleep(random.uniform(0, 0.05))  # a concurrent push: let it finish
            repo.remotes.fetch(REMOTE, [f"+{ALIAS_LOG_REF}:{REMOTE_LOG}"])
            repo.records.merge(ALIAS_LOG_REF, REMOTE_LOG, author=author)
            continue
        raise _refusal(refused)
    raise Conflict(f"the alias log on {REMOTE} kept moving; try again")


def restore_alias(repo: Repo, refname: str, theirs: str | None) -> None:
    """Make the local alias what ``origin`` has (``theirs``) and merge the remote's alias log."""
    specs = [FETCH_REFSPECS[0], FETCH_REFSPECS[2]]
    if theirs is not None:
        specs.append(f"+{refname}:{refname}")
    repo.remotes.fetch(REMOTE, specs)
    current = repo.refs.resolve(refname)
    if theirs is None and current is not None:
        repo.ref_updates.apply([(refname, None, current)], "promptctl: as on the remote")
    if repo.refs.resolve(REMOTE_LOG) is not None:
        repo.records.merge(ALIAS_LOG_REF, REMOTE_LOG)


def push_branch(repo: Repo, branch: str, made: Commit | None,
                rebuild: Callable[[str], Commit] | None,
                refetch: Callable[[], None] | None = None) -> str:
    """Push ``branch`` to ``origin``; return the commit that landed there.

    ``made`` is the version commit just made at the branch's tip (``None``: push what
    the branch holds, as a retry after a failed push). When the remote branch moved on,
    fetch it (``refetch``, else the branch alone), re-make the commit on the new tip with
    ``rebuild`` and try again. A remote that changed the same file is a
    :class:`Conflict`, as is, in a user's repository, a branch with other unpushed work.
    """
    try:
        return _push(repo, branch, made, rebuild, refetch)
    except PromptctlError:
        current = repo.refs.resolve(branch)
        if repo.bare and made is not None and current == made.commit:
            # promptctl's own clone holds only what the remote has: take the commit back.
            repo.ref_updates.apply([(branch, made.parent, current)], "promptctl: not pushed")
        raise


def _push(repo: Repo, branch: str, made: Commit | None,
          rebuild: Callable[[str], Commit] | None, refetch: Callable[[], None] | None) -> str:
    tracking = tracking_ref(branch)
    short = branch.removeprefix("refs/heads/")
    kept = "" if repo.bare else f" (it stays committed on {short}, not pushed)"
    for _ in range(_PUSH_ATTEMPTS):
        tip = repo.refs.resolve(branch)
        assert tip is not None
        problem = line_problem(repo, branch, tip, repo.refs.resolve(tracking))
        if problem is not None:
            raise Conflict(problem + kept)
        refused = repo.remotes.push(REMOTE, [f"{tip}:{branch}"])
        if not refused:
            return tip
        if _raced(refused):
            time.sleep(random.uniform(0, 0.05))  # a concurrent push: try again after it
            continue
        if _kind(refused, branch) != "behind" or made is None or rebuild is None:
            if _kind(refused, branch) == "behind":
                raise Conflict(f"{REMOTE}/{short} has commits {short} lacks; run "
                               f"'git pull --rebase' and push again{kept}")
            raise _refusal(refused)
        if refetch is not None:
            refetch()
        else:
            repo.remotes.fetch(REMOTE, [f"+{branch}:{tracking}"])
        theirs = repo.refs.resolve(tracking)
        if theirs is None:
            raise Conflict(f"{REMOTE} refused {short} and has no such branch{kept}")
        if repo.remotes.tree_entry(theirs, made.path) != repo.remotes.tree_entry(made.parent,
                                                                               made.path):
            raise Conflict(f"{made.path} was changed on {REMOTE} too since it was last fetched; "
                           f"your version was not pushed{kept}: look at theirs, then register "
                           "again")
        if not repo.bare and made.parent is not None and not repo.history.is_ancestor(
                made.parent, theirs):
            raise Conflict(f"{short} has commits {REMOTE}/{short} lacks besides the new version; "
                           f"run 'git pull --rebase' and push again{kept}")
        made = _remake(repo, branch, theirs, made, rebuild, kept)
    raise Conflict(f"{REMOTE}/{short} kept moving; try again{kept}")


def _remake(repo: Repo, branch: str, theirs: str, made: Commit,
            rebuild: Callable[[str], Commit], kept: str) -> Commit:
    """``made``'s change as a commit on ``theirs``; a user's working tree follows, as a pull
    would, unless it has edits of a file the remote changed (``kept``: what the
    :class:`Conflict` then says of ``made``)."""
    current = repo.refs.resolve(branch)
    if not repo.bare and current != made.commit:
        raise Conflict(f"{branch} moved while pushing; push it yourself")
    again = rebuild(theirs)
    repo.ref_updates.move(branch, again.commit, current, "promptctl: re-made on the remote tip")
    if not repo.bare:
        try:
            repo.worktree.update(made.commit, again.commit)
        except Conflict as exc:
            repo.ref_updates.move(branch, made.commit, again.commit, "promptctl: undo")
            raise Conflict(f"{exc.reason}{kept}") from exc
    return again


def line_problem(repo: Repo, branch: str | None, local: str, remote: str | None) -> str | None:
    """Why pushing commit ``local`` to ``branch`` over the remote's ``remote`` would
    renumber versions, or ``None``: the remote's tip must stay on the line versions are
    numbered along (:func:`~promptctl.index.line_parent`), which is the first-parent line
    except through a merge with git's own message for pulling ``branch``. ``None`` too
    when this repository lacks the remote's tip: git refuses that push itself unless it is
    forced, and a forced push over commits never fetched is for branch protection to stop.
    """
    if remote is None or set(remote) == {"0"} or remote == local:
        return None
    if repo.objects.read(remote) is None:
        # Git hands a pre-push hook even the refs it will refuse as "fetch first" (the
        # remote moved on to commits not fetched here). Nothing can be judged without
        # them, and git's own refusal tells the user what to do (and lets a
        # ``--push`` re-make its version on the new tip).
        return None
    new = {commit.id: commit for commit in repo.history.walk(local, since=remote)}
    if not new:
        # ``local`` is behind the remote: git hands a hook such a push only when it is
        # forced, and it would drop the remote's newest versions.
        return (f"pushing {local[:10]} would move the branch back from the remote's tip "
                f"{remote[:10]} and drop the versions numbered since: pull first; to undo a "
                "version, register the content you want as a new one")
    short = branch.removeprefix("refs/heads/") if branch else None
    at: str | None = local
    while at is not None and at in new:
        at = line_parent(new[at], short)
    if at == remote:
        return None
    return (f"pushing {local[:10]} would take the remote's tip {remote[:10]} off the line "
            "versions are numbered along (a merge that puts the local commits first "
            "without git's own 'git pull' message, or history rewritten), and the remote's "
            "version numbers with it: run 'git pull --rebase' instead, or merge the other "
            "way round")


def push_refs(repo: Repo, refspecs: list[str]) -> None:
    """Push ``refspecs`` to ``origin`` as they are (no retries); a refusal is a conflict."""
    refused = repo.remotes.push(REMOTE, refspecs)
    if refused:
        raise _refusal(refused)


def _raced(refused: dict[str, Refusal]) -> bool:
    """True when a push lost only to another push running at the same moment."""
    kinds = {r.kind for r in refused.values()}
    return ("race" in kinds and kinds <= {"race", "atomic"}) or kinds == {"atomic"}


def _kind(refused: dict[str, Refusal], ref: str) -> str | None:
    found = refused.get(ref)
    return found.kind if found else None


def _refusal(refused: dict[str, Refusal]) -> Conflict:
    """The refusal that is not just the echo of an atomic push failing elsewhere."""
    found = next((r for r in refused.values() if r.kind != "atomic"),
                 next(iter(refused.values())))
    return Conflict(f"{REMOTE} refused {found.ref}: {found.detail}")
