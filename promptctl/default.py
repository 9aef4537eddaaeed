"""MLflow's module-level functions (``mlflow.genai.*``), on a default registry.

``promptctl.load_prompt(…)`` and its siblings act on the registry ``$PROMPTCTL_REGISTRY``
names, else the one containing the current directory, opened on first use and kept.
"""

from __future__ import annotations

import os
from typing import Any, Literal, overload

from .models import PromptSummary, PromptVersion
from .registry import Registry

_default: Registry | None = None


def default_registry() -> Registry:
    """The registry the module-level functions use: ``$PROMPTCTL_REGISTRY``, else the one
    containing the current directory (opened on first use, then kept)."""
    global _default
    if _default is None:
        _default = Registry()
    return _default


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
