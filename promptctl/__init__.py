"""promptctl: a Git repository as your LLM prompt registry.

Prompts are YAML files, versions are commits, aliases are annotated tags. The names
mirror MLflow's Prompt Registry so that moving over is an import change::

    import promptctl
    reg = promptctl.Registry("path/to/registry")
    prompt = reg.load_prompt("prompts:/summarize@production")
    prompt.format(ticket="...", num_sentences=3)
"""

from __future__ import annotations

# Every public name is imported on first use (``__getattr__`` below), so ``import
# promptctl`` costs nothing, and the cold ``promptctl load`` (``coldload``) pays only for
# what it uses. Type checkers read the imports below.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .default import (
        default_registry,
        delete_prompt_alias,
        load_prompt,
        register_prompt,
        search_prompts,
        set_prompt_alias,
    )
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
    from .formats.lockfile import Lock, LockDrift, LockedPrompt
    from .formats.promptfile import PromptContent
    from .models import AliasMove, PromptSummary, PromptVersion, VersionInfo
    from .registry import Registry

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
    "default_registry",
    "delete_prompt_alias",
    "load_prompt",
    "register_prompt",
    "search_prompts",
    "set_prompt_alias",
]

# The module each public name comes from.
_HOMES = {
    **dict.fromkeys(("AliasNotFound", "Conflict", "InvalidConfig", "InvalidInput",
                     "InvalidPromptFile", "NotFound", "PromptctlError", "PromptNotFound",
                     "ProtectedAlias", "VersionNotFound"), "errors"),
    **dict.fromkeys(("Lock", "LockDrift", "LockedPrompt"), "formats.lockfile"),
    "PromptContent": "formats.promptfile",
    **dict.fromkeys(("AliasMove", "PromptSummary", "PromptVersion", "VersionInfo"), "models"),
    "Registry": "registry",
    **dict.fromkeys(("default_registry", "delete_prompt_alias", "load_prompt",
                     "register_prompt", "search_prompts", "set_prompt_alias"), "default"),
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once: the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
