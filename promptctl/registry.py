"""The registry: prompts as files in Git, versions as commits, aliases as annotated tags.

:class:`Registry` is the whole core API. It returns data (see ``models``) and raises
``PromptctlError`` subclasses; it never prints. The CLI and Python users call the same
methods.

Registry validates what it is given, caches loads and delegates the work: ``versions``
(the index kept current, references and aliases resolved: all a load needs),
``writing`` (committing a version), ``aliases`` (moving aliases, the alias log,
protected aliases), ``pinning`` (lock files), ``push`` (writes that land on ``origin``),
``review`` (prompt changes between two Git refs). All but ``versions`` are imported
when first used.
"""

from __future__ import annotations

import functools
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .errors import InvalidInput, PromptNotFound, RegistryNotFound
from .formats import promptfile
from .formats.promptfile import PromptContent
from .formats.references import (
    PromptRef,
    parse_author,
    parse_ref,
    parse_version_spec,
    validate_alias,
    validate_name,
)
from .gitrepo import GitRepo
from .index import Progress
from .location import CONFIG_FILE, given, is_remote, locate
from .models import (
    AliasInfo,
    AliasMove,
    PromptDiff,
    PromptSummary,
    PromptVersion,
    RegisterResult,
    VersionInfo,
)
from .versions import Versions

# What only some methods need is imported in them: `promptctl load` must not pay for
# writing, aliases, lock files, remotes, reviews or the search filter (STYLE: start-up light).
if TYPE_CHECKING:
    from .aliases import Aliases
    from .formats.config import RegistryConfig
    from .formats.lockfile import Lock, LockDrift
    from .pinning import Pinning
    from .remote import RemoteClone
    from .review import Review

DEFAULT_CACHE_TTL = 60.0
CACHE_SIZE = 1024
_CONFIG_TEXT = "# promptctl registry: prompts live in prompts/<name>.yaml\nversion: 1\n"
_Method = TypeVar("_Method", bound=Callable[..., Any])


def _writes(method: _Method) -> _Method:
    """Mark a write: refused, checked or locked as ``push`` and the registry require.

    A decorator rather than a ``with`` in each body: a remote registry's lock must be held
    across the write, its push and any retry (see ``push.write_scope``).
    """

    @functools.wraps(method)
    def wrapper(self: Registry, *args: Any, **kwargs: Any) -> Any:
        from .push import write_scope

        with write_scope(self.repo, self.remote, bool(kwargs.get("push", False))):
            return method(self, *args, **kwargs)

    return cast(_Method, wrapper)


class Registry:
    """A prompt registry: a folder holding ``promptctl.yaml`` and ``prompts/`` in a Git repo.

    ``Registry()`` finds the registry from ``$PROMPTCTL_REGISTRY`` or the current
    directory; ``Registry(path)`` opens the one at ``path``. ``progress`` is called while
    a long history is indexed for the first time.

    A shallow clone cannot number versions: on first use the Registry fetches its full
    history (``git fetch --unshallow --tags``) from the remote the branch tracks, else
    ``origin``, once, and sets ``deepened_from`` to that remote; when it cannot, reads
    raise ``ShallowHistory`` (a :class:`Conflict`) saying how to fix the clone.

    ``Registry("<git URL>[#folder]")`` opens a remote registry through promptctl's own
    clone in the user's cache, fetched again after ``fetch_ttl_seconds`` (see ``remote``);
    while the remote cannot be reached, ``stale`` is true and ``warnings`` says so. Its
    writes must be pushed (``push=True``).
    """

    def __init__(self, location: str | os.PathLike[str] | None = None, *,
                 progress: Progress | None = None,
                 fetch_ttl_seconds: float | None = None) -> None:
        text = given(location)
        self.remote: RemoteClone | None = None
        if text and is_remote(text):
            from .remote import RemoteClone

            self.remote = RemoteClone(text, fetch_ttl_seconds)
        if self.remote is not None:
            repo: GitRepo | None = self.remote.repo
            self.root = self.remote.repo.root / self.remote.folder
        else:
            self.root = locate(text)
            repo = GitRepo.find(self.root)
        if repo is None:
            raise RegistryNotFound(f"{self.root} (not inside a Git repository)")
        self.repo = repo
        rel = self.root.resolve().relative_to(repo.root.resolve()).as_posix()
        self.prefix = "" if rel == "." else f"{rel}/"
        self._versions = Versions(repo, self.prefix, remote=self.remote, progress=progress)
        self._cache: OrderedDict[tuple[str, Any], tuple[float, PromptVersion]] = OrderedDict()
        if self.remote is not None and not self._on_branch("prompts", CONFIG_FILE):
            self.repo.close()
            raise RegistryNotFound(text or "")

    @property
    def stale(self) -> bool:
        """True while a remote registry cannot be reached and its last fetched state is served."""
        return self.remote is not None and self.remote.stale

    @property
    def deepened_from(self) -> str | None:
        """The remote a shallow clone's full history was fetched from, if this Registry did."""
        return self._versions.deepened_from

    @property
    def warnings(self) -> list[str]:
        """What went wrong on the side and was worked around (an unreachable remote …)."""
        return list(self.remote.warnings) if self.remote is not None else []

    @classmethod
    def init(cls, path: str | os.PathLike[str] = ".", *, author: str | None = None) -> Registry:
        """Make ``path`` a registry (running ``git init`` if needed); safe to run twice."""
        folder = Path(path).resolve()
        repo = GitRepo.find(folder) or GitRepo.init(folder)
        config = folder / CONFIG_FILE
        (folder / "prompts").mkdir(parents=True, exist_ok=True)
        if not config.exists():
            rel = folder.relative_to(repo.root.resolve()).as_posix()
            path_in_repo = CONFIG_FILE if rel == "." else f"{rel}/{CONFIG_FILE}"
            from .writing import commit_file, writable_head

            with repo.write_lock():
                commit_file(repo, writable_head(repo), path_in_repo, _CONFIG_TEXT.encode(),
                            "Initialize promptctl registry", author)
        repo.close()
        return cls(folder)

    def close(self) -> None:
        """Release the Git helper process and the index (reopened on demand)."""
        self._versions.close()
        self.repo.close()

    def __enter__(self) -> Registry:  # noqa: PYI034 - Registry is not meant to be subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def load_prompt(
        self,
        name_or_uri: str,
        version: int | None = None,
        *,
        cache_ttl_seconds: float | None = None,
        lock_file: str | os.PathLike[str] | None = None,
    ) -> PromptVersion:
        """Load one version by reference (``name``, ``name/3``, ``prompts:/name@alias`` …).

        Loads by alias or latest are cached for ``cache_ttl_seconds`` (default 60), loads
        by version for good; ``0`` bypasses the cache.

        With ``lock_file`` (see :meth:`lock`) the reference is resolved through the lock
        file instead: the pinned version is loaded, wherever the alias points now, and its
        content must hash to the pin (else :class:`~promptctl.formats.lockfile.LockMismatch`). A
        reference the file does not pin is an error naming the file. Such loads are
        cached for good, like loads by version (``0`` still bypasses the cache).
        """
        ttl = DEFAULT_CACHE_TTL if cache_ttl_seconds is None else cache_ttl_seconds
        if lock_file is not None:
            return self._load_locked(name_or_uri, version, Path(lock_file), ttl)
        key = (name_or_uri, version)
        if ttl > 0:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        ref = _ref_of(name_or_uri, version)
        prompt = self._load(ref)
        if ttl > 0:
            expires = float("inf") if ref.version is not None else time.monotonic() + ttl
            self._remember(key, expires, prompt)
        return prompt

    def _load(self, ref: PromptRef) -> PromptVersion:
        index = self._versions.index()
        return self._versions.prompt(index, self._versions.row(index, ref))

    def history(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``, oldest first, with the aliases pointing at each."""
        validate_name(name)
        index = self._versions.index()
        rows = index.versions(name)
        if not rows:
            raise PromptNotFound(name)
        by_version: dict[int, list[str]] = {}
        for alias, number in self._versions.aliases(index, name).items():
            by_version.setdefault(number, []).append(alias)
        return [
            VersionInfo(r.name, r.number, r.commit, r.author, r.email, r.timestamp, r.message,
                        tuple(sorted(by_version.get(r.number, ()))))
            for r in rows
        ]

    def list_prompts(self) -> list[PromptSummary]:
        """Every prompt with its newest version and aliases, sorted by name."""
        return self.search_prompts()

    def search_prompts(self, filter_string: str | None = None) -> list[PromptSummary]:
        """Prompts matching a filter (SPEC §6), e.g. ``"tags.team = 'support' AND alias = 'production'"``."""
        from .formats.search_filter import parse_filter

        predicate = parse_filter(filter_string or "")
        index = self._versions.index()
        alias_refs = self._versions.alias_refs_by_name()
        found = []
        for row in index.latest_rows():
            record = _Record(row, alias_refs.get(row.name, {}))
            if predicate(record):
                found.append(PromptSummary(
                    row.name, row.number, row.commit, row.description, row.tags,
                    row.model_config, row.template_text,
                    self._versions.aliases(index, row.name, record.refs), row.problem,
                ))
        return found

    def diff(self, name: str, from_ref: str, to_ref: str) -> PromptDiff:
        """What changed between two versions of ``name`` (each a number, alias or ``latest``)."""
        from .compare import diff_versions

        validate_name(name)
        older = self._load(parse_version_spec(name, from_ref))
        newer = self._load(parse_version_spec(name, to_ref))
        return diff_versions(older, newer)

    def list_aliases(self, name: str | None = None) -> list[AliasInfo]:
        """Every alias (of one prompt, or of all), sorted by prompt and alias."""
        index = self._versions.index()
        names = [validate_name(name)] if name else sorted(self._versions.alias_refs_by_name())
        found = []
        for prompt in names:
            for alias, number in sorted(self._versions.aliases(index, prompt).items()):
                row = index.version(prompt, number)
                found.append(AliasInfo(prompt, alias, number, row.commit if row else ""))
        return found

    # -- lock files (see ``pinning``) ------------------------------------------------------

    def lock(self, refs: Iterable[str]) -> Lock:
        """Pin each reference (``name@production``, ``name``, ``name/3`` …) as it resolves now.

        Each pin holds the version, the commit that made it and the SHA-256 of the prompt
        file at that commit. Writing the file is the caller's (``lockfile.write_lock``).
        """
        return self._pinning.lock(refs)

    def check_lock(self, path: str | os.PathLike[str],
                   refs: Iterable[str] | None = None) -> list[LockDrift]:
        """What differs between the lock file at ``path`` and the registry now.

        Without ``refs`` the file's own references are re-resolved; with them, the
        result says whether ``lock(refs)`` would write anything else (references
        missing from the file, or pinned but not asked for, count too). An empty list
        means the file is current.
        """
        return self._pinning.check(path, refs)

    def _load_locked(self, name_or_uri: str, version: int | None, path: Path,
                     ttl: float) -> PromptVersion:
        ref = _ref_of(name_or_uri, version)
        pin = self._pinning.pin_of(path, ref)
        key = (name_or_uri, pin)  # a pin names one exact content: cached for good
        hit = self._cache.get(key) if ttl > 0 else None
        if hit is not None:
            return hit[1]
        index = self._versions.index()
        prompt = self._versions.prompt(index, self._pinning.pinned_row(index, path, ref, pin))
        if ttl > 0:
            self._remember(key, float("inf"), prompt)
        return prompt

    @functools.cached_property
    def _pinning(self) -> Pinning:
        from .pinning import Pinning

        return Pinning(self._versions)

    # -- writing ---------------------------------------------------------------------------

    @_writes
    def register(self, name: str, content: PromptContent, message: str | None = None,
                 *, author: str | None = None, push: bool = False) -> RegisterResult:
        """Commit ``content`` as the next version of ``name``.

        Identical content creates nothing: the current version comes back with
        ``created=False``. Only the prompt file is committed; the user's other staged and
        unstaged changes stay as they were. ``push=True`` pushes the commit to ``origin``;
        if the remote moved on meanwhile, the commit is re-made on its new tip (numbering
        follows) unless the remote changed this prompt too (a :class:`Conflict`).
        """
        validate_name(name)
        promptfile.validate_content(content, name)
        data = promptfile.dump_prompt(content).encode()
        from .writing import commit_version

        index, row, created = commit_version(self._versions, name, data, message, author=author,
                                             push=push)
        if created:
            self._forget(name)
        return RegisterResult(self._versions.prompt(index, row), created=created)

    def register_prompt(
        self,
        name: str,
        template: Any,
        commit_message: str | None = None,
        model_config: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
        *,
        description: str | None = None,
        response_format: dict[str, Any] | None = None,
        author: str | None = None,
    ) -> PromptVersion:
        """MLflow's ``register_prompt``: commit a new version and return it."""
        content = PromptContent(template, description, dict(model_config or {}), dict(tags or {}),
                                response_format)
        return self.register(name, content, commit_message, author=author).version

    @_writes
    def set_tags(self, name: str, tags: dict[str, str], message: str | None = None,
                 *, author: str | None = None, push: bool = False) -> RegisterResult:
        """Set tags on ``name``: a new version with the tags merged in."""
        current = self._load(PromptRef(validate_name(name)))
        merged = {**current.tags, **tags}
        note = message or "Set tags: " + ", ".join(f"{k}={v}" for k, v in tags.items())
        return self.register(name, _content_of(current, merged), note, author=author, push=push)

    @_writes
    def delete_tags(self, name: str, keys: list[str], message: str | None = None,
                    *, author: str | None = None, push: bool = False) -> RegisterResult:
        """Remove tags from ``name``: a new version without them."""
        current = self._load(PromptRef(validate_name(name)))
        missing = [k for k in keys if k not in current.tags]
        if missing:
            raise InvalidInput(f"prompt {name!r} has no tag {', '.join(missing)}")
        kept = {k: v for k, v in current.tags.items() if k not in keys}
        note = message or "Delete tags: " + ", ".join(keys)
        return self.register(name, _content_of(current, kept), note, author=author, push=push)

    def set_prompt_tag(self, name: str, key: str, value: str) -> PromptVersion:
        """MLflow-style: set one tag (a new version)."""
        return self.set_tags(name, {key: value}).version

    def delete_prompt_tag(self, name: str, key: str) -> PromptVersion:
        """MLflow-style: delete one tag (a new version)."""
        return self.delete_tags(name, [key]).version

    @_writes
    def set_alias(self, name: str, alias: str, version: int, message: str | None = None,
                  *, author: str | None = None, force: bool = False,
                  push: bool = False) -> AliasInfo:
        """Point ``alias`` of ``name`` at ``version`` (an annotated tag; moving it is a promotion).

        The move is recorded in the alias log (:meth:`alias_history`) together with the
        tag. A protected alias may need a reason and a promotion path (``promptctl.yaml``);
        ``force=True`` overrides them in an emergency, needs a reason, and is recorded.
        ``push=True`` moves it on ``origin`` first, with a lease: if the alias moved there
        since it was read, :class:`AliasMovedOnRemote` (a conflict) names both versions,
        nothing is pushed and the local alias is set to the remote's.
        """
        validate_name(name)
        validate_alias(alias)
        who = parse_author(author)
        with self.repo.write_lock():
            index = self._versions.index()
            row = self._versions.row(index, PromptRef(name, version=version))
            lost = self._aliases.move(index, name, alias, row, message, who=who, force=force,
                                      push=push)
        self._forget(name)
        if lost is not None:
            raise self._aliases.lease_lost(name, alias, lost, f"version {version}")
        return AliasInfo(name, alias, version, row.commit)

    def set_prompt_alias(self, name: str, alias: str, version: int) -> None:
        """MLflow's ``set_prompt_alias``."""
        self.set_alias(name, alias, version)

    @_writes
    def delete_alias(self, name: str, alias: str, message: str | None = None,
                     *, author: str | None = None, force: bool = False,
                     push: bool = False) -> None:
        """Remove ``alias`` from ``name``, recording it in the alias log.

        A protected alias is only deleted with ``force=True`` and a reason. ``push=True``
        deletes it on ``origin`` first, with a lease, as :meth:`set_alias`.
        """
        validate_name(name)
        who = parse_author(author)
        with self.repo.write_lock():
            lost = self._aliases.move(self._versions.index(), name, alias, None, message, who=who,
                                      force=force, push=push)
        self._forget(name)
        if lost is not None:
            raise self._aliases.lease_lost(name, alias, lost, "deleted")

    def delete_prompt_alias(self, name: str, alias: str) -> None:
        """MLflow's ``delete_prompt_alias``."""
        self.delete_alias(name, alias)

    # -- alias history and protected aliases (see ``aliases``) ------------------------------

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every recorded move of ``name``'s aliases (or of one alias), oldest first."""
        validate_name(name)
        if alias is not None:
            validate_alias(alias)
        moves = self._aliases.history(name, alias)
        if not moves and not self._versions.index().count(name):
            raise PromptNotFound(name)
        return moves

    def merge_alias_log(self, remote_ref: str, *, author: str | None = None) -> str:
        """Fold a fetched alias log (e.g. ``refs/remotes/origin/promptctl/alias-log``) into ours.

        Returns ``"up to date"``, ``"fast-forward"`` or ``"merged"`` (both had appended:
        a merge commit now joins the two chains). Records are never rewritten or dropped.
        """
        return self._aliases.merge_log(remote_ref, who=parse_author(author))

    def config(self) -> RegistryConfig:
        """The settings of ``promptctl.yaml`` as committed on the current branch.

        The committed file, not the working copy: a protection is changed by a reviewed
        commit, never by an unsaved local edit.
        """
        from .aliases import committed_config

        return committed_config(self.repo, self.prefix)

    @functools.cached_property
    def _aliases(self) -> Aliases:
        from .aliases import Aliases

        return Aliases(self._versions)

    # -- helpers ---------------------------------------------------------------------------

    def _on_branch(self, *names: str) -> bool:
        """True when one of ``names`` (in the registry folder) exists at the branch tip."""
        tip = self.repo.head().commit  # cat-file, not ls-tree: opening stays free of GitPython
        return tip is not None and any(
            self.repo.read_object(f"{tip}:{self.prefix}{n}") is not None for n in names)

    def _remember(self, key: tuple[str, Any], expires: float, prompt: PromptVersion) -> None:
        """Cache a load until ``expires`` (monotonic time), dropping the oldest past ``CACHE_SIZE``."""
        self._cache[key] = (expires, prompt)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _forget(self, name: str) -> None:
        """Drop cached loads of ``name``: an alias moved or a version added in this process."""
        for key in [k for k, (_, prompt) in self._cache.items() if prompt.name == name]:
            del self._cache[key]

    # -- review ----------------------------------------------------------------------------

    def review(self, base: str, head: str | None = None) -> Review:
        """Every prompt added, removed, renamed or changed from Git ref ``base`` to ``head``.

        ``head`` defaults to ``HEAD``; refs are branches, tags or commits. Breaking changes
        (variables added or removed, prompts removed or renamed …) are flagged.
        """
        from .review import review_changes

        return review_changes(self.repo, self.prefix, base, head)


class _Record:
    """What a search predicate reads: a newest-version row plus its alias names."""

    __slots__ = ("aliases", "description", "model_config", "name", "refs", "tags", "template_text")

    def __init__(self, row: Any, aliases: dict[str, Any]) -> None:
        self.refs = aliases
        self.name = row.name
        self.tags = row.tags
        self.model_config = row.model_config
        self.template_text = row.template_text
        self.description = row.description
        self.aliases = aliases.keys()


def _ref_of(name_or_uri: str, version: int | None) -> PromptRef:
    """The reference ``name_or_uri`` makes, its version replaced by ``version`` if given."""
    ref = parse_ref(name_or_uri)
    return ref if version is None else PromptRef(ref.name, version=version)


def _content_of(version: PromptVersion, tags: dict[str, str]) -> PromptContent:
    return PromptContent(version.template, version.description, version.model_config, tags,
                         version.response_format)
