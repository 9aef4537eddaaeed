"""promptctl: a Git repository as your LLM prompt registry.

Prompts are YAML files, versions are commits, aliases are annotated tags. The names
mirror MLflow's Prompt Registry so that moving over is an import change::

    import promptctl
    reg = promptctl.Registry("path/to/registry")
    prompt = reg.load_prompt("prompts:/summarize@production")
    prompt.format(ticket="...", num_sentences=3)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal, overload

from .errors import (
    AliasNotFound,
    Conflict,
    InvalidConfig,
    InvalidInput,
    InvalidPromptFile,
    NotFound,
    PromptctlError,
    PromptNotFound,
    ProtectedAlias,
    VersionNotFound,
)
from .formats.promptfile import PromptContent
from .models import AliasMove, PromptSummary, PromptVersion, VersionInfo
from .registry import Registry

if TYPE_CHECKING:
    from .formats.lockfile import Lock, LockDrift, LockedPrompt

__version__ = "0.1.0"

__all__ = [
    "AliasMove",
    "AliasNotFound",
    "Conflict",
    "InvalidConfig",
    "InvalidInput",
    "InvalidPromptFile",
    "Lock",
    "LockDrift",
    "LockedPrompt",
    "NotFound",
    "PromptContent",
    "PromptNotFound",
    "PromptSummary",
    "PromptVersion",
    "PromptctlError",
    "ProtectedAlias",
    "Registry",
    "VersionInfo",
    "VersionNotFound",
    "delete_prompt_alias",
    "load_prompt",
    "register_prompt",
    "search_prompts",
    "set_prompt_alias",
]

_default: Registry | None = None


def __getattr__(name: str) -> Any:
    # Lock-file types are imported when first asked for: `promptctl load` never needs them.
    if name in ("Lock", "LockDrift", "LockedPrompt"):
        from .formats import lockfile

        return getattr(lockfile, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_registry() -> Registry:
    """The registry the module-level functions use: ``$PROMPTCTL_REGISTRY``, else the one
    containing the current directory (opened on first use, then kept)."""
    global _default
    if _default is None:
        _default = Registry()
    return _default


# MLflow's module-level functions (``mlflow.genai.*``), on the default registry.


def register_prompt(name: str, template: Any, commit_message: str | None = None,
                    tags: dict[str, str] | None = None,
                    response_format: dict[str, Any] | None = None,
                    model_config: dict[str, Any] | None = None) -> PromptVersion:
    """Register a new version on the default registry (see :meth:`Registry.register_prompt`)."""
    return default_registry().register_prompt(name, template, commit_message, tags,
                                              response_format, model_config)


@overload
def load_prompt(name_or_uri: str, version: int | str | None = None,
                allow_missing: Literal[False] = False, cache_ttl_seconds: float | None = None,
                *, lock_file: str | os.PathLike[str] | None = None) -> PromptVersion: ...
@overload
def load_prompt(name_or_uri: str, version: int | str | None = None, allow_missing: bool = False,
                cache_ttl_seconds: float | None = None,
                *, lock_file: str | os.PathLike[str] | None = None) -> PromptVersion | None: ...
def load_prompt(name_or_uri: str, version: int | str | None = None, allow_missing: bool = False,
                cache_ttl_seconds: float | None = None,
                *, lock_file: str | os.PathLike[str] | None = None) -> PromptVersion | None:
    """Load a prompt from the default registry (see :meth:`Registry.load_prompt`)."""
    return default_registry().load_prompt(name_or_uri, version, allow_missing, cache_ttl_seconds,
                                          lock_file=lock_file)


def search_prompts(filter_string: str | None = None, max_results: int | None = None,
                   order_by: list[str] | None = None) -> list[PromptSummary]:
    """Search the default registry (see :meth:`Registry.search_prompts`)."""
    return default_registry().search_prompts(filter_string, max_results, order_by)


def set_prompt_alias(name: str, alias: str, version: int) -> None:
    """Point an alias on the default registry (see :meth:`Registry.set_alias`)."""
    default_registry().set_prompt_alias(name, alias, version)


def delete_prompt_alias(name: str, alias: str) -> None:
    """Delete an alias on the default registry (see :meth:`Registry.delete_alias`)."""
    default_registry().delete_prompt_alias(name, alias)
