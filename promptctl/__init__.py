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
from typing import TYPE_CHECKING, Any

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
    "load_prompt",
]

_default: Registry | None = None


def __getattr__(name: str) -> Any:
    # Lock-file types are imported when first asked for: `promptctl load` never needs them.
    if name in ("Lock", "LockDrift", "LockedPrompt"):
        from . import lockfile

        return getattr(lockfile, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_prompt(name_or_uri: str, version: int | None = None, *,
                cache_ttl_seconds: float | None = None,
                lock_file: str | os.PathLike[str] | None = None) -> PromptVersion:
    """Load a prompt from the default registry (``$PROMPTCTL_REGISTRY`` or the current one)."""
    global _default
    if _default is None:
        _default = Registry()
    return _default.load_prompt(name_or_uri, version, cache_ttl_seconds=cache_ttl_seconds,
                                lock_file=lock_file)

