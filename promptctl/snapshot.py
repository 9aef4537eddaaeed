"""A snapshot: one branch tip, its version index and its alias refs — what one read sees.

Every read (a load, a search, a history) takes one :class:`Snapshot` and asks it
everything: which version a reference names, which version each alias points at, what
a version's prompt file says. It is handed the repository's ``refs`` and ``objects``
and the index, nothing that runs git commands, so a load spawns no process beyond the
one ``cat-file`` it reads objects through.

Aliases are annotated tags ``prompts/<name>@<alias>``, read once per snapshot. An alias
names a commit; its version is the one that commit made, else the version holding the
same file (a tag set on a branch that was merged, squashed or rebased since, or on a
commit that did not change the prompt): it loads exactly the content it was set to.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import (
    AliasNotFound,
    Conflict,
    PromptctlError,
    PromptNotFound,
    RemoteUnreachable,
    VersionNotFound,
)
from .formats import promptfile
from .formats import template as tmpl
from .formats.references import ALIAS_REF_PREFIX, PromptRef
from .git.objects import Objects
from .git.refs import Head, Ref, Refs
from .index import VersionIndex, VersionRow
from .location import CONFIG_FILE
from .models import PromptVersion

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

    from .formats.config import RegistryConfig

class AliasState(NamedTuple):
    """One alias tag of a prompt and what it resolves to: ``row`` is its version, or
    ``None`` with ``problem`` saying why it has none."""

    alias: str
    ref: Ref
    commit: str | None
    row: VersionRow | None
    problem: str | None = None


class AliasGroups:
    """Alias tags grouped by prompt name, then by alias, kept from one snapshot to the
    next while the tags are the same: a search reads thousands, and grouping 2,000 took
    longer than the rest of the search; comparing them with the last ones read is a
    tenth of that."""

    __slots__ = ("_grouped", "_packed", "_packed_grouped", "_refs")

    def __init__(self) -> None:
        self._refs: dict[str, Ref] | None = None
        self._grouped: dict[str, dict[str, Ref]] = {}
        self._packed: dict[str, Ref] | None = None
        self._packed_grouped: dict[str, dict[str, Ref]] = {}

    def of(self, refs: dict[str, Ref]) -> dict[str, dict[str, Ref]]:
        """``refs`` (the alias tags by ref name) grouped; the caller must not change it."""
        if refs != self._refs:
            self._refs, self._grouped = refs, _grouped(refs)
        return self._grouped

    def some(self, refs: Refs, names: Collection[str]) -> dict[str, dict[str, Ref]]:
        """The alias tags of ``names`` only, grouped: the packed ones grouped once per
        packed-refs file, and of the loose ones only these prompts' read. A registry
        grown by promptctl keeps hundreds of tags loose, and reading each file was most
        of a search."""
        packed = refs.packed(ALIAS_REF_PREFIX)
        if packed is not self._packed:
            self._packed, self._packed_grouped = packed, _grouped(packed)
        wanted = set(names)
        found = {name: dict(self._packed_grouped[name]) for name in wanted
                 if name in self._packed_grouped}
        loose = refs.loose(ALIAS_REF_PREFIX, lambda refname: _split(refname)[0] in wanted)
        for name, tags in _grouped(loose).items():
            found.setdefault(name, {}).update(tags)
        return found


def _split(refname: str) -> tuple[str, str]:
    """An alias tag's name as ``(prompt, alias)``; ``("", "")`` for a tag none of ours."""
    name, _, alias = refname[len(ALIAS_REF_PREFIX):].rpartition("@")
    return (name, alias) if name and "/" not in alias else ("", "")


def _grouped(refs: Mapping[str, Ref]) -> dict[str, dict[str, Ref]]:
    grouped: dict[str, dict[str, Ref]] = {}
    for refname, ref in refs.items():
        name, alias = _split(refname)
        if name:
            grouped.setdefault(name, {})[alias] = ref
    return grouped


class Snapshot:
    """The registry at one branch tip.

    ``memo`` remembers, across snapshots of the same tip, which version each alias
    commit resolves to (a search resolves thousands), and ``numbers`` which number each
    ``(name, commit)`` made, if any; ``groups`` keeps the alias tags grouped.
    ``remote_url`` is set for a remote registry, ``stale`` while it could not be fetched.
    """

    def __init__(self, refs: Refs, objects: Objects, index: VersionIndex, head: Head, *,
                 prefix: str, memo: dict[tuple[str, str], VersionRow | None],
                 numbers: dict[tuple[str, str], int | None] | None = None,
                 groups: AliasGroups | None = None,
                 remote_url: str | None = None, stale: bool = False) -> None:
        self.refs = refs
        self.objects = objects
        self.index = index
        self.head = head
        self.prefix = prefix
        self.remote_url = remote_url
        self.stale = stale
        self._memo = memo
        self._numbers = {} if numbers is None else numbers
        self._groups = groups or AliasGroups()
        self._alias_refs: dict[str, dict[str, Ref]] | None = None
        self._states: dict[str, list[AliasState]] = {}

    @property
    def tip(self) -> str | None:
        """The branch's newest commit (``None`` on an unborn branch)."""
        return self.head.commit

    # -- references to versions ------------------------------------------------------------

    def row(self, ref: PromptRef) -> VersionRow:
        """The version ``ref`` resolves to now; :class:`NotFound` naming what exists if none."""
        if ref.alias is not None:
            return self.alias_target(ref.name, ref.alias)
        if ref.version is not None:
            row = self.index.version(ref.name, ref.version)
            if row is None:
                latest = self.index.count(ref.name)
                if not latest:
                    raise self.not_found(ref.name)
                raise VersionNotFound(ref.name, ref.version, latest)
            return row
        newest = self.index.newest(ref.name)
        if newest is None:
            raise self.not_found(ref.name)
        return newest

    def not_found(self, name: str) -> PromptNotFound:
        """The error for an unknown prompt, naming the prompts whose names are close."""
        import difflib  # only on this error path

        names = [row.name for row in self.index.latest_rows()]
        close = difflib.get_close_matches(name, names, n=2, cutoff=0.6)
        close += [n for n in names if n.endswith("/" + name) and n not in close][:1]
        return PromptNotFound(name, close)

    def read_file(self, row: VersionRow) -> bytes:
        """The bytes of version ``row``'s prompt file, checked against the commit's tree."""
        data = read_version(self.objects, self.index.path_of(row.name), row)
        if data is None:
            if self.remote_url is not None:  # a partial clone, offline
                raise RemoteUnreachable(self.remote_url, f"{row.name} version {row.number} was "
                                        "never downloaded and cannot be fetched now")
            raise Conflict(f"{row.name} version {row.number}: commit {row.commit[:10]} is "
                           "missing from the repository; run 'git fetch' or 'git fsck'")
        return data

    def prompt(self, row: VersionRow) -> PromptVersion:
        """Version ``row`` as a :class:`PromptVersion`: its prompt file parsed, its aliases."""
        source = f"{self.index.path_of(row.name)} (version {row.number})"
        return self.version(row, promptfile.parse_prompt_bytes(self.read_file(row), source))

    def version(self, row: VersionRow, content: promptfile.PromptContent) -> PromptVersion:
        """Version ``row`` as a :class:`PromptVersion`, given what its file holds."""
        aliases = tuple(a for a, n in self.aliases(row.name).items() if n == row.number)
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
            stale=self.stale,
        )

    # -- aliases ---------------------------------------------------------------------------

    def alias_refs_by_name(self) -> dict[str, dict[str, Ref]]:
        """Every alias tag, grouped by prompt name, then by alias (read once per snapshot;
        not to be changed)."""
        if self._alias_refs is None:
            self._alias_refs = self._groups.of(self.refs.refs(ALIAS_REF_PREFIX))
        return self._alias_refs

    def _alias_refs_of(self, name: str) -> dict[str, Ref]:
        """The alias tags of one prompt: from the whole map when read, else only its own
        (a load reads one prompt's tags, not every alias of the registry)."""
        if self._alias_refs is not None:
            return self._alias_refs.get(name, {})
        prefix = f"{ALIAS_REF_PREFIX}{name}@"
        return {refname[len(prefix):]: ref for refname, ref in self.refs.refs(prefix).items()
                if "/" not in refname[len(prefix):]}

    def alias_states(self, name: str) -> list[AliasState]:
        """Every alias tag of ``name``, sorted, each with its version or why it has none."""
        known = self._states.get(name)
        if known is not None:  # read once per snapshot, as the refs are
            return known
        found: list[AliasState] = []
        for alias, ref in sorted(self._alias_refs_of(name).items()):
            commit = ref.peeled or self.objects.peel(ref.target)
            if commit is None:
                found.append(AliasState(alias, ref, None, None, "the tag names no commit"))
                continue
            row = self.version_at(name, commit)
            problem = None if row is not None else (
                f"commit {commit[:10]} holds no version of {name} on this branch "
                "(a branch not merged yet, a branch merged without that content, or "
                "the file is absent there)")
            found.append(AliasState(alias, ref, commit, row, problem))
        self._states[name] = found
        return found

    def alias_tag(self, name: str, alias: str) -> str | None:
        """The object id the tag of ``alias`` of ``name`` had when this snapshot read it."""
        return next((s.ref.target for s in self.alias_states(name) if s.alias == alias), None)

    def aliases(self, name: str) -> dict[str, int]:
        """Each alias of ``name`` that resolves, and its version number."""
        return {s.alias: s.row.number for s in self.alias_states(name) if s.row is not None}

    def aliases_of(self, names: Iterable[str], known: Mapping[tuple[str, str], int] | None = None,
                   ) -> dict[str, dict[str, int]]:
        """:meth:`aliases` of many prompts (those with none left out): the commits that
        made their version are looked up in one pass over the index, and only a prompt
        with an alias that resolves otherwise takes the one-by-one way.

        ``known``: version numbers already at hand by ``(name, commit that made it)``,
        such as each prompt's newest (where a ``staging`` alias often points).
        """
        names = list(names)
        by_name = (self._alias_refs if self._alias_refs is not None
                   else self._groups.some(self.refs, names))
        commits: dict[str, list[tuple[str, str | None]]] = {}
        for name in names:
            refs = by_name.get(name)
            if refs:
                commits[name] = [(alias, ref.peeled or self.objects.peel(ref.target))
                                 for alias, ref in sorted(refs.items())]
        # In name order (as given), not a set's: lookups in index order take half the time.
        known = known or {}
        memo = self._numbers
        wanted = [(name, commit) for name, found in commits.items() for _, commit in found
                  if commit is not None and (name, commit) not in known
                  and (name, commit) not in memo]
        made = self.index.numbers_made_by(wanted)
        memo.update((pair, made.get(pair)) for pair in wanted)
        result: dict[str, dict[str, int]] = {}
        for name, found in commits.items():
            numbered = {alias: number for alias, commit in found if commit is not None and (
                number := known.get((name, commit)) or memo.get((name, commit))) is not None}
            result[name] = numbered if len(numbered) == len(found) else self.aliases(name)
        return result

    def alias_target(self, name: str, alias: str) -> VersionRow:
        """The version ``alias`` of ``name`` resolves to; :class:`NotFound` saying why if none."""
        states = self.alias_states(name)
        state = next((s for s in states if s.alias == alias), None)
        if state is not None and state.row is not None:
            return state.row
        if not self.index.count(name):
            raise self.not_found(name)
        existing = [s.alias if s.row else f"{s.alias} (unresolved)" for s in states]
        raise AliasNotFound(name, alias, existing, why=state.problem if state else None)

    def version_at(self, name: str, commit: str) -> VersionRow | None:
        """The version of ``name`` that commit ``commit`` holds: the one it made, else the one
        holding the same file (the newest not younger than the commit)."""
        key = (name, commit)
        if key in self._memo:
            return self._memo[key]
        row = self.index.made_by(name, commit)
        if row is None:
            blob = self.objects.entry_id(commit, self.index.path_of(name))
            candidates = self.index.holding(name, blob) if blob else []
            if candidates:
                when = self.objects.commit_time(commit) or 0
                older = [c for c in candidates if c.timestamp <= when]
                row = (older or candidates)[-1]
        self._memo[key] = row
        return row

    # -- the registry's settings -----------------------------------------------------------

    def config(self) -> RegistryConfig:
        """``promptctl.yaml`` as committed at the tip (never the unsaved working copy: a
        protection is changed by a reviewed commit, not a local edit)."""
        from .formats.config import parse_config

        path = f"{self.prefix}{CONFIG_FILE}"
        data = self.objects.read_blob(self.tip, path) if self.tip else None
        return parse_config(promptfile.decode_prompt(data, path) if data else "", path)


def read_version(objects: Objects, path: str, row: VersionRow) -> bytes | None:
    """The bytes of version ``row``'s file at ``path`` (``None``: the commit is missing).

    Read as ``<commit>:<path>``, not by the recorded blob id: a record that names a blob
    its commit does not hold is refused, never served.
    """
    found = objects.read_with_id(f"{row.commit}:{path}")
    if found is None:
        return None
    oid, kind, data = found
    if kind != "blob" or oid != row.blob:
        raise Conflict(f"{row.name} version {row.number}: its record names blob {row.blob[:10]} "
                       f"but commit {row.commit[:10]} holds {oid[:10]}; the record is wrong, "
                       "do not trust this version")
    return data


def summarize(objects: Objects, path: str, row: VersionRow) -> tuple[Any, ...]:
    """What the index keeps of a newest version for ``list`` and ``search``: description,
    tags and model config as JSON, template text, and the problem if the file is bad."""
    try:
        content = promptfile.parse_prompt_bytes(read_version(objects, path, row) or b"", path)
    except PromptctlError as exc:
        return (None, "{}", "{}", "", str(exc))
    return (content.description, json.dumps(content.tags),
            json.dumps(content.model_config, default=str), tmpl.template_text(content.template),
            None)
