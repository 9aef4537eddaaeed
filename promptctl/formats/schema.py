"""What a prompt file's keys may hold: the schema checks of a file once it is read.

Apart from :mod:`.promptfile` (which reads a file into a ``PromptContent``, a dataclass)
so that a file in the plain form (:mod:`.plainyaml`) can be checked without importing
YAML or ``dataclasses``: the first cold ``promptctl load`` (``promptctl.coldload``) does.
"""

from __future__ import annotations

import math
import sys

TYPE_CHECKING = False  # typing itself costs a cold load ~2 ms
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, TypeAlias

    _Problems: TypeAlias = Iterator[tuple[str | None, str]]

MODEL_CONFIG_FIELDS: tuple[str, ...] = (
    "provider",
    "model_name",
    "temperature",
    "max_tokens",
    "top_p",
    "top_k",
    "frequency_penalty",
    "presence_penalty",
    "stop_sequences",
)
"""The model settings MLflow knows; any other ``model_config`` key is kept as an extra."""

TOP_LEVEL_KEYS: tuple[str, ...] = (
    "description",
    "model_config",
    "tags",
    "response_format",
    "template",
)
"""The keys a prompt file may have, in the order :func:`.promptdump.dump_prompt` writes them."""


def problems(data: Any, slips: bool = False) -> _Problems:
    """Yield ``(key, problem)`` for everything wrong with a loaded file, in file order.

    ``slips`` adds the checks of new content only (see ``promptfile.find_problems``).
    """
    if data is None:
        yield None, "the file is empty; a prompt needs at least a 'template:' key"
        return
    if not isinstance(data, dict):
        yield None, f"must be a mapping of keys such as 'template:', got {_kind(data)}"
        return
    for key, value in data.items():
        check = _CHECKS.get(key) if isinstance(key, str) else None
        if check is None:
            yield str(key), _unknown_key(key)
        elif value is not None or key == "template":  # an empty optional key is absent
            yield from check(value, slips)
    if "template" not in data:
        yield "template", "missing; every prompt needs a template"


def _unknown_key(key: Any) -> str:
    import difflib  # only for a file with a mistake: a load of a good one does not pay for it

    problem = "unknown key; allowed keys are " + ", ".join(TOP_LEVEL_KEYS)
    close = difflib.get_close_matches(str(key), TOP_LEVEL_KEYS, n=1)
    return problem + (f" (did you mean '{close[0]}'?)" if close else "")


def _check_description(value: Any, slips: bool) -> _Problems:
    if not isinstance(value, str):
        yield "description", f"must be text, got {_kind(value)}"


def _check_model_config(value: Any, slips: bool) -> _Problems:
    if not isinstance(value, dict):
        yield (
            "model_config",
            f"must be a mapping of settings such as 'temperature: 0.2', got {_kind(value)}",
        )
        return
    for name, setting in value.items():
        if not isinstance(name, str):
            yield "model_config", f"setting name {name!r} must be text"
            continue
        key = f"model_config.{name}"
        if name == "temperature":
            if not (_is_number(setting) and setting >= 0):
                yield key, f"must be a number >= 0, got {_kind(setting)}"
        elif name == "top_p":
            if not (_is_number(setting) and 0 <= setting <= 1):
                yield key, f"must be a number from 0 to 1, got {_kind(setting)}"
        elif name in ("top_k", "max_tokens"):
            if not (isinstance(setting, int) and not isinstance(setting, bool) and setting > 0):
                yield key, f"must be a positive integer, got {_kind(setting)}"
        elif name in ("frequency_penalty", "presence_penalty"):
            if not _is_number(setting):
                yield key, f"must be a number, got {_kind(setting)}"
        elif name == "stop_sequences":
            if not isinstance(setting, list):
                yield key, f"must be a list of text, got {_kind(setting)}"
                continue
            for i, stop in enumerate(setting):
                if not isinstance(stop, str):
                    yield f"{key}[{i}]", f"must be text, got {_kind(stop)}"
        elif name in ("provider", "model_name"):
            if not isinstance(setting, str):
                # `model_name: 1106` reads as a number, as an unquoted tag value would.
                hint = "; put it in quotes to keep it as text" if _is_scalar(setting) else ""
                yield key, f"must be text, got {_kind(setting)}{hint}"
        else:
            if slips and (known := _close_setting(name)):
                yield key, (f"unknown setting; did you mean '{known}'? (a key this close to "
                            "a known setting is taken for a typo; other keys are kept as extras)")
                continue
            yield from _check_data(setting, key)


def _check_tags(value: Any, slips: bool) -> _Problems:
    if not isinstance(value, dict):
        yield "tags", f"must be a mapping of names to text values, got {_kind(value)}"
        return
    for name, tag in value.items():
        if not isinstance(name, str):
            yield "tags", f"tag name {name!r} must be text"
        elif not isinstance(tag, str):
            # No coercion: `version: 1.10` would silently become "1.1".
            hint = "; put it in quotes to keep it as text" if _is_scalar(tag) else ""
            yield f"tags.{name}", f"must be text, got {_kind(tag)}{hint}"


def _check_response_format(value: Any, slips: bool) -> _Problems:
    if not isinstance(value, dict):
        yield "response_format", f"must be a mapping (a JSON Schema), got {_kind(value)}"
        return
    yield from _check_data(value, "response_format")


def _check_template(value: Any, slips: bool) -> _Problems:
    if isinstance(value, str):
        if not value.strip():
            yield "template", "is empty" if not value else "is only whitespace"
    elif isinstance(value, list):
        if not value:
            yield "template", "is an empty list; a chat template needs at least one message"
        for i, message in enumerate(value):
            yield from _check_message(message, f"template[{i}]", slips)
    elif value is None:
        yield "template", "is empty"
    else:
        yield "template", f"must be text or a list of chat messages, got {_kind(value)}"


def _check_message(message: Any, key: str, slips: bool) -> _Problems:
    if not isinstance(message, dict):
        yield key, f"must be a mapping with 'role' and 'content', got {_kind(message)}"
        return
    if "role" not in message:
        yield f"{key}.role", "missing; every message needs a role such as 'system' or 'user'"
    elif not isinstance(message["role"], str):
        yield (
            f"{key}.role",
            f"must be text such as 'system' or 'user', got {_kind(message['role'])}",
        )
    elif not message["role"].strip():
        yield f"{key}.role", "is empty"
    elif slips and message["role"] not in CHAT_ROLES:
        yield f"{key}.role", _unknown_role(message["role"])
    if "content" not in message:
        yield f"{key}.content", "missing; every message needs content"
    elif not isinstance(message["content"], str):
        yield f"{key}.content", f"must be text, got {_kind(message['content'])}"
    for name, value in message.items():
        if name not in ("role", "content"):  # other keys (`name`, …) travel untouched
            yield from _check_data(value, f"{key}.{name}")


CHAT_ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool", "developer", "function")
"""The roles a chat message may have when it is written or checked (OpenAI's, MLflow's)."""

# Other tools' words for the same roles (LangChain's "human" and "ai", Gemini's "model").
_ROLE_SYNONYMS = {"human": "user", "ai": "assistant", "model": "assistant", "bot": "assistant"}


def _unknown_role(role: str) -> str:
    import difflib

    close = _ROLE_SYNONYMS.get(role.lower()) or next(
        iter(difflib.get_close_matches(role.lower(), CHAT_ROLES, n=1, cutoff=0.6)), None
    )
    problem = f"unknown role {role!r}"
    if close:
        return f"{problem}; did you mean '{close}'?"
    return problem + " (use one of " + ", ".join(CHAT_ROLES) + ")"


def _close_setting(name: str) -> str | None:
    """The known setting ``name`` is probably a misspelling of, or ``None``.

    Names are compared ignoring case, ``_`` and ``-`` (so ``maxTokens`` and ``top-p``
    are caught), then by edit distance: one edit for short names, two from eight
    characters on. Short extras (``seed``, ``n``, OpenRouter's ``top_a``) stay extras.
    """
    folded = _fold(name)
    best: str | None = None
    for known in MODEL_CONFIG_FIELDS:
        target = _fold(known)
        if folded == target:
            return known
        if len(folded) < 5 or best is not None:
            continue
        allowed = 2 if len(target) >= 8 else 1
        if _edit_distance(folded, target, allowed) <= allowed:
            best = known
    return best


def _fold(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with transpositions, or ``limit + 1`` once it is beyond ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


_CHECKS = {
    "description": _check_description,
    "model_config": _check_model_config,
    "tags": _check_tags,
    "response_format": _check_response_format,
    "template": _check_template,
}

_SCALARS = (str, bool, int, float, bytes, type(None))


def _check_data(value: Any, key: str) -> _Problems:
    """Free-form values (extras, JSON Schemas) must be data a prompt file can hold."""
    if isinstance(value, dict):
        for name, item in value.items():
            if not _is_scalar(name):
                yield (
                    key,
                    f"has a key of type {type(name).__name__}, which a prompt file cannot store",
                )
            yield from _check_data(item, f"{key}.{name}")
    elif isinstance(value, (list, set)):
        for i, item in enumerate(value):
            yield from _check_data(item, f"{key}[{i}]")
    elif not _is_scalar(value):
        yield key, f"holds a {type(value).__name__}, which a prompt file cannot store"


def _is_scalar(value: Any) -> bool:
    if isinstance(value, _SCALARS):
        return True
    # A date is one too (YAML reads `2024-01-01` as one, a datetime is one), and only a
    # loaded datetime module can have made one: a load need not import it to ask.
    dates = sys.modules.get("datetime")
    return dates is not None and isinstance(value, dates.date)


def _is_number(value: Any) -> bool:
    """int or float, but not bool, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _kind(value: Any) -> str:
    """How an error names a wrong value: its YAML type, and the value when short."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text ({shown!r})" if value else "empty text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


