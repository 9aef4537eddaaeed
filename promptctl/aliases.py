"""Moving aliases: set and delete, each recorded in the alias log, protected aliases checked.

An alias is the annotated tag ``prompts/<name>@<alias>``; ``snapshot`` resolves it, so a
load needs nothing here. A move writes the tag and its alias-log record
(``formats.aliaslog``) in one ref transaction or, with ``push``, pushes both to
``origin`` first with a lease on the tag (``push.push_alias``). Before anything is
written, the rules ``promptctl.yaml`` sets for a protected alias are checked against
the alias's history: a reason, a promotion path. ``force`` overrides them, needs a
reason, and the record says it was forced.

The history of an alias is the union of the local alias log and the one last fetched
from ``origin``: a fresh CI clone that fetched the log judges a promotion by the same
history as everyone else, before the two logs are merged by the next move.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple

from . import journal
from .alias_moves import read_moves
from .errors import (
    AliasMovedOnRemote,
    AliasNotFound,
    InvalidInput,
    PromptctlError,
    ProtectedAlias,
)
from .formats.aliaslog import ALIAS_LOG_REF, encode_move
from .formats.references import ALIAS_REF_PREFIX, alias_ref
from .models import AliasMove
from .remote import REMOTE, REMOTE_LOG

if TYPE_CHECKING:
    from .git import Repo
    from .index import VersionRow
    from .push import LeaseLost
    from .snapshot import Snapshot
    from .writing import Writer


class Move(NamedTuple):
    """One alias move asked for: ``target`` ``None`` deletes the alias."""

    name: str
    alias: str
    target: VersionRow | None
    message: str | None
    force: bool = False

    @property
    def reason(self) -> str | None:
        """The reason given, if any (the log keeps no blank reason)."""
        return self.message.strip() or None if self.message else None


def move_alias(writer: Writer, move: Move, *, push: bool) -> LeaseLost | None:
    """Point the alias at ``move.target`` (or delete it), recorded; the caller holds the
    write mutex. Returns :class:`LeaseLost` when the push found the alias moved on the
    remote: then nothing was written anywhere."""
    repo, snapshot = writer.repo, writer.snapshot
    refname = alias_ref(move.name, move.alias)
    old = repo.refs.resolve(refname)
    if move.target is None and old is None:
        raise AliasNotFound(move.name, move.alias, snapshot.aliases(move.name))
    before = _pointed_at(snapshot, move.name, old)
    _check_protection(repo, snapshot, move)
    if push and move.target is not None and old is not None and before == (
            move.target.commit, move.target.number):
        # Here the alias points there already, on origin it does not (set here without
        # --push, or moved there since): the tag goes out as it is with the log that
        # recorded its move, under the same lease as any move; a "v1 -> v1" record
        # would say nothing.
        return _push_move(writer, move, refname, old, old, None,
                          f"push {move.name}@{move.alias}")
    tag: str | None = None
    after: tuple[str | None, int | None] = (None, None)
    note = f"delete {move.name}@{move.alias}"
    if move.target is not None:
        text = move.message or f"Point {move.alias} at version {move.target.number}"
        tag = repo.commits.tag(f"prompts/{move.name}@{move.alias}", move.target.commit, text,
                               writer.author)
        after, note = (move.target.commit, move.target.number), text.splitlines()[0]
    record = encode_move(move.name, move.alias, before, after, move.reason, move.force)
    if push:
        return _push_move(writer, move, refname, tag, old, record, note)
    pending = journal.AliasMove(refname, old, tag, record, writer.author, os.getpid())
    journal.begin_move(repo.git_dir, pending)
    try:
        repo.records.append(ALIAS_LOG_REF, record, author=writer.author,
                            also=[(refname, tag, old)], reason=f"promptctl: {note}")
    except PromptctlError:
        if not _split(repo, pending):  # git refused the transaction whole: nothing moved
            journal.end_move(repo.git_dir)
        raise
    journal.end_move(repo.git_dir)
    return None


def _push_move(writer: Writer, move: Move, refname: str, tag: str | None, old: str | None,
               record: str | None, note: str) -> LeaseLost | None:
    """Push the alias from ``old`` to ``tag`` with its ``record`` (``None``: the log as it
    is), leased on the local tag; :class:`LeaseLost` when origin's alias moved."""
    from .push import push_alias  # only a pushed move needs it

    repo = writer.repo
    lost = push_alias(repo, refname, tag, old, record, lease=old, author=writer.author,
                      reason=f"promptctl: {note}")
    if lost is not None and lost.theirs != old and _as_last_read(repo, move, lost.theirs):
        # Only the local alias moved since the remote's was read (a move made without
        # --push, or one a kill left unrecorded and _recover recorded): the lease is
        # on what the remote held then, not on the local tag.
        lost = push_alias(repo, refname, tag, old, record, lease=lost.theirs,
                          author=writer.author, reason=f"promptctl: {note}")
    return lost


class Unrecorded(NamedTuple):
    """An alias whose tag points elsewhere than its last alias-log record says: moved
    (by a killed move, or by hand) with no record. ``recorded`` and ``actual`` are
    (commit, version) pairs, ``(None, None)`` for no tag; ``record`` is the exact
    record a killed move meant to write, when its journal says so."""

    name: str
    alias: str
    recorded: tuple[str | None, int | None]
    actual: tuple[str | None, int | None]
    record: str | None = None

    @property
    def detail(self) -> str:
        """One line saying what moved without a record."""
        def label(commit: str | None, version: int | None) -> str:
            return "deleted" if commit is None else f"v{version}" if version else commit[:10]

        last = label(*self.recorded) if self.recorded[0] or self.record is None else "nothing"
        return (f"alias {self.name}@{self.alias} is {label(*self.actual)} but the alias log "
                f"last recorded {last}: it moved without its record (run 'promptctl check "
                "--fix' to record it)")


def unrecorded_moves(repo: Repo, snapshot: Snapshot, name: str | None = None) -> list[Unrecorded]:
    """Every alias (of ``name``, or all) that moved without its alias-log record.

    An alias is judged by its last record: one that never had a record (a tag made by
    hand, or before the log) is not a move the log lost, unless a killed move's journal
    names it.
    """
    last: dict[tuple[str, str], AliasMove] = {}
    for move in alias_history(repo, name) if name else _all_moves(repo):
        last[(move.name, move.alias)] = move
    found: list[Unrecorded] = []
    for (prompt, alias), move in sorted(last.items()):
        tag = repo.refs.resolve(alias_ref(prompt, alias))
        commit = snapshot.objects.peel(tag) if tag else None
        if commit != move.to_commit:
            found.append(Unrecorded(prompt, alias, (move.to_commit, move.to_version),
                                    _pointed_at(snapshot, prompt, tag)))
    pending = _interrupted_move(repo)
    if pending is not None:
        prompt, _, alias = pending.ref.removeprefix(ALIAS_REF_PREFIX).rpartition("@")
        if name in (None, prompt):  # the exact record the killed move meant to write
            known = last.get((prompt, alias))
            found = [u for u in found if (u.name, u.alias) != (prompt, alias)]
            found.append(Unrecorded(
                prompt, alias, (known.to_commit, known.to_version) if known else (None, None),
                _pointed_at(snapshot, prompt, pending.new), pending.record))
    return found


def record_unrecorded(writer: Writer) -> list[Unrecorded]:
    """Append the missing record of every alias that moved without one (inside a write);
    what was recorded."""
    repo = writer.repo
    fixed = unrecorded_moves(repo, writer.snapshot)
    for item in fixed:
        record = item.record or encode_move(
            item.name, item.alias, item.recorded, item.actual,
            "recorded afterwards: the tag moved without its alias-log record", False)
        repo.records.append(ALIAS_LOG_REF, record, author=writer.author,
                            reason=f"promptctl: record {item.name}@{item.alias}")
    journal.end_move(repo.git_dir)
    return fixed


def recover_move(repo: Repo) -> str | None:
    """Append the record of an alias move a killed process left without one (its journal
    says which); what was done, or ``None``. The caller holds the write mutex."""
    pending = journal.read_move(repo.git_dir)
    if pending is None or not _split(repo, pending):
        journal.end_move(repo.git_dir)  # unreadable, or the move landed whole or not at all
        return None
    repo.records.append(ALIAS_LOG_REF, pending.record, author=pending.author,
                        reason="promptctl: record an interrupted alias move")
    journal.end_move(repo.git_dir)
    return (f"recorded the alias move {pending.record.splitlines()[0]}: it was interrupted "
            "before its alias-log record was written")


def _interrupted_move(repo: Repo) -> journal.AliasMove | None:
    """The killed alias move whose tag moved but whose record did not land, if any."""
    if not os.path.lexists(journal.move_path(repo.git_dir)):
        return None
    pending = journal.read_move(repo.git_dir)
    if pending is None or journal.running(pending.pid) or not _split(repo, pending):
        return None
    return pending


def _split(repo: Repo, pending: journal.AliasMove) -> bool:
    """Whether the journaled move's tag moved while its record did not land (the record
    would be the log's tip: the move held the write mutex until it was killed)."""
    if repo.refs.resolve(pending.ref) != pending.new:
        return False
    tip = repo.refs.resolve(ALIAS_LOG_REF)
    found = repo.objects.read(tip) if tip else None
    return found is None or found[1].partition(b"\n\n")[2] != pending.record.encode()


def held_on_remote(repo: Repo, snapshot: Snapshot, name: str, alias: str,
                   target: VersionRow) -> bool:
    """Whether ``origin``'s alias ``name@alias`` points at version ``target`` now.

    Asked over the network: the local tag says only where the alias was when last
    fetched or set here. Another tag than ours at the same version counts.
    """
    commit = repo.remotes.ls_remote_commit(REMOTE, alias_ref(name, alias))
    if commit is None:
        return False
    if commit == target.commit:
        return True
    # An alias set on a branch since merged names another commit holding the version;
    # a commit not fetched here has no version here.
    row = snapshot.version_at(name, commit)
    return row is not None and (row.number, row.blob) == (target.number, target.blob)


def _as_last_read(repo: Repo, move: Move, theirs: str | None) -> bool:
    """Whether ``origin``'s alias is still where its alias log, as last fetched or pushed,
    last put it (``theirs``: the remote's tag now). With no record of the alias in that
    log (or none fetched) only an alias origin does not have is: one set here and never
    pushed, which a push may create, leased on its absence. Any alias origin has and its
    log never recorded proves nothing."""
    last = None
    for found in read_moves(repo, REMOTE_LOG):
        if (found.name, found.alias) == (move.name, move.alias):
            last = found
    if last is None:
        return theirs is None
    return (repo.objects.peel(theirs) if theirs else None) == last.to_commit


def _all_moves(repo: Repo) -> list[AliasMove]:
    return read_moves(repo, ALIAS_LOG_REF, REMOTE_LOG)


def after_lease_lost(repo: Repo, snapshot: Snapshot, name: str, alias: str, lost: LeaseLost,
                     ours: str) -> AliasMovedOnRemote:
    """After an alias push lost its lease, with the local alias made the remote's: the error."""
    refname = alias_ref(name, alias)
    from .push import restore_alias

    restore_alias(repo, refname, lost.theirs)
    theirs = repo.refs.resolve(refname)
    label = "deleted"
    if theirs is not None:
        commit, number = _pointed_at(snapshot, name, theirs)
        label = f"version {number}" if number else f"commit {(commit or theirs)[:10]}"
    return AliasMovedOnRemote(name, alias, ours, label)


def alias_history(repo: Repo, name: str, alias: str | None = None) -> list[AliasMove]:
    """Every recorded move of ``name``'s aliases (or of one alias), oldest first: the local
    log and the one fetched from ``origin``, each record once."""
    return [m for m in read_moves(repo, ALIAS_LOG_REF, REMOTE_LOG)
            if m.name == name and alias in (None, m.alias)]


def merge_alias_log(repo: Repo, remote_ref: str, author: tuple[str, str] | None) -> str:
    """Fold a fetched alias log into ours: ``"up to date"``, ``"fast-forward"`` or ``"merged"``."""
    return repo.records.merge(ALIAS_LOG_REF, remote_ref, author=author)


def _pointed_at(snapshot: Snapshot, name: str,
                tag: str | None) -> tuple[str | None, int | None]:
    """Where alias tag ``tag`` points: (commit of that version, version), or ``(None, None)``."""
    if tag is None:
        return None, None
    # The snapshot peeled its alias tags already (packed ones from packed-refs, without
    # reading the tag object): ask it before reading objects.
    state = next((s for s in snapshot.alias_states(name) if s.ref.target == tag), None)
    commit = state.commit if state is not None else snapshot.objects.peel(tag)
    row = snapshot.version_at(name, commit) if commit else None
    return (row.commit if row else commit), (row.number if row else None)


def _check_protection(repo: Repo, snapshot: Snapshot, move: Move) -> None:
    """Refuse a move the rules of ``promptctl.yaml`` forbid."""
    if move.force:
        if move.reason is None:
            raise InvalidInput("--force needs a reason (-m): forced moves are recorded")
        return
    policy = snapshot.config().policy(move.alias)
    if policy is None:
        return
    if move.target is None:
        raise ProtectedAlias(move.name, move.alias, "deleting it is refused")
    unmet = []
    if policy.require_reason and move.reason is None:
        unmet.append("a reason is required (-m)")
    source = policy.promote_from
    if source is not None:
        held = _held_by(repo, snapshot, move.name, source)
        if move.target.blob not in held:
            had = ", ".join(str(n) for n in sorted(set(held.values()))) or "none"
            unmet.append(f"it may only point at a version {source!r} holds or has held "
                         f"({had}), and {source!r} never held version {move.target.number}")
    if unmet:
        raise ProtectedAlias(move.name, move.alias, "; ".join(unmet))


def _held_by(repo: Repo, snapshot: Snapshot, name: str, alias: str) -> dict[str, int]:
    """The versions ``alias`` of ``name`` points at or ever pointed at, by blob (content:
    a version re-made by a merge or a squash is still the version staging held)."""
    held: dict[str, int] = {}
    for move in alias_history(repo, name, alias):
        if move.to_commit is None or move.to_version is None:
            continue
        row = snapshot.version_at(name, move.to_commit)
        if row is not None:
            held[row.blob] = row.number
    state = next((s for s in snapshot.alias_states(name) if s.alias == alias), None)
    if state is not None and state.row is not None:
        held[state.row.blob] = state.row.number
    return held
