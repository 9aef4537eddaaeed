"""Writing a prompt file: content as deterministic, reviewable YAML.

Apart from :mod:`.promptfile` (reading and checking) because it needs PyYAML's emitter,
which a load never does: importing PyYAML costs ~10 ms. Content in the plain form is
written by :func:`.plainyaml.write` instead (``promptfile.encode_prompt``), to the same
bytes, which a property test holds it to: a change to how this module writes must be
made there too, or that test fails.
"""

from __future__ import annotations

import functools
import re
import sys
from typing import TYPE_CHECKING, Any

import yaml

from .promptfile import written
from .safeyaml import StrictLoader

if TYPE_CHECKING:
    from .promptfile import PromptContent

# Strings a literal block holds exactly *and* that survive editors and pre-commit hooks:
# printable characters, tab and "\n" only (YAML folds "\r", NEL, LS and PS into "\n"),
# and no whitespace at the end of a line (trailing-whitespace fixers would strip it).
_TRAILING_SPACE = re.compile(r"[^\S\n](?:\n|\Z)")
_LINE_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")


@functools.cache  # compiled on the first write, which no load should pay for
def not_literal_char() -> re.Pattern[str]:
    """A character a literal block cannot hold as it is (see above).

    Written as the characters refused: the complement of ``[\t\n\x20-\x7e\xa0-\u2027
    \u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]``, which took ~3.5 ms
    to compile where these few small ranges take ~0.3 ms (a test compares the two on
    every code point).
    """
    return re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
                      "\ufeff\ufffe\uffff]")


def _literal_ok(text: str) -> bool:
    return (bool(text) and not not_literal_char().search(text)
            and not _TRAILING_SPACE.search(text))


class _Block(str):
    """Marks a text template: always a literal block when it can be one."""


class _Prose(str):
    """Marks a chat message's content or a description: a literal block when multi-line.

    Other texts with line breaks (stop sequences, tag values …) are short and read
    better double-quoted: ``"\\n\\n"`` rather than an empty-looking block.
    """


class _Dumper(yaml.SafeDumper):
    """The pure-Python safe dumper, tuned for reviewable, deterministic prompt files.

    Deliberately not libyaml's CSafeDumper: libyaml is optional, so two machines could
    write the same content as different bytes (a spurious new version), and libyaml will
    not put a tab in a literal block. Writing is not on a hot path.
    """

    use_literal = True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent lists under their key, as the README shows and yamllint's default expects.
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value used twice is written twice, never as &id001 / *id001

    def choose_scalar_style(self) -> str:
        # PyYAML refuses block style for any text with a tab; _represent_str only asks
        # for "|" when _literal_ok() said a literal block holds the text exactly.
        event = self.event
        in_block = not self.flow_level and not self.simple_key_context
        if isinstance(event, yaml.ScalarEvent) and event.style == "|" and in_block:
            return "|"
        return str(super().choose_scalar_style())

    def determine_block_hints(self, text: str) -> str:
        hints = str(super().determine_block_hints(text))
        if text.startswith("\t"):
            # libyaml cannot guess the indentation of a block whose first line starts
            # with a tab ("found a tab character where an indentation space is expected").
            hints = str(self.best_indent) + hints
        return hints


class _PlainDumper(_Dumper):
    """The fallback: no literal blocks, every multi-line text double-quoted."""

    use_literal = False


def _represent_str(dumper: _Dumper, text: str) -> yaml.ScalarNode:
    style: str | None = None
    if isinstance(text, _Block) or _LINE_BREAKS.search(text):
        literal = isinstance(text, (_Block, _Prose)) and dumper.use_literal
        style = "|" if literal and _literal_ok(text) else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(text), style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Block, _represent_str)
_Dumper.add_representer(_Prose, _represent_str)


def _dump(data: dict[str, Any], dumper: type[_Dumper]) -> str:
    return yaml.dump(
        data,
        Dumper=dumper,
        sort_keys=False,  # keep the user's order inside model_config, tags …
        allow_unicode=True,
        default_flow_style=False,
        indent=2,
        width=sys.maxsize,  # never fold long lines: a one-word edit stays a one-line diff
    )


def dump_prompt(content: PromptContent) -> str:
    """Write content as prompt-file YAML: metadata first, the template last.

    Text templates (and multi-line texts anywhere) become literal blocks so that a pull
    request shows a line diff; a text a literal block cannot hold exactly (trailing
    spaces, control characters, "\\r") is double-quoted instead. The same content always
    gives the same bytes.
    """
    return dump_checked(content)[0]


def dump_checked(content: PromptContent) -> tuple[str, dict[str, Any] | None]:
    """:func:`dump_prompt`'s text, and the values a safe load of it gives when they were
    read back to check it (``None``: the plain fallback, not read back)."""
    data = written(content)
    if "description" in data:
        data["description"] = _Prose(data["description"])
    template = content.template
    if isinstance(template, str):
        data["template"] = _Block(template)
    else:
        data["template"] = [
            {k: _Prose(v) if k == "content" and isinstance(v, str) else v for k, v in m.items()}
            for m in template
        ]

    text = _dump(data, _Dumper)
    # Correctness first: should a literal block ever read back differently (an emitter
    # corner we did not foresee), write the plain, fully quoted form instead.
    read_back = yaml.load(text, Loader=StrictLoader)  # a safe loader
    if read_back != data:
        return _dump(data, _PlainDumper), None
    return text, read_back
