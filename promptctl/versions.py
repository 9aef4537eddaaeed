"""The versions of a registry's prompts as the current branch has them: what every read asks.

:class:`Versions` keeps the version index (``index``) current for the branch HEAD is on,
fetching a shallow clone's full history first when it must, and answers the questions
a read asks: which indexed version a reference (``name``, ``name/3``, ``name@alias``)
names, which version each alias resolves to, and what a version's prompt file says.

Aliases are annotated tags ``prompts/<name>@<alias>``, read live from the refs. A tag
pointing at a commit that did not change the prompt resolves to the version in force at
that commit. Moving aliases is ``aliases``' job; a load needs only this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    AliasNotFound,
    GitError,
    PromptNotFound,
    RemoteUnreachable,
    VersionNotFound,
)
from .formats import promptfile
from .formats.references import PromptRef
from .gitrepo import GitRepo, Head, LogEntry, Ref
from .index import Progress, ShallowHistory, VersionIndex, VersionRow
from .models import PromptVersion

if TYPE_CHECKING:
    from .remote import RemoteClone

TAG_PREFIX = "refs/tags/prompts/"


def alias_ref(name: str, alias: str) -> str:
    """The tag that holds ``alias`` of prompt ``name``."""
    return f"{TAG_PREFIX}{name}@{alias}"


class Versions:
    """The prompt versions of the registry at ``prefix`` in ``repo``, as its branch has them.

    ``remote`` is the cache clone of a remote registry (fetched per its TTL before a read,
its staleness marking what is read);
    ``progress`` is called while a long history is indexed for the first time. A shallow
    clone is deepened once (``deepened_from`` then names the remote); after a failure,
    reads raise :class:`ShallowHistory` with the same reason, without asking again.
    """

    def __init__(self, repo: GitRepo, prefix: str, *, remote: RemoteClone | None = None,
                 progress: Progress | None = None) -> None:
        self.repo = repo
        self.prefix = prefix
        self.remote = remote
        self.deepened_from: str | None = None
        self._progress = progress
        self._index: VersionIndex | None = None
        self._index_branch: str | None = None
        self._memo: tuple[str | None, dict[tuple[str, str], int | None]] = (None, {})
        self._deepen_failure: str | None = None

    def close(self) -> None:
        """Close the index (reopened on demand)."""
        if self._index is not None:
            self._index.close()
            self._index = None

    # -- the index -------------------------------------------------------------------------

    def index(self, head: Head | None = None) -> VersionIndex:
        """The index of ``head``'s branch, brought up to its tip.

        Without ``head``: HEAD now, a remote registry fetched first if its TTL ran out
        (never in the middle of a write: see ``RemoteClone.writing``).
        """
        if head is None:
            if self.remote is not None:
                self.remote.sync()
            head = self.repo.head()
        if self._index is None or self._index_branch != head.ref:
            if self._index is not None:
                self._index.close()
            self._index = VersionIndex(self.repo, self.prefix, head.ref)
            self._index_branch = head.ref
        self.refresh(self._index, head.commit)
        return self._index

    def refresh(self, index: VersionIndex, tip: str | None, *, made: LogEntry | None = None) -> None:
        """Bring ``index`` up to ``tip`` (``made``: the commit just made there), deepening a
        shallow clone first if it must."""
        try:
            index.refresh(tip, self._progress, made=made)
        except ShallowHistory:
            self._deepen()
            index.refresh(tip, self._progress, made=made)

    def _deepen(self) -> None:
        """Fetch a shallow clone's full history, or raise :class:`ShallowHistory` saying why not.

        Tried once: a remote that cannot be reached is not asked again on every load (the
        error is, with the same reason).
        """
        if self._deepen_failure is None:
            try:
                self.deepened_from = self.repo.unshallow()
                return
            except GitError as exc:
                self._deepen_failure = exc.detail
        raise ShallowHistory(self._deepen_failure)

    # -- references to versions ------------------------------------------------------------

    def row(self, index: VersionIndex, ref: PromptRef) -> VersionRow:
        """The indexed version ``ref`` resolves to now; :class:`NotFound` if none."""
        if ref.alias is not None:
            return self.alias_target(index, ref.name, ref.alias)
        if ref.version is not None:
            row = index.version(ref.name, ref.version)
            if row is None:
                latest = index.count(ref.name)
                if not latest:
                    raise PromptNotFound(ref.name)
                raise VersionNotFound(ref.name, ref.version, latest)
            return row
        newest = index.newest(ref.name)
        if newest is None:
            raise PromptNotFound(ref.name)
        return newest

    def read_file(self, row: VersionRow) -> bytes | None:
        """The bytes of the prompt file of version ``row``, or ``None`` if the object is missing."""
        found = self.repo.read_object(row.blob)
        return found[1] if found else None

    def prompt(self, index: VersionIndex, row: VersionRow) -> PromptVersion:
        """Version ``row`` as a :class:`PromptVersion`: its prompt file parsed, its aliases."""
        data = self.read_file(row)
        if data is None and self.remote is not None:  # a partial clone, offline
            raise RemoteUnreachable(self.remote.url, f"{row.name} version {row.number} was "
                                    "never downloaded and cannot be fetched now")
        text = data.decode("utf-8") if data is not None else ""
        content = promptfile.parse_prompt(text, f"{index.path_of(row.name)} (version {row.number})")
        aliases = tuple(a for a, n in self.aliases(index, row.name).items() if n == row.number)
        return PromptVersion(
            name=row.name,
            version=row.number,
            template=content.template,
            commit=row.commit,
            commit_message=row.message,
            author=row.author,
            timestamp=row.timestamp,
            description=content.description,
            model_config=content.model_config,
            tags=content.tags,
            response_format=content.response_format,
            aliases=aliases,
            stale=self.remote is not None and self.remote.stale,
        )

    # -- aliases to versions ---------------------------------------------------------------

    def alias_refs_by_name(self) -> dict[str, dict[str, Ref]]:
        """Every alias tag, grouped by prompt name, then by alias."""
        grouped: dict[str, dict[str, Ref]] = {}
        for refname, ref in self.repo.refs(TAG_PREFIX).items():
            name, _, alias = refname[len(TAG_PREFIX):].rpartition("@")
            if name:
                grouped.setdefault(name, {})[alias] = ref
        return grouped

    def aliases(self, index: VersionIndex, name: str,
                refs: dict[str, Ref] | None = None) -> dict[str, int]:
        """Each alias of ``name`` and the version it resolves to.

        ``refs`` (alias → ref) saves reading the refs again when the caller has them.
        """
        if refs is None:
            refs = {refname.rpartition("@")[2]: ref
                    for refname, ref in self.repo.refs(f"{TAG_PREFIX}{name}@").items()}
        found = {}
        for alias, ref in refs.items():
            if "/" in alias:
                continue  # belongs to a longer prompt name such as name@x/...; not ours
            number = self.version_of(index, name, ref)
            if number is not None:
                found[alias] = number
        return found

    def alias_target(self, index: VersionIndex, name: str, alias: str) -> VersionRow:
        """The version ``alias`` of ``name`` resolves to; :class:`NotFound` if none."""
        refname = alias_ref(name, alias)
        target = self.repo.resolve(refname)
        number = self.version_of(index, name, Ref(refname, target)) if target else None
        row = index.version(name, number) if number else None
        if row is None:
            if not index.count(name):
                raise PromptNotFound(name)
            raise AliasNotFound(name, alias, self.aliases(index, name))
        return row

    def version_of(self, index: VersionIndex, name: str, ref: Ref) -> int | None:
        """The version of ``name`` in force at the commit ``ref`` (a tag) points to."""
        commit = self.repo.peel(ref)
        return self.version_at(index, name, commit) if commit else None

    def version_at(self, index: VersionIndex, name: str, commit: str) -> int | None:
        """The version of ``name`` in force at ``commit`` (which need not have changed it).

        Remembered while the branch tip stays put: a search resolves thousands of
        aliases, and the answer for a commit changes only when history does.
        """
        if self._memo[0] != index.tip:
            self._memo = (index.tip, {})
        memo = self._memo[1]
        key = (name, commit)
        if key not in memo:
            number = index.number_of(name, commit)
            if number is None:
                changed = self.repo.last_change(commit, index.path_of(name))
                number = index.number_of(name, changed) if changed else None
            memo[key] = number
        return memo[key]
