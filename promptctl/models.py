"""The values the registry returns: frozen dataclasses, derived values as properties."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .formats import template as tmpl
from .formats.promptfile import PromptContent
from .formats.references import URI_SCHEME


@dataclass(frozen=True)
class PromptVersion:
    """One version of a prompt, as MLflow's ``PromptVersion`` (same attribute names).

    ``version`` counts the commits on the registry branch's line (its first-parent line,
    except through a ``git pull`` merge: see :func:`promptctl.index.line_parent`) that
    changed the prompt file; ``commit_message`` is that commit's message.
    """

    name: str
    version: int
    template: tmpl.Template
    commit: str
    commit_message: str
    author: str
    timestamp: int
    description: str | None = None
    model_config: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    response_format: dict[str, Any] | None = None
    aliases: tuple[str, ...] = ()
    stale: bool = False
    """True when loaded from a remote registry that could not be reached: last fetched state."""

    @property
    def is_chat(self) -> bool:
        """True when the template is a list of chat messages."""
        return not isinstance(self.template, str)

    @property
    def content(self) -> PromptContent:
        """Everything the version's prompt file holds, as one value."""
        return PromptContent(self.template, self.description, self.model_config, self.tags,
                             self.response_format)

    def unused(self, names: Iterable[str]) -> tuple[str, ...]:
        """The names among ``names`` that no variable uses (``user`` counts for ``user.name``):
        values given for them would be ignored, a typo more often than not."""
        return tuple(name for name in names if not any(
            v == name or v.startswith(name + ".") for v in self.variables))

    @property
    def variables(self) -> tuple[str, ...]:
        """The variable names the template uses, in order of first use."""
        return tmpl.find_variables(self.template)

    @property
    def uri(self) -> str:
        """``prompts:/name/N``: a reference to exactly this version."""
        return f"{URI_SCHEME}{self.name}/{self.version}"

    @property
    def date(self) -> datetime:
        """The commit's date (UTC)."""
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc)

    # MLflow's names for what a commit already says: pure derivations.

    @property
    def creation_timestamp(self) -> int:
        """MLflow's ``creation_timestamp``: the commit's date, in milliseconds since the epoch."""
        return self.timestamp * 1000

    @property
    def last_updated_timestamp(self) -> int:
        """MLflow's ``last_updated_timestamp``: ``creation_timestamp`` (a version never changes)."""
        return self.creation_timestamp

    @property
    def user_id(self) -> str:
        """MLflow's ``user_id``: the commit's author name."""
        return self.author

    @property
    def prompt_type(self) -> str:
        """``"chat"`` for a list of chat messages, else ``"text"`` (MLflow's two types)."""
        return "chat" if self.is_chat else "text"

    @property
    def is_text_prompt(self) -> bool:
        """MLflow's ``is_text_prompt``: ``not is_chat``."""
        return not self.is_chat

    @property
    def template_text(self) -> str:
        """The template as one text (chat messages joined), for search and display."""
        return tmpl.template_text(self.template)

    def format(self, allow_partial: bool = False, **values: Any) -> Any:
        """Fill the template's variables.

        Returns the text (or the list of chat messages). With ``allow_partial=True`` the
        variables without a value stay as they are and a new :class:`PromptVersion` is
        returned, so it can be formatted again later.
        """
        filled = tmpl.format_template(self.template, values, allow_partial=allow_partial)
        if allow_partial:
            return dataclasses.replace(self, template=filled)
        return filled

    def to_single_brace_format(self) -> tmpl.Template:
        """The template with ``{name}`` placeholders, for ``str.format``-style libraries."""
        return tmpl.to_single_brace(self.template)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the shape ``--json`` prints)."""
        return {
            "name": self.name,
            "version": self.version,
            "uri": self.uri,
            "commit": self.commit,
            "commit_message": self.commit_message,
            "author": self.author,
            "date": self.date.isoformat(),
            "aliases": list(self.aliases),
            "description": self.description,
            "model_config": self.model_config,
            "tags": self.tags,
            "response_format": self.response_format,
            "is_chat": self.is_chat,
            "variables": list(self.variables),
            "template": self.template,
            "stale": self.stale,
        }


@dataclass(frozen=True)
class RegisterResult:
    """What ``register`` did: the version now current, and whether it is new.

    ``provisional`` is true for a version made off the registry branch: its number is
    settled when it lands there. ``pushed`` is true when it was pushed to ``origin``.
    """

    version: PromptVersion
    created: bool
    provisional: bool = False
    pushed: bool = False
    changed: tuple[str, ...] = ()
    """What differs from the version before: ``template``, ``model_config.<key>`` …"""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "name": self.version.name,
            "version": self.version.version,
            "commit": self.version.commit,
            "created": self.created,
            "provisional": self.provisional,
            "pushed": self.pushed,
            "changed": list(self.changed),
        }


@dataclass(frozen=True)
class VersionInfo:
    """One line of a prompt's history."""

    name: str
    version: int
    commit: str
    author: str
    email: str
    timestamp: int
    message: str
    aliases: tuple[str, ...] = ()

    @property
    def date(self) -> datetime:
        """The commit's date (UTC)."""
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "name": self.name,
            "version": self.version,
            "commit": self.commit,
            "author": self.author,
            "email": self.email,
            "date": self.date.isoformat(),
            "message": self.message,
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class PromptSummary:
    """A prompt as ``list`` and ``search`` show it: its newest version and its aliases.

    ``aliases`` maps each alias to the version it points at. ``problem`` is set when
    the newest file does not parse (it is still listed, so ``check`` can be run on it).
    """

    name: str
    latest_version: int
    commit: str
    description: str | None
    tags: dict[str, str]
    model_config: dict[str, Any]
    template_text: str
    alias_versions: dict[str, int] = field(default_factory=dict)
    problem: str | None = None

    @property
    def aliases(self) -> tuple[str, ...]:
        """The alias names (what a search filter's ``alias = …`` looks at)."""
        return tuple(sorted(self.alias_versions))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "name": self.name,
            "latest_version": self.latest_version,
            "commit": self.commit,
            "description": self.description,
            "tags": self.tags,
            "model_config": self.model_config,
            "aliases": self.alias_versions,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class AliasInfo:
    """An alias and the version it points to; ``version`` ``None`` with ``problem`` saying
    why when the tag resolves to no version on this branch."""

    name: str
    alias: str
    version: int | None
    commit: str
    problem: str | None = None
    unchanged: bool = False
    """After ``set_alias``: the alias already pointed there (with ``push``, on ``origin``
    too), so nothing was recorded."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"name": self.name, "alias": self.alias, "version": self.version,
                "commit": self.commit, "problem": self.problem}


@dataclass(frozen=True)
class PromptDiff:
    """What changed between two versions of one prompt."""

    name: str
    from_version: int
    to_version: int
    template_diff: tuple[str, ...]
    model_config_changes: dict[str, tuple[Any, Any]]
    tag_changes: dict[str, tuple[str | None, str | None]]
    description_change: tuple[str | None, str | None] | None
    variables_added: tuple[str, ...]
    variables_removed: tuple[str, ...]
    breaking: tuple[str, ...] = ()
    """One reason per way code that loads and formats the older version can now fail or
    silently lose text: variables added or removed, text turned into chat or back."""

    @property
    def is_empty(self) -> bool:
        """True when the two versions hold the same content."""
        return not (
            self.template_diff or self.model_config_changes or self.tag_changes
            or self.description_change
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "name": self.name,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "template_diff": list(self.template_diff),
            "model_config": {k: {"from": a, "to": b}
                             for k, (a, b) in self.model_config_changes.items()},
            "tags": {k: {"from": a, "to": b} for k, (a, b) in self.tag_changes.items()},
            "description": (
                {"from": self.description_change[0], "to": self.description_change[1]}
                if self.description_change else None
            ),
            "variables_added": list(self.variables_added),
            "variables_removed": list(self.variables_removed),
            "breaking": list(self.breaking),
        }


@dataclass(frozen=True)
class AliasMove:
    """One move of an alias, as the alias log records it.

    ``from_*`` is ``None`` when the alias was created, ``to_*`` when it was deleted.
    ``author``/``email``/``timestamp`` say who moved it and when; ``reason`` is the
    ``-m`` given (``None`` without one); ``forced`` is true when ``--force`` overrode a
    protected alias's rules. ``record`` is the alias-log commit holding this move.
    """

    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    from_commit: str | None
    to_commit: str | None
    author: str
    email: str
    timestamp: int
    reason: str | None
    forced: bool
    record: str

    @property
    def action(self) -> str:
        """``set`` (the alias appeared), ``move`` or ``delete``."""
        if self.from_commit is None:
            return "set"
        return "delete" if self.to_commit is None else "move"

    @property
    def date(self) -> datetime:
        """When the alias was moved (UTC)."""
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "name": self.name,
            "alias": self.alias,
            "action": self.action,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "from_commit": self.from_commit,
            "to_commit": self.to_commit,
            "author": self.author,
            "email": self.email,
            "date": self.date.isoformat(),
            "reason": self.reason,
            "forced": self.forced,
            "record": self.record,
        }


@dataclass(frozen=True)
class AliasChange:
    """An alias that a sync found moved on the remote: ``None`` for absent / unresolved."""

    name: str
    alias: str
    from_version: int | None
    to_version: int | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"name": self.name, "alias": self.alias, "from_version": self.from_version,
                "to_version": self.to_version}


@dataclass(frozen=True)
class SyncResult:
    """What ``sync`` did: the aliases that moved, how the alias logs were joined
    (``up to date``, ``fast-forward``, ``merged`` or ``none``), and what it pushed."""

    moved: tuple[AliasChange, ...]
    alias_log: str
    pushed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"moved": [m.to_dict() for m in self.moved], "alias_log": self.alias_log,
                "pushed": list(self.pushed)}
