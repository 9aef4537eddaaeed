"""Values a user types or hands over: a ``--vars-file``, and ``--model-config KEY=VALUE``.

A values file is a JSON or YAML mapping of variable names to values (JSON is read as
the YAML it is), bounded like a prompt file (:mod:`.bounded`). A setting value is typed
as JSON where it reads as JSON: ``0.2`` is a number, ``true`` a boolean, ``["a"]`` a
list, and anything else stays text, so ``model_name=gpt-4o`` needs no quotes. Two
exceptions: ``.5`` and ``-.5`` are numbers (JSON wants ``0.5``, nobody else does), and
``NaN``/``Infinity`` stay text (JSON's extensions, which no model setting means).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import InvalidFile, InvalidInput
from .bounded import MAX_FILE_BYTES, json_depth_problem, read_text_file, text_size_problem

MAX_SETTING_LENGTH = 64 * 1024
"""The longest list or object a ``KEY=VALUE`` value may hold; a longer one is refused."""

_BARE_FRACTION = re.compile(r"-?\.[0-9]+(?:[eE][+-]?[0-9]+)?")


def parse_values(text: str, source: str) -> dict[str, Any]:
    """A values file's text as a mapping; :class:`InvalidFile` names ``source`` and the problem.

    JSON is tried first: PyYAML cannot read JSON's ``\\ud83d\\ude00`` escapes (what
    ``json.dumps`` writes for an emoji), and ``json`` is faster.
    """
    data = _json_or_none(text) if text.lstrip()[:1] in ("{", "[") else None
    if data is None:
        from .safeyaml import load_yaml  # PyYAML costs ~10 ms to import: not for JSON

        data = load_yaml(text, source, InvalidFile)
    if not isinstance(data, dict):
        raise InvalidFile(source, None, "must hold a mapping of variable names to values")
    for key in data:
        if not isinstance(key, str):
            raise InvalidFile(source, None, f"variable name {key!r} must be text")
    return data


def _json_or_none(text: str) -> Any:
    if text_size_problem(text, MAX_FILE_BYTES) or json_depth_problem(text):
        return None  # load_yaml names the limit
    try:
        return json.loads(text, parse_constant=_not_a_number)
    except ValueError:
        return None


def read_values_file(path: Path) -> dict[str, Any]:
    """:func:`parse_values` of the file at ``path`` (read in bounds: ``/dev/zero`` ends).

    A missing or unreadable file is an :class:`InvalidFile` too: it was named on the
    command line, so it is bad input (exit 2), not a missing prompt.
    """
    source = str(path)
    try:
        text = read_text_file(path, source, MAX_FILE_BYTES, InvalidFile)
    except FileNotFoundError as exc:
        raise InvalidFile(source, None, "no such file") from exc
    return parse_values(text, source)


def parse_setting_value(text: str) -> Any:
    """A ``--model-config`` value typed as described above; :class:`InvalidInput` if too big."""
    if _BARE_FRACTION.fullmatch(text):
        return float(text)
    if text.lstrip()[:1] in ("[", "{"):  # only a list or an object can nest
        if len(text) > MAX_SETTING_LENGTH:
            raise InvalidInput(
                f"a list or object setting value may be at most {MAX_SETTING_LENGTH:,} characters"
            )
        if problem := json_depth_problem(text):
            raise InvalidInput(f"the setting value {problem}")
    try:
        return json.loads(text, parse_constant=_not_a_number)
    except (ValueError, RecursionError):
        return text


def _not_a_number(name: str) -> Any:
    raise ValueError(name)
