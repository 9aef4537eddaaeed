"""Append-only logs: a ref holding a chain of empty-tree commits, one per record.

The alias log is one (see ``aliaslog``). Each record is a commit with the empty tree (it
costs one small object) whose author and date say who and when; appending
compares-and-swaps the ref, and two chains that both grew are joined by a merge commit,
so no record is ever rewritten or dropped.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .errors import Conflict, GitError, NotFound
from .gitrepo_commands import identity_env
from .gitrepo_history import GitHistory, LogEntry, parse_log_record
from .gitrepo_writes import GitWrites, RefUpdate

_APPEND_ATTEMPTS = 50


class GitRecords(GitWrites, GitHistory):
    """Chains of record commits on refs: append, read in order, merge."""

    def append_record(
        self,
        log_ref: str,
        message: str,
        *,
        author: tuple[str, str] | None = None,
        also: Sequence[RefUpdate] = (),
        reason: str = "promptctl: record",
    ) -> str:
        """Append a commit holding ``message`` to the chain at ``log_ref``; return it.

        The commit has the empty tree (it costs one small object) and the current tip as
        parent; its author and date say who and when. ``also`` holds ref changes
        ``(refname, new, old)`` (``new`` ``None``: delete, ``old`` ``None``: must not exist)
        applied in the same ``update-ref --stdin`` transaction, so they and the record land
        together or not at all. If only ``log_ref`` moved meanwhile (another appender), the
        commit is rebuilt on the new tip and tried again; if a ref of ``also`` moved, that
        is a :class:`Conflict`.
        """
        env = identity_env(author)
        tree = self._empty_tree()
        for attempt in range(_APPEND_ATTEMPTS):
            tip = self.resolve(log_ref)
            parents = ["-p", tip] if tip else []
            out = self._git("commit-tree", tree, *parents, "-m", message, env=env)
            commit = (out or "").strip()
            try:
                self.update_refs([*also, (log_ref, commit, tip)], reason)
                return commit
            except GitError as exc:
                for refname, _new, old in also:
                    if self.resolve(refname) != old:
                        raise Conflict(
                            f"{refname} was changed by someone else meanwhile; try again"
                        ) from exc
                if "cannot lock ref" not in exc.detail:
                    raise
                import random

                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # let the other finish
        raise Conflict(f"{log_ref} kept moving under us; try again")

    def make_record(self, parent: str | None, message: str, *,
                    author: tuple[str, str] | None = None) -> str:
        """A record commit (empty tree) on ``parent``, on no ref yet (see ``append_record``)."""
        parents = ["-p", parent] if parent else []
        out = self._git("commit-tree", self._empty_tree(), *parents, "-m", message,
                        env=identity_env(author))
        return (out or "").strip()

    def merge_records(
        self, log_ref: str, other: str, *, author: tuple[str, str] | None = None
    ) -> str:
        """Fold the chain at ``other`` (e.g. a fetched remote log) into ``log_ref``.

        Returns ``"up to date"`` (nothing new), ``"fast-forward"`` (ours had nothing
        theirs lacks) or ``"merged"``: both chains diverged, so a merge commit (empty
        tree, parents ours then theirs) now joins them. Nothing is ever dropped.
        """
        found = self._git("rev-parse", "--verify", "--quiet", f"{other}^{{commit}}", check=False)
        if not found or not found.strip():
            raise NotFound(f"no alias log at {other!r}: fetch it first")
        theirs = found.strip()
        env = identity_env(author)
        for _ in range(_APPEND_ATTEMPTS):
            ours = self.resolve(log_ref)
            if ours == theirs or (ours and self.is_ancestor(theirs, ours)):
                return "up to date"
            if ours is None or self.is_ancestor(ours, theirs):
                new, outcome = theirs, "fast-forward"
            else:
                new = (self._git(
                    "commit-tree", self._empty_tree(), "-p", ours, "-p", theirs,
                    "-m", f"Merge alias log {other}", env=env,
                ) or "").strip()
                outcome = "merged"
            try:
                self.update_refs([(log_ref, new, ours)], f"promptctl: merge {other}")
                return outcome
            except GitError as exc:
                if "cannot lock ref" not in exc.detail:
                    raise
        raise Conflict(f"{log_ref} kept moving under us; try again")

    def read_records(self, log_ref: str) -> list[LogEntry]:
        """Every commit of the chain at ``log_ref``, merges included, oldest first.

        Ordered by author date, then commit id, and never a commit before its parents:
        the same order in every clone, whichever way round two chains were merged.
        """
        if self.resolve(log_ref) is None:
            return []
        out = self._git("log", "--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%B%x1f", log_ref)
        entries = [parse_log_record(r.encode()) for r in (out or "").split("\x1e") if r.strip()]
        return _oldest_first(entries)


def _oldest_first(entries: list[LogEntry]) -> list[LogEntry]:
    """Parents before children; among commits free to come next, earliest date, then id."""
    import heapq

    by_id = {e.commit: e for e in entries}
    waiting: dict[str, int] = {}
    children: dict[str, list[str]] = {}
    for entry in entries:
        parents = [p for p in entry.parents if p in by_id]
        waiting[entry.commit] = len(parents)
        for parent in parents:
            children.setdefault(parent, []).append(entry.commit)
    ready = [(e.timestamp, e.commit) for e in entries if not waiting[e.commit]]
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
