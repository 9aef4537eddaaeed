"""The bodies of ``promptctl register`` and ``alias set``, shared by the Typer commands
and the fast path (``fast``), so that both print the same bytes.

Nothing here imports Typer: a write run from the fast path pays neither for importing
it nor for building every click command, which cost a whole-process write more than
the write itself.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..formats.promptfile import PromptContent
from ..formats.update import KEEP, PromptUpdate
from . import views
from .grammar import parse_pairs
from .state import State


def register(st: State, name: str, text: str | None, file: str | None,
             message: str | None, model_config: list[str] | None, tag: list[str] | None,
             description: str | None, response_format: str | None, author: str | None,
             push: bool) -> None:
    """``promptctl register``: a new version from a template or a whole prompt file."""
    content = _content_from_options(text, file, model_config, tag, description, response_format)
    result = st.registry().register(name, content, message, author=author, push=push)
    views.registered(result, st.json)


def set_alias(st: State, name: str, alias: str, version: int, message: str | None,
              author: str | None, force: bool, push: bool) -> None:
    """``promptctl alias set``: point an alias at a version."""
    info = st.registry().set_alias(name, alias, version, message, author=author, force=force,
                                   push=push)
    views.alias_set(info, st.json)


def _content_from_options(
    text: str | None,
    file: str | None,
    model_config: list[str] | None,
    tag: list[str] | None,
    description: str | None,
    response_format: str | None,
) -> PromptContent | PromptUpdate:
    """What ``register`` was given: a whole prompt file (``-f`` with a ``template:`` key,
    the options applied on top), else an update of the newest version."""
    from ..formats.bounded import MAX_FILE_BYTES, read_limited
    from ..formats.promptfile import decode_prompt, read_prompt_source
    from ..formats.values import parse_setting_value

    if (text is None) == (file is None):
        raise InvalidInput("give the template with exactly one of --text/-t or --file/-f")
    update = PromptUpdate(
        "",
        {k: None if v == "" else parse_setting_value(v)
         for k, v in parse_pairs(model_config, "--model-config").items()},
        {k: v or None for k, v in parse_pairs(tag, "--tag").items()},
        KEEP if description is None else description,
        KEEP if response_format is None else _read_json_arg(response_format,
                                                            "--response-format"),
    )
    if file is None:
        return dataclasses.replace(update, template=text or "")
    source = "<stdin>" if file == "-" else file
    try:
        raw = _read_stdin(MAX_FILE_BYTES + 1) if file == "-" else read_limited(file,
                                                                               MAX_FILE_BYTES)
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror or exc}") from exc
    given, whole = read_prompt_source(decode_prompt(raw, source), source)
    update = dataclasses.replace(update, template=given.template)
    return update.apply(given) if whole else update


def _read_stdin(limit: int) -> bytes:
    """At most ``limit`` bytes of standard input (text, where it was swapped for a text
    stream, as tests and embedding programs do)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is not None:
        return bytes(stream.read(limit))
    return sys.stdin.read(limit).encode("utf-8", "surrogateescape")


def _read_json_arg(value: str, option: str) -> Any:
    """``JSON`` text, or ``@FILE`` holding JSON or YAML (as curl's ``-d @file``)."""
    import json

    import yaml

    if value.startswith("@"):
        path = Path(value[1:])
        try:
            text = path.read_text()
        except OSError as exc:
            raise InvalidInput(f"{option}: cannot read {path}: {exc.strerror}") from exc
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{option}: {path} is not valid JSON or YAML") from exc
    try:
        return json.loads(value)
    except ValueError as exc:
        raise InvalidInput(f"{option} is not valid JSON (or @FILE): {exc}") from exc
