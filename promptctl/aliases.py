"""Moving aliases: set and delete, each recorded in the alias log, protected aliases checked.

An alias is the annotated tag ``prompts/<name>@<alias>``; ``versions`` resolves it, so a
load needs nothing here. A move writes the tag and its alias-log record (``aliaslog``) in
one ref transaction or, with ``push``, pushes both to ``origin`` first with a lease on the
tag (``push.push_alias``). Before anything is written, the rules ``promptctl.yaml`` sets
for a protected alias (``config``) are checked: a reason, a promotion path. ``force``
overrides them, needs a reason, and the record says it was forced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import AliasMovedOnRemote, AliasNotFound, InvalidInput, ProtectedAlias
from .formats.aliaslog import ALIAS_LOG_REF, decode_move, encode_move
from .formats.config import RegistryConfig, parse_config
from .gitrepo import Ref
from .location import CONFIG_FILE
from .models import AliasMove
from .push import LeaseLost, push_alias, restore_alias
from .versions import Versions, alias_ref

if TYPE_CHECKING:
    from .gitrepo import GitRepo
    from .index import VersionIndex, VersionRow


class Aliases:
    """The alias moves of the registry whose versions ``versions`` reads."""

    def __init__(self, versions: Versions) -> None:
        self.versions = versions
        self.repo = versions.repo

    def move(self, index: VersionIndex, name: str, alias: str, target: VersionRow | None,
             message: str | None, *, who: tuple[str, str] | None, force: bool,
             push: bool) -> LeaseLost | None:
        """Point ``alias`` of ``name`` at version ``target`` (``None``: delete it), recorded.

        The caller holds the repository's write lock. Returns :class:`LeaseLost` when the
        push found the alias moved on the remote: then nothing was written anywhere, and
        :meth:`lease_lost` makes the local alias the remote's.
        """
        refname = alias_ref(name, alias)
        old = self.repo.resolve(refname)
        if target is None and old is None:
            raise AliasNotFound(name, alias, self.versions.aliases(index, name))
        reason = message.strip() or None if message else None  # the log keeps no blank reason
        before = self._pointed_at(index, name, refname, old)
        self._check_protection(index, name, alias, target, reason, force)
        tag: str | None = None
        after: tuple[str | None, int | None] = (None, None)
        note = f"delete {name}@{alias}"
        if target is not None:
            text = message or f"Point {alias} at version {target.number}"
            tag = self.repo.create_tag(f"prompts/{name}@{alias}", target.commit, text, author=who)
            after, note = (target.commit, target.number), text.splitlines()[0]
        record = encode_move(name, alias, before, after, reason, force)
        if push:
            return push_alias(self.repo, refname, tag, old, record, author=who,
                              reason=f"promptctl: {note}")
        self.repo.append_record(ALIAS_LOG_REF, record, author=who, also=[(refname, tag, old)],
                                reason=f"promptctl: {note}")
        return None

    def lease_lost(self, name: str, alias: str, lost: LeaseLost, ours: str) -> AliasMovedOnRemote:
        """After an alias push lost its lease: the alias as the remote has it; the error."""
        refname = alias_ref(name, alias)
        remote = self.versions.remote
        if remote is not None:
            remote.sync(force=True)
        else:
            with self.repo.write_lock():
                restore_alias(self.repo, refname, lost.theirs)
        theirs = self.repo.resolve(refname)
        label = "deleted"
        if theirs is not None:
            commit, number = self._pointed_at(self.versions.index(), name, refname, theirs)
            label = f"version {number}" if number else f"commit {(commit or theirs)[:10]}"
        return AliasMovedOnRemote(name, alias, ours, label)

    def history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every recorded move of ``name``'s aliases (or of one alias), oldest first."""
        moves = (decode_move(entry) for entry in self.repo.read_records(ALIAS_LOG_REF))
        return [m for m in moves
                if m is not None and m.name == name and alias in (None, m.alias)]

    def merge_log(self, remote_ref: str, *, who: tuple[str, str] | None = None) -> str:
        """Fold a fetched alias log into ours: ``"up to date"``, ``"fast-forward"`` or ``"merged"``."""
        with self.repo.write_lock():
            return self.repo.merge_records(ALIAS_LOG_REF, remote_ref, author=who)

    def _pointed_at(self, index: VersionIndex, name: str, refname: str,
                    old: str | None) -> tuple[str | None, int | None]:
        """Where the alias tag ``old`` points: (commit of that version, version), or ``(None, None)``."""
        if old is None:
            return None, None
        commit = self.repo.peel(Ref(refname, old))
        number = self.versions.version_at(index, name, commit) if commit else None
        row = index.version(name, number) if number else None
        return (row.commit if row else commit), number

    def _check_protection(self, index: VersionIndex, name: str, alias: str,
                          target: VersionRow | None, reason: str | None, force: bool) -> None:
        """Refuse a move the rules of ``promptctl.yaml`` forbid (``target`` ``None``: delete)."""
        if force:
            if reason is None:
                raise InvalidInput("--force needs a reason (-m): forced moves are recorded")
            return
        policy = committed_config(self.repo, self.versions.prefix).policy(alias)
        if policy is None:
            return
        if target is None:
            raise ProtectedAlias(name, alias, "deleting it is refused")
        unmet = []
        if policy.require_reason and reason is None:
            unmet.append("a reason is required (-m)")
        source = policy.promote_from
        if source is not None:
            held = self._held_by(index, name, source)
            if target.commit not in held:
                had = ", ".join(str(n) for n in sorted(set(held.values()))) or "none"
                unmet.append(f"it may only point at a version {source!r} holds or has held "
                             f"({had}), and {source!r} never held version {target.number}")
        if unmet:
            raise ProtectedAlias(name, alias, "; ".join(unmet))

    def _held_by(self, index: VersionIndex, name: str, alias: str) -> dict[str, int]:
        """The versions ``alias`` of ``name`` points at or ever pointed at, by commit."""
        held = {m.to_commit: m.to_version for m in self.history(name, alias)
                if m.to_commit is not None and m.to_version is not None}
        number = self.versions.aliases(index, name).get(alias)
        row = index.version(name, number) if number else None
        if row is not None:
            held[row.commit] = row.number
        return held


def committed_config(repo: GitRepo, prefix: str = "") -> RegistryConfig:
    """The settings of ``promptctl.yaml`` as committed on the current branch.

    ``prefix`` is the registry's folder in the repository (``""`` or ``"folder/"``). The
    committed file, not the working copy: a protection is changed by a reviewed commit,
    never by an unsaved local edit.
    """
    path = f"{prefix}{CONFIG_FILE}"
    head = repo.head()
    data = repo.read_blob(head.commit, path) if head.commit else None
    return parse_config(data.decode("utf-8", "replace") if data else "", path)
