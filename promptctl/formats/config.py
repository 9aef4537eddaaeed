"""``promptctl.yaml``: the registry's settings, parsed and validated once per content.

The file sits at the registry root and is YAML (safe loader only)::

    version: 1
    protected_aliases:
      production:
        require_reason: true    # a move needs -m (the default for a protected alias)
        promote_from: staging   # only to a version `staging` holds or has held

Top-level keys this module does not know are left alone, so a newer promptctl can add
settings without breaking an older one. Inside a protected alias every key is checked:
a typo such as ``require_reasn`` must not quietly switch a protection off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from ..errors import InvalidConfig, InvalidInput
from . import plainyaml
from .bounded import shown_key
from .references import validate_alias

CONFIG_VERSION = 1


@dataclass(frozen=True)
class AliasPolicy:
    """The rules for moving one protected alias."""

    require_reason: bool = True
    promote_from: str | None = None


@dataclass(frozen=True)
class RegistryConfig:
    """What ``promptctl.yaml`` says; an empty or missing file gives the defaults."""

    version: int = CONFIG_VERSION
    protected_aliases: Mapping[str, AliasPolicy] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def policy(self, alias: str) -> AliasPolicy | None:
        """The rules for ``alias``, or ``None`` when it is not protected."""
        return self.protected_aliases.get(alias)


@lru_cache(maxsize=16)
def parse_config(text: str, source: str = "promptctl.yaml") -> RegistryConfig:
    """Parse and validate the text of ``promptctl.yaml``; errors name ``source`` and the key."""
    # Bounded like a prompt file (size, values, depth), and duplicate keys are refused:
    # a second `production:` must not quietly replace the first one's rules. The plain
    # form (`version: 1`, what `init` writes) is read without importing YAML.
    data = plainyaml.load(text, source, InvalidConfig)
    if data is None:
        return RegistryConfig()
    if not isinstance(data, dict):
        raise InvalidConfig(source, None, "must be a mapping of settings")
    version = data.get("version", CONFIG_VERSION)
    if isinstance(version, bool) or version != CONFIG_VERSION:
        raise InvalidConfig(source, "version", f"must be {CONFIG_VERSION}, got {_shown(version)}")
    protected = data.get("protected_aliases") or {}
    if not isinstance(protected, dict):
        raise InvalidConfig(source, "protected_aliases", "must map alias names to their rules")
    policies: dict[str, AliasPolicy] = {}
    for name, rules in protected.items():
        alias = str(name)
        key = shown_key(f"protected_aliases.{alias}") or ""  # a key may hold a line break
        _check_alias(alias, source, key)
        if alias in policies:  # `1:` and `"1":` both name the alias "1"
            raise InvalidConfig(source, key, "names the alias twice")
        policies[alias] = policy = _policy(rules, source, key)
        if policy.promote_from == alias:
            raise InvalidConfig(source, f"{key}.promote_from",
                                "an alias cannot be promoted from itself")
    return RegistryConfig(CONFIG_VERSION, MappingProxyType(policies))


def _policy(rules: Any, source: str, key: str) -> AliasPolicy:
    if rules is None:  # `production:` alone protects it with the defaults
        return AliasPolicy()
    if not isinstance(rules, dict):
        raise InvalidConfig(source, key, "must be a mapping (require_reason, promote_from)")
    unknown = sorted(str(k) for k in rules if k not in ("require_reason", "promote_from"))
    if unknown:
        raise InvalidConfig(source, shown_key(f"{key}.{unknown[0]}"),
                            "unknown setting (known: require_reason, promote_from)")
    require_reason = rules.get("require_reason", True)
    if not isinstance(require_reason, bool):
        raise InvalidConfig(source, f"{key}.require_reason",
                            f"must be true or false, got {_shown(require_reason)}")
    promote_from = rules.get("promote_from")
    if promote_from is not None:
        if not isinstance(promote_from, str):
            raise InvalidConfig(source, f"{key}.promote_from",
                                f"must be an alias name, got {_shown(promote_from)}")
        _check_alias(promote_from, source, f"{key}.promote_from")
    return AliasPolicy(require_reason, promote_from)


def _check_alias(alias: str, source: str, key: str) -> None:
    try:
        validate_alias(alias)
    except InvalidInput as exc:
        raise InvalidConfig(source, key, str(exc)) from exc


def _shown(value: Any) -> str:
    """A wrong value as an error shows it: its repr, cut short (it may be a large mapping)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
