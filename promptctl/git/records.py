"""Append-only logs: a ref holding a chain of empty-tree commits, one per record.

The alias log is one (see ``formats.aliaslog``). Each record is a commit with the empty
tree whose author and date say who and when; appending compares-and-swaps the ref, and
two chains that both grew are joined by a merge commit, so no record is ever rewritten
or dropped.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence

from ..errors import Conflict, NotFound, RefLocked
from .commits import Commits
from .history import Commit, History
from .refs import Refs, RefUpdate, RefUpdates

_APPEND_ATTEMPTS = 50
# A ref lock held longer than this is no race but a lock file left by a crash.
_LOCK_WAIT_SECONDS = 2.0


class Records:
    """Chains of record commits on refs: append, read in order, merge."""

    def __init__(self, refs: Refs, updates: RefUpdates, commits: Commits,
                 history: History) -> None:
        self._refs = refs
        self._updates = updates
        self._commits = commits
        self._history = history

    def append(self, log_ref: str, message: str, *, author: tuple[str, str] | None = None,
               also: Sequence[RefUpdate] = (), reason: str = "promptctl: record") -> str:
        """Append a commit holding ``message`` to the chain at ``log_ref``; return it.

        ``also`` holds ref changes applied in the same transaction, so they and the
        record land together or not at all. If only ``log_ref`` moved meanwhile (another
        appender), the record is rebuilt on the new tip and tried again; if a ref of
        ``also`` moved, that is a :class:`Conflict`. A ref lock held past a short wait is
        a :class:`RefLocked` naming the lock file.
        """
        locked_since: float | None = None
        for attempt in range(_APPEND_ATTEMPTS):
            tip = self._refs.resolve(log_ref)
            commit = self._commits.record((tip,) if tip else (), message, author)
            try:
                self._updates.apply([*also, (log_ref, commit, tip)], reason)
                return commit
            except RefLocked:
                locked_since = locked_since or time.monotonic()
                if time.monotonic() - locked_since > _LOCK_WAIT_SECONDS:
                    raise
            except Conflict:
                for refname, _new, old in also:
                    if self._refs.resolve(refname) != old:
                        raise
            import random  # here: only a lost race needs it, and it costs a load ~2 ms

            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # let the other one finish
        raise Conflict(f"{log_ref} kept moving under us; try again")

    def merge(self, log_ref: str, other: str, *, author: tuple[str, str] | None = None) -> str:
        """Fold the chain at ``other`` (e.g. a fetched remote log) into ``log_ref``.

        Returns ``"up to date"`` (nothing new), ``"fast-forward"`` (ours had nothing
        theirs lacks) or ``"merged"``: both chains diverged, so a merge commit (empty
        tree, parents ours then theirs) now joins them. Nothing is ever dropped.
        """
        theirs = self._refs.resolve(other)
        if theirs is None:
            raise NotFound(f"no alias log at {other!r}: fetch it first")
        for _ in range(_APPEND_ATTEMPTS):
            ours = self._refs.resolve(log_ref)
            if ours == theirs or (ours and self._history.is_ancestor(theirs, ours)):
                return "up to date"
            if ours is None or self._history.is_ancestor(ours, theirs):
                new, outcome = theirs, "fast-forward"
            else:
                new = self._commits.record((ours, theirs), f"Merge alias log {other}", author)
                outcome = "merged"
            try:
                self._updates.apply([(log_ref, new, ours)], f"promptctl: merge {other}")
                return outcome
            except Conflict:
                continue
        raise Conflict(f"{log_ref} kept moving under us; try again")

    def read(self, *log_refs: str) -> list[Commit]:
        """Every commit of the chains at ``log_refs`` (each once), merges included, oldest first.

        Ordered by author date, then commit id, and never a commit before its parents:
        the same order in every clone, whichever way round two chains were merged.
        """
        tips = [tip for tip in map(self._refs.resolve, log_refs) if tip is not None]
        if not tips:
            return []
        return oldest_first(list(self._history.walk(*tips)))


def oldest_first(entries: Sequence[Commit]) -> list[Commit]:
    """``entries`` in the order the records are read: parents before children; among
    commits free to come next, earliest date, then id. A parent not among ``entries``
    counts as already read."""
    by_id = {e.id: e for e in entries}
    waiting: dict[str, int] = {}
    children: dict[str, list[str]] = {}
    for entry in entries:
        parents = [p for p in entry.parents if p in by_id]
        waiting[entry.id] = len(parents)
        for parent in parents:
            children.setdefault(parent, []).append(entry.id)
    ready = [(e.timestamp, e.id) for e in entries if not waiting[e.id]]
    heapq.heapify(ready)
    ordered = []
    while ready:
        _, commit = heapq.heappop(ready)
        ordered.append(by_id[commit])
        for child in children.get(commit, ()):
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, (by_id[child].timestamp, child))
    return ordered
