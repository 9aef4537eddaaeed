"""The plain YAML reader (``formats.plainyaml``): whatever it reads, YAML reads the same;
what it cannot be sure of, it leaves to YAML; and it reads what promptctl writes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from promptctl.errors import InvalidPromptFile
from promptctl.formats import plainyaml
from promptctl.formats.promptdump import dump_prompt
from promptctl.formats.promptfile import PromptContent, written
from promptctl.formats.safeyaml import load_yaml


def _yaml(text: str) -> Any:
    """What the YAML way reads (``None``: it refuses the file)."""
    try:
        return load_yaml(text, "p.yaml", InvalidPromptFile)
    except InvalidPromptFile:
        return _REFUSED


_REFUSED = object()


def _typed(value: Any) -> Any:
    """A value with the type of every part in it: ``1 == 1.0 == True`` must not pass."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return type(value).__name__, value


def _agrees(text: str) -> bool:
    """``read`` gives up, or gives exactly what YAML gives; whether it read ``text``."""
    plain = plainyaml.read(text)
    if plain is None:
        return False
    assert _typed(plain) == _typed(_yaml(text)), text
    return True


# Pieces chosen to sit on every edge of the form: words YAML reads as booleans or null,
# numbers in every YAML 1.1 spelling, indicators, comments, quotes, line breaks YAML
# knows and Python does not split on, control characters, odd indentation. Each is
# drawn beside ordinary pieces, so that many documents are plain and read.
WORDS = ["a", "model_name", "e", "_x", "a.b", "x-y", "Ab", "template", "tags", "k1", "B_2", "z"]
ODD_WORDS = ["yes", "No", "on", "OFF", "null", "Null", "true", "False", "y", "n", "~", "1a",
             "é", "a b", "-a", "? a"]
SCALARS = ["gpt-4o-mini", "Hello world", "it's", 'say "hi"', "a, b", "a{b}", "a|b", "12", "-3",
           "0", "1.5", "0.25", "true", "false", "x" * 3, "é", "Ünïcode text", "a  b"]
ODD_SCALARS = ["a: b", "a:b", "a #b", "a#b", "a ", " a", "a\tb", "{a}", "[a]", "*a", "&a",
               "!a", "|", ">", "%a", "@a", "`a`", "-a", "- a", "? a", "-0", "01", "007",
               "1_000", "1.", ".5", "1e3", "1.0e+3", "0x1F", "0o17", "0b11", "1:30",
               "190:20:30", "2024-01-01", "2024-01-01 10:00:00", ".inf", "-.inf", ".nan", "=",
               "<<", "True", "yes", "off", "null", "~", "a\u00a0", "a\x85b", "a\u2028b",
               "a\rb", "a\x00", "a\x7f", "\ufeffa", "1" * 25, "1." + "5" * 25, "'q'", '"q"']
LINES = ["text", "Hello {{ name }}!", "", "  indented", "key: value", "- item", "é",
         "# not a comment"]
ODD_LINES = [" ", "  ", "   ", "\t", "\tx", "---", "...", "a \t", "trailing ", "x\ry",
             "x\x85y", "x\u2029y", "x\x1by"]
HEADERS = ["|", "|-", "|+"]
ODD_HEADERS = ["|2", "|-2", "|2+", ">", ">-", "| ", "|# c", "| # c", "|x"]
RAW = ["# comment\n", "#\n", "#a: b\n", "# c: |\n", "\n", "---\n", "%YAML 1.1\n", "key: &a x\n",
       "k: *a\n", "k: [a, b]\n", "k: {a: b}\n", "k: 'q'\n", 'k: "q"\n', "k: !!str x\n", "- a\n",
       "k:\n  - a\n", "...\n", "...\n\n", "... # c\n"]


def _mostly(usual: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    """One of ``usual`` nine times in ten, else one of ``odd``."""
    return st.sampled_from(usual * (9 * max(1, len(odd) // len(usual))) + odd)


@st.composite
def documents(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        key = draw(_mostly(WORDS, ODD_WORDS))
        kind = draw(_mostly(["scalar", "mapping", "block"], ["raw"]))
        if kind == "scalar":
            parts.append(f"{key}: {draw(_mostly(SCALARS, ODD_SCALARS))}\n")
        elif kind == "mapping":
            indent = draw(_mostly(["  "], [" ", "   ", "\t"]))
            items = draw(st.lists(st.tuples(_mostly(WORDS, ODD_WORDS),
                                            _mostly(SCALARS, ODD_SCALARS)), max_size=3))
            parts.append(f"{key}:\n" + "".join(f"{indent}{k}: {v}\n" for k, v in items))
        elif kind == "block":
            indent = draw(_mostly(["  "], [" ", "   ", "    "]))
            body = draw(st.lists(_mostly(LINES, ODD_LINES), min_size=1, max_size=5))
            parts.append(f"{key}: {draw(_mostly(HEADERS, ODD_HEADERS))}\n"
                         + "".join(f"{indent}{line}\n" if line else "\n" for line in body))
        else:
            parts.append(draw(st.sampled_from(RAW)))
    text = "".join(parts)
    return text[:-1] if text.endswith("\n") and draw(_mostly(["keep"], ["cut"])) == "cut" \
        else text


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
@example("template: |\n  a\n\n  b\n   \n\n")
@example("template: |+\n  a\n\n\n")
@example("template: |-\n  a\n \n")
@example("tags:\n  yes: b\n")
@example("template: |\n  a\n description: x\n")
def test_what_it_reads_yaml_reads_the_same(text: str) -> None:
    _agrees(text)


BASES = [
    ("description: Summarize a ticket, briefly\nmodel_config:\n  model_name: gpt-4o-mini\n"
     "  temperature: 0.2\n  max_tokens: 400\n  stream: true\ntags:\n  team: support\n"
     "template: |\n  Line one {{ x }}\n\n    indented\n  last\n"),
    "template: |+\n  kept\n\n...\n",
    "template: |-\n  stripped\n  twice\ndescription: after\n",
]
MUTATIONS = " \t\n:#-|>'\"{}[],&*!%@`?~.+0e\r\x85\u2028\ufeff\x00\xa0é"


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(BASES), st.integers(0, 400), st.sampled_from(MUTATIONS),
       st.sampled_from(["insert", "replace", "delete"]))
def test_a_plain_file_changed_anywhere_is_read_as_yaml_reads_it(
        base: str, at: int, char: str, how: str) -> None:
    at %= len(base)
    text = {"insert": base[:at] + char + base[at:], "replace": base[:at] + char + base[at + 1:],
            "delete": base[:at] + base[at + 1:]}[how]
    _agrees(text)


def test_it_reads_the_files_promptctl_writes() -> None:
    """Not a reader that gives up on everything: the form ``dump_prompt`` writes for
    ordinary prompts is read, exactly."""
    contents = [
        PromptContent("Hello {{ name }}!"),
        PromptContent("Line one\n\n  indented\nlast\n\n", description="Summarize a ticket, briefly",
                      model_config={"model_name": "gpt-4o-mini", "temperature": 0.2,
                                    "max_tokens": 400, "stream": True},
                      tags={"team": "support", "task": "summarize"}),
        PromptContent("no newline at the end", description="x"),
    ]
    for content in contents:
        assert _agrees(dump_prompt(content))
    for base in BASES:
        assert _agrees(base)


@pytest.mark.parametrize("text", [
    "template: hi",  # no line break at the end
    "template:\n",  # null
    "tags:\n",
    "template: |\n\n  a\n",  # indentation worked out past an empty line
    "template: |\n   a\n",  # a block more indented than two spaces
    "template: yes\n",
    "template: 1:30\n",  # sexagesimal, to YAML 1.1
    "template: hi\ntemplate: again\n",  # YAML refuses duplicates, with its own message
    "template: a\r\n",
    "\ufefftemplate: hi\n",
])
def test_it_leaves_to_yaml_what_it_cannot_be_sure_of(text: str) -> None:
    assert plainyaml.read(text) is None


def test_it_leaves_very_many_keys_to_yaml() -> None:
    """YAML bounds how many values a file may hold; the plain reader leaves big ones to it."""
    text = "".join(f"k{i}: v\n" for i in range(plainyaml.MOST_KEYS + 1))
    assert plainyaml.read(text) is None
    assert plainyaml.read(text.split("\n", 1)[1]) is not None


# What the writer is given: ordinary values, and beside them every edge it could slip on.
TEXTS = st.one_of(_mostly(SCALARS, [*ODD_SCALARS, "", "a\nb", "Ab\u200dc", "A\u00e9"]),
                  st.text(alphabet="ab :#-'\"\t{}[],.|>", min_size=1, max_size=12))
TEMPLATE_LINES = _mostly(LINES, [*ODD_LINES, "  two spaces", "\ttab first", "x "])
SETTINGS = st.one_of(st.integers(-1000, 1000), st.floats(-10, 10).map(lambda x: round(x, 2)),
                     st.booleans(), TEXTS, st.integers(-10**20, 10**20), st.floats(),
                     st.none(), st.lists(st.integers(), max_size=2))
KEYS = _mostly(WORDS, [*ODD_WORDS, "k:x", "k: x", "k #x", ""])


@st.composite
def contents(draw: st.DrawFn) -> PromptContent:
    lines = draw(st.lists(TEMPLATE_LINES, min_size=1, max_size=6))
    template = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n", "\n\n\n"]))
    return PromptContent(
        template=template,
        description=draw(st.none() | TEXTS | st.just("Two\nlines\n")),
        model_config=draw(st.dictionaries(KEYS, SETTINGS, max_size=3)),
        tags=draw(st.dictionaries(KEYS, TEXTS, max_size=3)))


@settings(max_examples=3000, deadline=None)
@given(contents())
@example(PromptContent("Hello {{ name }}!\n\n", description="Greets",
                       model_config={"temperature": 0.2, "max_tokens": 400, "stream": True},
                       tags={"team": "support"}))
@example(PromptContent("a", description="Two\nlines\n\n"))
def test_what_it_writes_is_what_pyyaml_writes_and_reads_back(content: PromptContent) -> None:
    """Wherever the plain writer writes a file, it is byte for byte the file PyYAML's
    emitter writes (``promptdump``), and it reads back as the content it was written from."""
    fields = written(content)
    text = plainyaml.write(fields)
    if text is not None:
        assert text == dump_prompt(content)
        assert _typed(plainyaml.read(text)) == _typed(fields)


def test_it_writes_the_files_ordinary_prompts_make() -> None:
    """Not a writer that gives up on everything."""
    for content in (PromptContent("Hello {{ name }}!"),
                    PromptContent("One\n\n  two\nthree\n", description="A ticket, briefly",
                                  model_config={"model_name": "gpt-4o-mini", "temperature": 0.2,
                                                "max_tokens": 400},
                                  tags={"team": "support"}),
                    PromptContent("kept\n\n", description="Several\nlines")):
        assert plainyaml.write(written(content)) == dump_prompt(content)
