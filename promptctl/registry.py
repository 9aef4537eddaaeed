"""The registry: prompts as files in Git, versions as commits, aliases as annotated tags.

:class:`Registry` is the whole core API. It validates what it is given, caches loads,
and delegates: every read takes one :class:`~.snapshot.Snapshot` (the branch tip, its
version index, its alias refs); every write goes through one path, :meth:`Registry._writing`,
which takes the write mutex, reads what it will change inside it and hands a
:class:`~.writing.Writer` to ``writing`` (versions), ``aliases`` (alias moves) or
``push``. ``pinning`` resolves lock files, ``review`` compares two Git refs. What only
writes, reviews or lock files need is imported when first used: ``promptctl load`` does
not pay for it.

The library never prints; it returns data (``models``) and raises ``PromptctlError``
subclasses. One ``Registry`` may be shared by threads: its calls take turns.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from .errors import (
    Conflict,
    GitError,
    InvalidInput,
    NotFound,
    PromptctlError,
    RegistryNotFound,
    ShallowHistory,
)
from .formats import promptfile
from .formats.promptfile import PromptContent
from .formats.references import (
    PromptRef,
    alias_ref,
    parse_author,
    parse_ref,
    parse_version_spec,
    validate_alias,
    validate_message,
    validate_name,
)
from .git import Repo, files
from .index import Finding, Progress, VersionIndex
from .location import CONFIG_FILE, folder_prefix, given, is_remote, locate
from .models import (
    AliasInfo,
    AliasMove,
    PromptDiff,
    PromptSummary,
    PromptVersion,
    RegisterResult,
    SyncResult,
    VersionInfo,
)
from .snapshot import AliasGroups, Snapshot, summarize

if TYPE_CHECKING:
    from .formats.config import RegistryConfig
    from .formats.lockfile import Lock, LockDrift
    from .formats.update import PromptUpdate
    from .index import VersionRow
    from .models import AliasChange
    from .mutex import WriteMutex
    from .pinning import Pinning
    from .remote import RemoteClone
    from .review import Review
    from .writing import Writer

DEFAULT_CACHE_TTL = 60.0
CACHE_SIZE = 1024
_CONFIG_TEXT = "# promptctl registry: prompts live in prompts/<name>.yaml\nversion: 1\n"


class Registry:
    """A prompt registry: a folder holding ``promptctl.yaml`` and ``prompts/`` in a Git repo.

    ``Registry()`` finds the registry from ``$PROMPTCTL_REGISTRY`` or the current
    directory; ``Registry(path)`` opens the one at ``path``; ``Registry("<git URL>[#folder]")``
    a remote registry through promptctl's own clone in the user's cache, fetched again
    after ``fetch_ttl_seconds`` (see ``remote``; while the remote cannot be reached,
    ``stale`` is true and ``warnings`` says so; its writes must be pushed). ``progress``
    is called while a long history is indexed for the first time.

    A shallow clone cannot number versions: on first use the Registry fetches its full
    history from the remote the branch tracks (else ``origin``), once, and sets
    ``deepened_from``; when it cannot, reads raise ``ShallowHistory`` saying how to fix it.

    In a clone with an ``origin``, the Registry once configures ``git fetch`` to bring
    moved aliases and the alias log (``git.files.FETCH_REFSPECS``), and says so in ``notes``.

    ``keep_loads``: keep each load's result for the next process's cold load (see
    ``coldload``); the command line's ``load`` does.
    """

    def __init__(self, location: str | os.PathLike[str] | None = None, *,
                 progress: Progress | None = None,
                 fetch_ttl_seconds: float | None = None, keep_loads: bool = False) -> None:
        text = given(location)
        self.remote: RemoteClone | None = None
        repo: Repo | None
        if text and is_remote(text):
            from .remote import RemoteClone

            self.remote = RemoteClone(text, fetch_ttl_seconds)
            repo = self.remote.repo
            self.root = repo.root / self.remote.folder
        else:
            self.root = Path(locate(text))
            repo = Repo.find(self.root)
        if repo is None:
            raise RegistryNotFound(f"{self.root} (not inside a Git repository)")
        self.repo = repo
        self.prefix = _prefix(self.root, repo)
        self.notes: list[str] = []
        self.deepened_from: str | None = None
        self._progress = progress
        self._keep_loads = keep_loads
        self._lock = threading.RLock()
        self._index: VersionIndex | None = None
        self._index_branch: str | None = None
        self._memo: tuple[str | None, dict[tuple[str, str], VersionRow | None],
                          dict[tuple[str, str], int | None]] = (None, {}, {})
        self._alias_groups = AliasGroups()
        self._cache: OrderedDict[tuple[Any, ...], tuple[float, PromptVersion]] = OrderedDict()
        self._deepen_failure: str | None = None
        self._warned: set[str] = set()
        self._warnings: list[str] = []
        self._pinning: Pinning | None = None
        self._mutex: WriteMutex | None = None
        self._journal = repo.git_dir / "promptctl" / "landing.json"  # see journal
        if self.remote is not None and not self._on_branch("prompts", CONFIG_FILE):
            self.repo.close()
            raise RegistryNotFound(text or "")
        if self.remote is None and not repo.bare:
            self._configure_fetch()

    @property
    def stale(self) -> bool:
        """True while a remote registry cannot be reached and its last fetched state is served."""
        return self.remote is not None and self.remote.stale

    @property
    def warnings(self) -> list[str]:
        """What went wrong on the side and was worked around, or should be looked at: an
        unreachable remote, a version number whose meaning a rewrite of history changed."""
        remote = list(self.remote.warnings) if self.remote is not None else []
        return remote + self._warnings

    @classmethod
    def init(cls, path: str | os.PathLike[str] = ".", *, author: str | None = None) -> Registry:
        """Make ``path`` a registry (running ``git init`` if needed); safe to run twice."""
        folder = Path(path).resolve()
        found = Repo.find(folder)
        if found is not None:
            _prefix(folder, found)  # a folder Git cannot name is refused before it is made
        try:
            repo = found or Repo.init(folder)
            (folder / "prompts").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(f"cannot make a registry at {folder}: "
                               f"{exc.strerror or exc}") from exc
        repo.close()
        registry = cls(folder)
        if not (folder / CONFIG_FILE).exists():
            with registry._writing(author, push=False) as writer:
                from .writing import build_commit, land

                path_in_repo = f"{registry.prefix}{CONFIG_FILE}"
                made = build_commit(writer, writer.snapshot.tip, path_in_repo,
                                    _CONFIG_TEXT.encode(), "Initialize promptctl registry")
                assert writer.snapshot.head.ref is not None
                land(registry.repo, writer.snapshot.head.ref, made,
                     "promptctl: initialize registry")
        return registry

    def close(self) -> None:
        """Release the Git helper process and the index (reopened on demand)."""
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None
            self.repo.close()

    def __enter__(self) -> Registry:  # noqa: PYI034 - Registry is not meant to be subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    @overload
    def load_prompt(self, name_or_uri: str, version: int | str | None = None,
                    allow_missing: Literal[False] = False, cache_ttl_seconds: float | None = None,
                    *, lock_file: str | os.PathLike[str] | None = None) -> PromptVersion: ...
    @overload
    def load_prompt(self, name_or_uri: str, version: int | str | None = None,
                    allow_missing: bool = False, cache_ttl_seconds: float | None = None,
                    *, lock_file: str | os.PathLike[str] | None = None) -> PromptVersion | None: ...
    def load_prompt(
        self,
        name_or_uri: str,
        version: int | str | None = None,
        allow_missing: bool = False,
        cache_ttl_seconds: float | None = None,
        *,
        lock_file: str | os.PathLike[str] | None = None,
    ) -> PromptVersion | None:
        """Load one version by reference (``name``, ``name/3``, ``prompts:/name@alias`` …).

        ``version`` picks a version of a plain name (``load_prompt("greet", 2)``); with a
        reference that names one already it is an error. ``allow_missing=True`` returns
        ``None`` for a prompt, version or alias that does not exist. Loads by alias or
        latest are cached for ``cache_ttl_seconds`` (default 60), loads by version for
        good; ``0`` bypasses the cache.

        With ``lock_file`` (see :meth:`lock`) the reference is resolved through the lock
        file instead: the pinned version is loaded, wherever the alias points now, and its
        content must hash to the pin (else ``LockMismatch``).
        """
        try:
            return self._load(name_or_uri, version, cache_ttl_seconds, lock_file)
        except NotFound:
            if allow_missing:
                return None
            raise

    def history(self, name: str) -> list[VersionInfo]:
        """Every version of ``name``, by number, with the aliases pointing at each."""
        validate_name(name)
        with self._lock:
            snapshot = self._snapshot()
            rows = snapshot.index.history_rows(name)
            if not rows:
                raise snapshot.not_found(name)
            by_version: dict[int, list[str]] = {}
            for alias, number in snapshot.aliases(name).items():
                by_version.setdefault(number, []).append(alias)
            aliases = {number: tuple(sorted(names)) for number, names in by_version.items()}
            return [VersionInfo(*row, aliases.get(row[1], ())) for row in rows]

    def list_prompts(self) -> list[PromptSummary]:
        """Every prompt with its newest version and aliases, sorted by name (committed
        files under names promptctl refuses are named in ``warnings``)."""
        found = self._search(None)
        with self._lock:
            refused = self._snapshot().index.refused()
        if refused:
            self._warnings.append(
                f"not listed, committed under names promptctl refuses: "
                f"{', '.join(path for path, _ in refused)} (rename them with 'git mv'; "
                "'promptctl check' says why)")
        return found

    def search_prompts(self, filter_string: str | None = None, max_results: int | None = None,
                       order_by: list[str] | None = None) -> list[PromptSummary]:
        """Prompts matching a filter, e.g. ``"tags.team = 'support' AND alias = 'production'"``.

        ``order_by`` takes ``"name"`` or ``"latest_version"``, each optionally followed by
        ``ASC`` or ``DESC`` (default: by name); ``max_results`` keeps the first so many.
        """
        found = self._search(filter_string)
        for key in reversed(order_by or []):
            field, _, direction = key.strip().partition(" ")
            attribute = {"name": "name", "latest_version": "latest_version",
                         "version": "latest_version"}.get(field)
            if attribute is None or direction.strip().upper() not in ("", "ASC", "DESC"):
                raise InvalidInput(f"cannot order by {key!r}: use 'name' or 'latest_version', "
                                   "optionally followed by ASC or DESC")
            found.sort(key=lambda s: getattr(s, attribute),
                       reverse=direction.strip().upper() == "DESC")
        if max_results is not None:
            if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
                raise InvalidInput(f"max_results must be a whole number of 1 or more, "
                                   f"got {max_results!r}")
            found = found[:max_results]
        return found

    def diff(self, name: str, from_ref: str, to_ref: str) -> PromptDiff:
        """What changed between two versions of ``name`` (each a number, alias or ``latest``)."""
        from .compare import diff_versions

        validate_name(name)
        with self._lock:
            snapshot = self._snapshot()
            older = snapshot.prompt(snapshot.row(parse_version_spec(name, from_ref)))
            newer = snapshot.prompt(snapshot.row(parse_version_spec(name, to_ref)))
        return diff_versions(older, newer)

    def list_aliases(self, name: str | None = None) -> list[AliasInfo]:
        """Every alias tag (of one prompt, or of all), sorted by prompt and alias, each with
        its version, or with why it has none."""
        with self._lock:
            snapshot = self._snapshot()
            grouped = snapshot.alias_refs_by_name()
            names = [validate_name(name)] if name else sorted(grouped)
            if name and name not in grouped and not snapshot.index.count(name):
                raise snapshot.not_found(name)
            self._note_unrecorded(snapshot, name)
            return [
                AliasInfo(prompt, state.alias, state.row.number if state.row else None,
                          state.row.commit if state.row else (state.commit or ""), state.problem)
                for prompt in names for state in snapshot.alias_states(prompt)
            ]

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every recorded move of ``name``'s aliases (or of one alias), oldest first."""
        from .aliases import alias_history

        validate_name(name)
        if alias is not None:
            validate_alias(alias)
        with self._lock:
            moves = alias_history(self.repo, name, alias)
            if not moves:
                snapshot = self._snapshot()
                if not snapshot.index.count(name):
                    raise snapshot.not_found(name)
                if alias is not None and alias not in snapshot.alias_refs_by_name().get(name, {}):
                    from .errors import AliasNotFound

                    raise AliasNotFound(name, alias, snapshot.aliases(name))
            self._note_unrecorded(self._snapshot(), name, alias)
            return moves

    def findings(self) -> list[Finding]:
        """What ``promptctl check`` reports about the history itself: numbers whose meaning
        a rewrite of history or a merge changed, records that lost a clash, aliases moved
        without their alias-log record (``unrecorded``) and a register a kill left half
        done (``interrupted``)."""
        from .aliases import unrecorded_moves

        with self._lock:
            snapshot = self._snapshot()
            found = snapshot.index.findings()
            found += [Finding("unrecorded", u.name, u.actual[1] or 0, u.detail)
                      for u in unrecorded_moves(self.repo, snapshot)]
            found += [Finding("refused", path, 0, f"{path} is committed under a name "
                              f"promptctl refuses ({reason}), so it is no prompt: rename it")
                      for path, reason in snapshot.index.refused()]
            if os.path.lexists(self._journal) and not self.repo.bare:
                from . import journal

                landing = journal.read(self.repo.git_dir)
                if landing is None or not journal.running(landing.pid):
                    path = landing.path if landing else "a prompt file"
                    found.append(Finding("interrupted", path, 0,
                                         f"a register of {path} was interrupted before it "
                                         "completed (run 'promptctl check --fix')"))
            return found

    def fix(self, *, author: str | None = None) -> list[str]:
        """Repair what :meth:`findings` can: put back an interrupted register, append the
        missing record of every alias moved without one. Returns what was done."""
        from .aliases import record_unrecorded

        before = len(self.notes)
        with self._writing(author, push=False) as writer:
            recorded = record_unrecorded(writer)
        done = self.notes[before:]
        del self.notes[before:]
        return done + [f"recorded {u.name}@{u.alias} in the alias log" for u in recorded]

    def config(self) -> RegistryConfig:
        """The settings of ``promptctl.yaml`` as committed on the current branch."""
        with self._lock:
            return self._snapshot().config()

    def review(self, base: str, head: str | None = None, *, exact: bool = False) -> Review:
        """Every prompt added, removed, renamed or changed on ``head`` (default ``HEAD``)
        since it branched from Git ref ``base`` (``exact``: since ``base``'s tip itself)."""
        from .review import review

        with self._lock:
            return review(self.repo, self.prefix, base, head, exact=exact)

    # -- lock files (see ``pinning``) ------------------------------------------------------

    def lock(self, refs: Iterable[str]) -> Lock:
        """Pin each reference (``name@production``, ``name``, ``name/3`` …) as it resolves now.

        Each pin holds the version, the commit that made it and the SHA-256 of the prompt
        file at that commit. Writing the file is the caller's (``formats.lockfile.write_lock``).
        """
        with self._lock:
            return self._pins().lock(self._snapshot(), refs)

    def check_lock(self, path: str | os.PathLike[str],
                   refs: Iterable[str] | None = None) -> list[LockDrift]:
        """What differs between the lock file at ``path`` and the registry now (an empty
        list: the file is current). With ``refs``, whether ``lock(refs)`` would write
        anything else."""
        with self._lock:
            return self._pins().check(self._snapshot(), path, refs)

    # -- writing: every write goes through _writing ---------------------------------------

    def register(self, name: str, content: PromptContent | PromptUpdate,
                 message: str | None = None, *, author: str | None = None,
                 push: bool = False) -> RegisterResult:
        """Commit ``content`` as the next version of ``name``.

        A :class:`PromptContent` is the whole next version; a :class:`PromptUpdate` (a
        template and the settings it changes) is applied to the newest version, read
        inside the write, so everything it does not name carries over. Identical
        content creates nothing: the current version comes back with ``created=False``
        (and, with ``push``, a version committed earlier whose push failed is pushed
        now). Only the prompt file is committed; the user's other staged and unstaged
        changes stay as they were. ``push=True`` pushes to ``origin``; if the remote
        moved on meanwhile, the commit is re-made on its new tip
        unless the remote changed this prompt too (a :class:`Conflict`).
        """
        return self._register(name, content, message, author, push, changes=True)

    def _register(self, name: str, content: PromptContent | PromptUpdate,
                  message: str | None, author: str | None, push: bool, *,
                  changes: bool) -> RegisterResult:
        """:meth:`register`; ``changes=False`` leaves ``changed`` empty, so that content
        given whole does not have the newest version parsed only to compare it."""
        validate_name(name)
        validate_message(message)
        if isinstance(content, PromptContent):
            promptfile.validate_content(content, name)  # before any lock: bad input fails fast
        with self._writing(author, push) as writer:
            return self._commit(writer, name, content, message, push, changes=changes)

    def set_tags(self, name: str, tags: dict[str, str], message: str | None = None,
                 *, author: str | None = None, push: bool = False) -> RegisterResult:
        """Set tags on ``name``: a new version with the tags merged in."""
        validate_name(name)
        validate_message(message)
        note = message or "Set tags: " + ", ".join(f"{k}={v}" for k, v in tags.items())
        with self._writing(author, push) as writer:
            current = self._newest(writer, name)
            return self._commit(writer, name, _with_tags(current, {**current.tags, **tags}),
                                note, push)

    def delete_tags(self, name: str, keys: list[str], message: str | None = None,
                    *, author: str | None = None, push: bool = False) -> RegisterResult:
        """Remove tags from ``name``: a new version without them."""
        validate_name(name)
        validate_message(message)
        note = message or "Delete tags: " + ", ".join(keys)
        with self._writing(author, push) as writer:
            current = self._newest(writer, name)
            missing = [k for k in keys if k not in current.tags]
            if missing:
                raise InvalidInput(f"prompt {name!r} has no tag {', '.join(missing)}")
            kept = {k: v for k, v in current.tags.items() if k not in keys}
            return self._commit(writer, name, _with_tags(current, kept), note, push)

    def set_alias(self, name: str, alias: str, version: int, message: str | None = None,
                  *, author: str | None = None, force: bool = False,
                  push: bool = False) -> AliasInfo:
        """Point ``alias`` of ``name`` at ``version`` (an annotated tag; moving it is a promotion).

        The move is recorded in the alias log (:meth:`alias_history`) together with the
        tag. A protected alias may need a reason and a promotion path (``promptctl.yaml``);
        ``force=True`` overrides them in an emergency, needs a reason, and is recorded.
        ``push=True`` moves it on ``origin`` first, with a lease: if the alias moved there
        since it was read, :class:`~promptctl.errors.AliasMovedOnRemote` (a conflict)
        names both versions, nothing is pushed and the local alias is set to the remote's.
        The alias is ``unchanged`` when it points at ``version`` already: with ``push``,
        on ``origin`` too (a local tag already there is otherwise pushed as it is).
        """
        validate_name(name)
        validate_alias(alias)
        validate_message(message)
        from .aliases import Move, held_on_remote

        with self._writing(author, push) as writer:
            if not push:
                self.repo.ref_updates.warm()  # the move's transaction runs there
            row = writer.snapshot.row(PromptRef(name, version=version))
            held = next((s.row for s in writer.snapshot.alias_states(name) if s.alias == alias),
                        None)
            if held is not None and held.number == row.number and held.blob == row.blob and (
                    not push or held_on_remote(self.repo, writer.snapshot, name, alias, row)):
                # Already there: recording (and pushing) a "v5 -> v5" move says nothing. With
                # push, the local tag is only what was last read: origin's may have moved on
                # (a rollback to it must meet the lease), or never had it (set here only).
                return AliasInfo(name, alias, version, held.commit, unchanged=True)
            self._move(writer, Move(name, alias, row, message, force), push,
                       f"version {version}")
        return AliasInfo(name, alias, version, row.commit)

    def delete_alias(self, name: str, alias: str, message: str | None = None,
                     *, author: str | None = None, force: bool = False,
                     push: bool = False) -> None:
        """Remove ``alias`` from ``name``, recording it in the alias log.

        A protected alias is only deleted with ``force=True`` and a reason. ``push=True``
        deletes it on ``origin`` first, with a lease, as :meth:`set_alias`.
        """
        validate_name(name)
        validate_alias(alias)
        validate_message(message)
        from .aliases import Move

        with self._writing(author, push) as writer:
            self._move(writer, Move(name, alias, None, message, force), push, "deleted")

    def merge_alias_log(self, remote_ref: str, *, author: str | None = None) -> str:
        """Fold a fetched alias log (e.g. ``refs/remotes/origin/promptctl/alias-log``) into ours.

        Returns ``"up to date"``, ``"fast-forward"`` or ``"merged"`` (both had appended:
        a merge commit now joins the two chains). Records are never rewritten or dropped.
        """
        from .aliases import merge_alias_log

        with self._writing(author, push=False) as writer:
            return merge_alias_log(self.repo, remote_ref, writer.author)

    def sync(self, *, push: bool = False) -> SyncResult:
        """Bring aliases and the alias log from ``origin`` and say which aliases moved.

        Moved alias tags are force-updated (plain ``git fetch`` keeps a moved tag where it
        was) and the remote's alias log is merged into ours. With ``push``, what is local
        only goes out too: the branch's unpushed versions (a ``--push`` that failed) and
        the alias log. A remote registry is fetched now, whatever its TTL.
        """
        from .formats.aliaslog import ALIAS_LOG_REF
        from .remote import REMOTE, REMOTE_LOG, tracking_ref

        if self.remote is not None:
            with self._lock:
                before = self._alias_versions(self._snapshot())
                self.remote.sync(force=True)
                after = self._alias_versions(self._snapshot())
            return SyncResult(_changes(before, after), "merged into the cache")
        with self._writing(None, push=False) as writer:
            if self.repo.remotes.url(REMOTE) is None:
                raise InvalidInput(f"sync needs a Git remote named {REMOTE!r} "
                                   f"(git remote add {REMOTE} URL)")
            branch = writer.snapshot.head.ref
            before = self._alias_versions(writer.snapshot)
            specs = [*files.FETCH_REFSPECS]
            if branch is not None:
                specs.append(f"+{branch}:{tracking_ref(branch)}")
            self.repo.remotes.fetch(REMOTE, specs)
            log = "none"
            if self.repo.refs.resolve(REMOTE_LOG) is not None:
                log = self.repo.records.merge(ALIAS_LOG_REF, REMOTE_LOG, author=writer.author)
            self._cache.clear()
            after = self._alias_versions(self._snapshot(self.repo.refs.head()))
            pushed: list[str] = []
            if push and branch is not None:
                if self.repo.refs.resolve(branch) != self.repo.refs.resolve(tracking_ref(branch)):
                    from .push import push_branch

                    push_branch(self.repo, branch, None, None, None)
                    pushed.append(branch)
                local_log = self.repo.refs.resolve(ALIAS_LOG_REF)
                if local_log is not None and local_log != self.repo.refs.resolve(REMOTE_LOG):
                    from .push import push_refs

                    push_refs(self.repo, [f"{local_log}:{ALIAS_LOG_REF}"])
                    pushed.append(ALIAS_LOG_REF)
        return SyncResult(_changes(before, after), log, tuple(pushed))

    def check_push(self, local: str, remote: str | None, branch: str | None = None) -> str | None:
        """Why pushing commit ``local`` to ``branch`` (default: the current one) over
        the remote's ``remote`` would renumber versions (``None``: it would not).

        The remote's tip must stay on the line versions are numbered along: a merge that
        puts local commits first is refused unless it carries git's own message for
        pulling the branch (``git pull``, ``git merge origin/main``), along whose second
        parent the remote's numbers stay as they were; so is a rewrite. Only the registry
        branch is judged: another branch holds drafts, whose numbers are not settled (a
        pull-request branch rebased and force-pushed is ordinary work). The pre-push hook
        calls this.
        """
        from .push import line_problem

        with self._lock:
            current = self.repo.refs.head().ref
            branch = branch or current
            if branch is None or branch != _registry_branch(self.repo, current):
                return None
            return line_problem(self.repo, branch, local, remote)

    # -- MLflow's names: each delegates to a native method above ---------------------------

    def register_prompt(
        self,
        name: str,
        template: Any,
        commit_message: str | None = None,
        tags: dict[str, str] | None = None,
        response_format: dict[str, Any] | None = None,
        model_config: dict[str, Any] | None = None,
        *,
        description: str | None = None,
        author: str | None = None,
    ) -> PromptVersion:
        """MLflow's ``register_prompt`` (same parameters, same order): a new version, returned."""
        content = PromptContent(template, description, dict(model_config or {}), dict(tags or {}),
                                response_format)
        return self._register(name, content, commit_message, author, False,
                              changes=False).version

    def set_prompt_alias(self, name: str, alias: str, version: int) -> None:
        """MLflow's ``set_prompt_alias``: :meth:`set_alias`."""
        self.set_alias(name, alias, version)

    def delete_prompt_alias(self, name: str, alias: str) -> None:
        """MLflow's ``delete_prompt_alias``: :meth:`delete_alias`."""
        self.delete_alias(name, alias)

    def set_prompt_tag(self, name: str, key: str, value: str) -> PromptVersion:
        """MLflow's ``set_prompt_tag``: :meth:`set_tags` (tags live in the file: a new version)."""
        return self.set_tags(name, {key: value}).version

    def delete_prompt_tag(self, name: str, key: str) -> PromptVersion:
        """MLflow's ``delete_prompt_tag``: :meth:`delete_tags` (a new version)."""
        return self.delete_tags(name, [key]).version

    # -- the one write path ----------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self, author: str | None, push: bool) -> Iterator[Writer]:
        """Every write: checked, serialized and read inside the write mutex.

        A remote registry's writes must be pushed and hold its clone's lock (fetched
        first) across the write, its push and any retry; a local one's push needs an
        ``origin``. Re-entrant: a write made of writes reads once.
        """
        from .writing import Writer, writable_head

        who = parse_author(author)
        self.repo.identity.prefetch(who)  # git works out who writes while we read
        if self.remote is None:
            if push:
                from .remote import REMOTE  # (a write that does not push does without it)
            if push and self.repo.remotes.url(REMOTE) is None:
                raise InvalidInput(f"--push needs a Git remote named {REMOTE!r} "
                                   f"(git remote add {REMOTE} URL)")
            scope: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        else:
            if not push:
                raise InvalidInput(f"{self.remote.url} is a remote registry: "
                                   "a write must be pushed (--push, push=True)")
            scope = self.remote.writing()
        with self._lock, scope, self._write_mutex().hold(), self.repo.identity.steady():
            self._recover()
            head = writable_head(self.repo)
            snapshot = self._snapshot(head)
            yield Writer(self.repo, snapshot, who, _registry_branch(self.repo, head.ref))
            self.repo.keep_packed(lambda: self.repo.identity.profile(who).config)

    def _commit(self, writer: Writer, name: str, content: PromptContent | PromptUpdate,
                message: str | None, push: bool, *, changes: bool = True) -> RegisterResult:
        """Commit ``content`` as ``name``'s next version inside a write (see ``writing``);
        ``changes``: say what changed from the newest version."""
        from .formats.update import PromptUpdate, changed_fields
        from .git.objects import blob_id
        from .writing import build_version, land, refuse_edits, user_copy

        snapshot, repo = writer.snapshot, self.repo
        branch = snapshot.head.ref
        assert branch is not None
        path = snapshot.index.path_of(name)
        current = snapshot.index.newest(name)
        copy = None
        if not repo.bare:
            with contextlib.suppress(PromptctlError):  # refuse_edits reads it again, and says
                copy = user_copy(repo, path)
        committed = None
        if current is not None and snapshot.tip is not None and (
                repo.objects.file_id(snapshot.tip, path) == current.blob):
            # The tip holds the newest version's blob, as it does unless the file was
            # changed or removed since: its bytes are the user's unedited copy, or else
            # read by id (no tree walk in git: the trees are read here anyway, for the
            # next commit's).
            if copy is not None and copy.data is not None and blob_id(copy.data) == current.blob:
                committed = copy.data
            else:
                found = repo.objects.read(current.blob)
                committed = found[1] if found is not None and found[0] == "blob" else None
        if current is not None and committed is None:
            committed = snapshot.read_file(current)
        before = None
        if current is not None and committed is not None and (
                changes or isinstance(content, PromptUpdate)):
            before = promptfile.parse_prompt_bytes(committed,
                                                   f"{path} (version {current.number})")
        if isinstance(content, PromptUpdate):
            content = content.apply(before)
        data, written = promptfile.encode_prompt_read_back(content, name)
        if current is not None and committed == data:
            if push:
                self._push_pending(branch)
            return RegisterResult(snapshot.prompt(current), created=False)
        copy = refuse_edits(repo, path, data, (committed, current.blob)
                            if current is not None and committed is not None else None, copy)
        note = message or (f"Update {name}" if current else f"Create {name}")
        number = snapshot.index.count(name) + 1
        made = build_version(writer, snapshot.tip, path, name, number, data, note)
        land(repo, branch, made, f"promptctl: {note.splitlines()[0]}", copy)
        if made.parent is not None:
            snapshot.index.refresh(made.commit, made=(made.commit, made.parent))
        self._forget(name)
        landed = made.commit
        if push:
            from .push import push_branch

            landed = push_branch(
                repo, branch, made,
                lambda tip: build_version(writer, tip, path, name, number, data, note),
                self._refetch())
        fresh = self._snapshot(repo.refs.head())
        row = fresh.index.newest(name)
        assert row is not None and row.commit == landed
        return RegisterResult(fresh.version(row, written), created=True,
                              provisional=not writer.final, pushed=push,
                              changed=changed_fields(before, content) if changes else ())

    @staticmethod
    def _alias_versions(snapshot: Snapshot) -> dict[tuple[str, str], int | None]:
        """Every alias tag and the version it resolves to (``None``: none here)."""
        return {(name, state.alias): state.row.number if state.row else None
                for name in snapshot.alias_refs_by_name()
                for state in snapshot.alias_states(name)}

    def _newest(self, writer: Writer, name: str) -> PromptVersion:
        """The newest version of ``name``, read inside the write."""
        return writer.snapshot.prompt(writer.snapshot.row(PromptRef(name)))

    def _move(self, writer: Writer, move: Any, push: bool, ours: str) -> None:
        """Move an alias inside a write; a lost lease becomes the conflict that says so."""
        from .aliases import after_lease_lost, move_alias

        lost = move_alias(writer, move, push=push)
        self._forget(move.name)
        if lost is not None:
            if self.remote is not None:
                self.remote.sync(force=True)
                raise after_lease_lost(self.repo, self._snapshot(), move.name, move.alias,
                                       lost, ours) from None
            raise after_lease_lost(self.repo, writer.snapshot, move.name, move.alias, lost,
                                   ours) from None

    def _push_pending(self, branch: str) -> None:
        """Push ``branch`` when it holds commits ``origin`` lacks (a push that failed before)."""
        from .push import push_branch
        from .remote import tracking_ref

        tip = self.repo.refs.resolve(branch)
        if tip is not None and tip != self.repo.refs.resolve(tracking_ref(branch)):
            push_branch(self.repo, branch, None, None, self._refetch())

    def _refetch(self) -> Callable[[], None] | None:
        """How a lost push race refreshes what it knows of ``origin``: a remote registry's
        clone is fetched whole; a local registry fetches the branch alone (``push``)."""
        return None if self.remote is None else functools.partial(self.remote.sync, force=True)

    def _recover(self) -> None:
        """Inside the write mutex: put back what a killed write left half done (a register
        between its file and its branch, an alias move between its tag and its record)."""
        if not self.repo.bare and os.path.lexists(self._journal):
            from .writing import recover

            note = recover(self.repo)
            if note:
                self.notes.append(note)
        if os.path.lexists(self._journal.with_name("alias-move.json")):
            from .aliases import recover_move

            note = recover_move(self.repo)
            if note:
                self.notes.append(note)

    def _write_mutex(self) -> WriteMutex:
        if self._mutex is None:
            from .mutex import WriteMutex

            self._mutex = WriteMutex(self.repo.common_dir)
        return self._mutex

    # -- snapshots -------------------------------------------------------------------------

    def _snapshot(self, head: Any = None) -> Snapshot:
        """The registry as the branch has it now: its index brought up to the tip.

        Without ``head``, HEAD now, a remote registry fetched first if its TTL ran out
        (never in the middle of a write: see ``RemoteClone.writing``).
        """
        if head is None:
            if self.remote is not None:
                self.remote.sync()
            head = self.repo.refs.head()
            if "landing" not in self._warned and os.path.lexists(self._journal):
                self._note_interrupted()  # one stat when there is none
        if self._index is None or self._index_branch != head.ref:
            if self._index is not None:
                self._index.close()
            objects = self.repo.objects
            self._index = VersionIndex(
                self.repo, self.prefix, head.ref,
                lambda row: summarize(objects, f"{self.prefix}prompts/{row.name}.yaml", row))
            self._index_branch = head.ref
        index = self._index
        try:
            index.refresh(head.commit, self._progress)
        except ShallowHistory:
            self._deepen()
            index.refresh(head.commit, self._progress)
        if self._memo[0] != head.commit:
            self._memo = (head.commit, {}, {})
        return Snapshot(self.repo.refs, self.repo.objects, index, head, prefix=self.prefix,
                        memo=self._memo[1], numbers=self._memo[2], groups=self._alias_groups,
                        remote_url=self.remote.url if self.remote is not None else None,
                        stale=self.stale)

    def _deepen(self) -> None:
        """Fetch a shallow clone's full history, or raise :class:`ShallowHistory` saying why
        not. Tried once: an unreachable remote is not asked again on every load."""
        if self._deepen_failure is None:
            try:
                self.deepened_from = self.repo.history.unshallow()
                return
            except GitError as exc:
                self._deepen_failure = exc.detail
        raise ShallowHistory(self._deepen_failure)

    def _load(self, name_or_uri: str, version: int | str | None, cache_ttl_seconds: float | None,
              lock_file: str | os.PathLike[str] | None) -> PromptVersion:
        ttl = DEFAULT_CACHE_TTL if cache_ttl_seconds is None else cache_ttl_seconds
        key: tuple[Any, ...] = (name_or_uri, version)
        if ttl > 0 and lock_file is None:
            # Before parsing the reference: only a valid one was ever cached, and a
            # cached load is the call an application makes most.
            hit = self._cache.get(key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        ref = _ref_of(name_or_uri, version)
        if lock_file is not None:
            return self._load_locked(ref, Path(lock_file), ttl)
        with self._lock:
            snapshot = self._snapshot()
            prompt = snapshot.prompt(snapshot.row(ref))
            self._note_findings(snapshot, ref.name)
            if self._keep_loads and version is None:
                self._keep(snapshot, name_or_uri, ref, prompt)
        if ttl > 0:
            expires = float("inf") if ref.version is not None else time.monotonic() + ttl
            self._remember(key, expires, prompt)
        return prompt

    def _keep(self, snapshot: Snapshot, reference: str, ref: PromptRef,
              prompt: PromptVersion) -> None:
        """Keep a load for the next process (``coldload``), with the state the snapshot
        read it at; not one that warned (the cold load would not) or came from a URL."""
        if self.remote is not None or self._warnings:
            return
        from . import coldload

        tag = alias_ref(ref.name, ref.alias) if ref.alias is not None else None
        target = snapshot.alias_tag(ref.name, ref.alias) if ref.alias is not None else None
        coldload.keep(str(self.repo.git_dir), str(self.repo.common_dir), str(self.root), reference,
                      [snapshot.head.ref, snapshot.head.commit, target], tag, prompt.template)

    def _load_locked(self, ref: PromptRef, path: Path, ttl: float) -> PromptVersion:
        with self._lock:
            pins = self._pins()
            pin = pins.pin_of(path, ref)
            key = (str(ref), pin)  # a pin names one exact content: cached for good
            hit = self._cache.get(key) if ttl > 0 else None
            if hit is not None:
                return hit[1]
            snapshot = self._snapshot()
            prompt = snapshot.prompt(pins.pinned_row(snapshot, path, ref, pin))
        if ttl > 0:
            self._remember(key, float("inf"), prompt)
        return prompt

    def _search(self, filter_string: str | None) -> list[PromptSummary]:
        from .formats.search_filter import parse_filter, reads_aliases

        predicate = parse_filter(filter_string or "")
        with self._lock:
            snapshot = self._snapshot()
            rows = snapshot.index.latest_rows()
            if reads_aliases(filter_string or ""):
                alias_refs = snapshot.alias_refs_by_name()
                matched = [row for row in rows
                           if predicate(_Record(row, alias_refs.get(row.name, {})))]
            else:  # a row has every other field a filter reads
                matched = [row for row in rows if predicate(cast(Any, row))]
            aliases = snapshot.aliases_of((row.name for row in matched),
                                          {(row.name, row.commit): row.number for row in matched})
            return [PromptSummary(row.name, row.number, row.commit, row.description, row.tags,
                                  row.model_config, row.template_text,
                                  aliases.get(row.name, {}), row.problem)
                    for row in matched]

    def _pins(self) -> Pinning:
        if self._pinning is None:
            from .pinning import Pinning

            self._pinning = Pinning()
        return self._pinning

    # -- helpers ---------------------------------------------------------------------------

    def _note_unrecorded(self, snapshot: Snapshot, name: str | None,
                         alias: str | None = None) -> None:
        """Warn about aliases (of ``name``) that moved without their alias-log record."""
        from .aliases import unrecorded_moves

        for item in unrecorded_moves(self.repo, snapshot, name):
            if alias in (None, item.alias) and item.detail not in self._warnings:
                self._warnings.append(item.detail)

    def _note_interrupted(self) -> None:
        """Warn once that a killed register left its landing journal (not while the
        process writing it still runs: that register is just not done yet)."""
        from . import journal

        landing = journal.read(self.repo.git_dir)
        if landing is not None and journal.running(landing.pid):
            return
        self._warned.add("landing")
        what = landing.path if landing is not None else "a prompt file"
        self._warnings.append(f"a register of {what} was interrupted before it completed; "
                              "the next promptctl write (or 'promptctl check --fix') puts "
                              "it back")

    def _note_findings(self, snapshot: Snapshot, name: str) -> None:
        """Say once per process when a loaded prompt's numbers changed meaning (a claim
        that lost a clash changed none: ``check`` notes it, a load says nothing)."""
        if name in self._warned:
            return
        self._warned.add(name)
        for finding in snapshot.index.findings(name):
            if finding.failing:
                self._warnings.append(finding.detail)

    def _configure_fetch(self) -> None:
        """Once per clone: make plain ``git fetch`` bring moved aliases and the alias log."""
        if not files.fetch_unconfigured(str(self.repo.common_dir)):
            return
        try:
            for spec in files.FETCH_REFSPECS:
                self.repo.runner.run("config", "--add", "remote.origin.fetch", spec)
        except (GitError, Conflict):
            return  # a read-only clone: reads work, plain fetches just stay as they were
        self.notes.append("configured origin so that 'git fetch' and 'git pull' bring moved "
                          "aliases and the alias log (remote.origin.fetch)")

    def _on_branch(self, *names: str) -> bool:
        """True when one of ``names`` (in the registry folder) exists at the branch tip."""
        tip = self.repo.refs.head().commit
        return tip is not None and any(
            self.repo.objects.read(f"{tip}:{self.prefix}{n}") is not None for n in names)

    def _remember(self, key: tuple[Any, ...], expires: float, prompt: PromptVersion) -> None:
        """Cache a load until ``expires`` (monotonic time); past ``CACHE_SIZE``, the oldest go."""
        with self._lock:
            self._cache[key] = (expires, prompt)
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _forget(self, name: str) -> None:
        """Drop cached loads of ``name``: an alias moved or a version added in this process."""
        with self._lock:
            for key in [k for k, (_, prompt) in self._cache.items() if prompt.name == name]:
                del self._cache[key]


class _Record:
    """What a search predicate reads: a newest-version row plus its alias names."""

    __slots__ = ("aliases", "description", "model_config", "name", "tags", "template_text")

    def __init__(self, row: Any, aliases: dict[str, Any]) -> None:
        self.name = row.name
        self.tags = row.tags
        self.model_config = row.model_config
        self.template_text = row.template_text
        self.description = row.description
        self.aliases = aliases.keys()


def _ref_of(name_or_uri: str, version: int | str | None) -> PromptRef:
    """The reference ``name_or_uri`` makes, at ``version`` when it is a plain name."""
    ref = parse_ref(name_or_uri)
    if version is None:
        return ref
    if not ref.is_latest or "@" in name_or_uri:
        raise InvalidInput(f"give the version in the reference or as version=, not both: "
                           f"{name_or_uri!r} already names one")
    number = int(version) if isinstance(version, int) or str(version).isdigit() else None
    if number is None or isinstance(version, bool) or number < 1:
        raise InvalidInput(f"version must be a whole number of 1 or more, got {version!r}")
    return PromptRef(ref.name, version=number)


def _changes(before: dict[tuple[str, str], int | None],
             after: dict[tuple[str, str], int | None]) -> tuple[AliasChange, ...]:
    from .models import AliasChange

    return tuple(AliasChange(name, alias, before.get((name, alias)), after.get((name, alias)))
                 for name, alias in sorted(set(before) | set(after))
                 if before.get((name, alias), -1) != after.get((name, alias), -1))


def _with_tags(version: PromptVersion, tags: dict[str, str]) -> PromptContent:
    return PromptContent(version.template, version.description, version.model_config, tags,
                         version.response_format)


def _prefix(root: Path, repo: Repo) -> str:
    """Where the registry at ``root`` sits in ``repo`` (``""`` or ``"a/b/"``): every prompt's
    path in Git starts with it, so it must be UTF-8 text, as the rest of those paths."""
    prefix = folder_prefix(str(root.resolve()), str(repo.root.resolve()))
    try:
        prefix.encode()
    except UnicodeEncodeError as exc:
        repo.close()
        raise InvalidInput(f"the registry folder {prefix.rstrip('/')!r} is not UTF-8 text, "
                           "which prompt paths in Git must be: rename it") from exc
    return prefix


def _registry_branch(repo: Repo, current: str | None) -> str | None:
    """The branch whose versions are final: ``origin``'s default branch, else ``main`` or
    ``master`` when one exists, else ``None`` (whichever branch one writes to)."""
    default = repo.refs.symbolic("refs/remotes/origin/HEAD")
    if default is not None:
        return "refs/heads/" + default.removeprefix("refs/remotes/origin/")
    for name in ("refs/heads/main", "refs/heads/master"):
        if current == name or repo.refs.resolve(name) is not None:
            return name
    return None
