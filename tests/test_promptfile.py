"""Tests for promptctl.formats.promptfile: reading, checking and writing prompt files."""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from promptctl.errors import InvalidInput, InvalidPromptFile
from promptctl.formats import promptdump, schema
from promptctl.formats.promptdump import dump_prompt
from promptctl.formats.promptfile import (
    PromptContent,
    find_problems,
    parse_prompt,
    validate_content,
)
from promptctl.formats.schema import MODEL_CONFIG_FIELDS

EXAMPLE = """\
description: Summarize a support ticket
model_config:
  model_name: gpt-4o-mini
  temperature: 0.2
tags:
  team: support
template: |
  Summarize the ticket below in {{ num_sentences }} sentences.
  Ticket: {{ticket}}
"""

EXAMPLE_CONTENT = PromptContent(
    template="Summarize the ticket below in {{ num_sentences }} sentences.\nTicket: {{ticket}}\n",
    description="Summarize a support ticket",
    model_config={"model_name": "gpt-4o-mini", "temperature": 0.2},
    tags={"team": "support"},
)

# The documented example, comments and flow mappings included.
SPEC_EXAMPLE = """\
description: Summarize a support ticket for the on-call engineer
model_config:            # MLflow's fields: provider, model_name, temperature, max_tokens,
  model_name: gpt-4o-mini  # top_p, top_k, frequency_penalty, presence_penalty,
  temperature: 0.2         # stop_sequences; any other key is kept as an extra
  max_tokens: 400
tags:
  team: support
  task: summarization
response_format:         # optional JSON Schema of the expected output
  type: object
  properties: {summary: {type: string}}
template: |
  Summarize the ticket below in {{ num_sentences }} sentences.
  Ticket: {{ticket}}
"""

CHAT_EXAMPLE = """\
template:
  - role: system
    content: You are a concise support assistant.
  - role: user
    content: "{{question}}"
"""


def problem_of(text: str) -> InvalidPromptFile:
    """The error parse_prompt raises for ``text``."""
    with pytest.raises(InvalidPromptFile) as info:
        parse_prompt(text, "prompts/p.yaml")
    return info.value


# --- reading valid files ---------------------------------------------------------------


def test_brief_example_parses_to_its_fields() -> None:
    assert parse_prompt(EXAMPLE, "x") == EXAMPLE_CONTENT


def test_spec_example_parses_with_comments_and_response_format() -> None:
    content = parse_prompt(SPEC_EXAMPLE, "x")
    assert content.description == "Summarize a support ticket for the on-call engineer"
    assert content.model_config == {
        "model_name": "gpt-4o-mini",
        "temperature": 0.2,
        "max_tokens": 400,
    }
    assert content.tags == {"team": "support", "task": "summarization"}
    assert content.response_format == {
        "type": "object",
        "properties": {"summary": {"type": "string"}},
    }
    assert isinstance(content.template, str) and not content.is_chat
    assert content.template.endswith("Ticket: {{ticket}}\n")


def test_chat_example_parses_to_messages() -> None:
    content = parse_prompt(CHAT_EXAMPLE, "x")
    assert content.is_chat
    assert content.template == [
        {"role": "system", "content": "You are a concise support assistant."},
        {"role": "user", "content": "{{question}}"},
    ]
    assert (content.description, content.model_config, content.tags) == (None, {}, {})
    assert content.response_format is None


def test_template_alone_is_a_valid_file() -> None:
    assert parse_prompt("template: Hello {{name}}\n", "x") == PromptContent("Hello {{name}}")


def test_extras_and_key_order_are_kept_untouched() -> None:
    text = """\
model_config:
  seed: 7
  temperature: 1
  reasoning: {effort: high, budget: [1, 2]}
  model_name: m
tags:
  zeta: z
  alpha: a
template: |
  x
"""
    content = parse_prompt(text, "x")
    assert list(content.model_config.items()) == [
        ("seed", 7),
        ("temperature", 1),
        ("reasoning", {"effort": "high", "budget": [1, 2]}),
        ("model_name", "m"),
    ]
    assert list(content.tags) == ["zeta", "alpha"]


def test_extra_message_keys_are_kept() -> None:
    text = "template:\n  - {role: user, content: hi, name: bob}\n"
    assert parse_prompt(text, "x").template == [{"role": "user", "content": "hi", "name": "bob"}]


def test_empty_optional_keys_count_as_absent() -> None:
    text = "description:\nmodel_config:\ntags:\nresponse_format:\ntemplate: t\n"
    assert parse_prompt(text, "x") == PromptContent("t")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("temperature", 0),
        ("temperature", 2.5),
        ("top_p", 0),
        ("top_p", 1),
        ("top_k", 1),
        ("max_tokens", 4096),
        ("frequency_penalty", -2),
        ("presence_penalty", 0.5),
        ("stop_sequences", []),
        ("stop_sequences", ["\n\n", "END"]),
        ("provider", "openai"),
        ("model_name", "gpt-4o"),
    ],
)
def test_model_config_boundaries_accepted(setting: str, value: Any) -> None:
    text = yaml.safe_dump({"model_config": {setting: value}, "template": "t"})
    assert parse_prompt(text, "x").model_config == {setting: value}


def test_model_config_fields_are_mlflows() -> None:
    assert MODEL_CONFIG_FIELDS == (
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


# --- problems --------------------------------------------------------------------------

ERROR_CASES = [
    # (file text, key, problem)
    ("- a\n- b\n", None, "must be a mapping of keys such as 'template:', got a list"),
    ("just text\n", None, "must be a mapping of keys such as 'template:', got text ('just text')"),
    ("", None, "the file is empty; a prompt needs at least a 'template:' key"),
    ("description: d\n", "template", "missing; every prompt needs a template"),
    (
        "template: t\nmodel: gpt\n",
        "model",
        "unknown key; allowed keys are description, model_config, tags, response_format, template",
    ),
    (
        "template: t\nmodelconfig: {}\n",
        "modelconfig",
        (
            "unknown key; allowed keys are description, model_config, tags, response_format, "
            "template (did you mean 'model_config'?)"
        ),
    ),
    ("template: t\ndescription: 3\n", "description", "must be text, got a number (3)"),
    ("template: t\ndescription: [a]\n", "description", "must be text, got a list"),
    (
        "template: t\nmodel_config: [a]\n",
        "model_config",
        "must be a mapping of settings such as 'temperature: 0.2', got a list",
    ),
    (
        "template: t\nmodel_config: {1: x}\n",
        "model_config",
        "setting name 1 must be text",
    ),
    (
        "template: t\nmodel_config: {temperature: -0.1}\n",
        "model_config.temperature",
        "must be a number >= 0, got a number (-0.1)",
    ),
    (
        "template: t\nmodel_config: {temperature: hot}\n",
        "model_config.temperature",
        "must be a number >= 0, got text ('hot')",
    ),
    (
        "template: t\nmodel_config: {temperature: true}\n",
        "model_config.temperature",
        "must be a number >= 0, got a boolean (true)",
    ),
    (
        "template: t\nmodel_config: {temperature: .nan}\n",
        "model_config.temperature",
        "must be a number >= 0, got a number (nan)",
    ),
    (
        "template: t\nmodel_config: {temperature: .inf}\n",
        "model_config.temperature",
        "must be a number >= 0, got a number (inf)",
    ),
    (
        "template: t\nmodel_config: {temperature: }\n",
        "model_config.temperature",
        "must be a number >= 0, got nothing (null)",
    ),
    (
        "template: t\nmodel_config: {top_p: 1.5}\n",
        "model_config.top_p",
        "must be a number from 0 to 1, got a number (1.5)",
    ),
    (
        "template: t\nmodel_config: {top_p: -0.01}\n",
        "model_config.top_p",
        "must be a number from 0 to 1, got a number (-0.01)",
    ),
    (
        "template: t\nmodel_config: {top_k: 0}\n",
        "model_config.top_k",
        "must be a positive integer, got a number (0)",
    ),
    (
        "template: t\nmodel_config: {max_tokens: 0}\n",
        "model_config.max_tokens",
        "must be a positive integer, got a number (0)",
    ),
    (
        "template: t\nmodel_config: {max_tokens: -5}\n",
        "model_config.max_tokens",
        "must be a positive integer, got a number (-5)",
    ),
    (
        "template: t\nmodel_config: {max_tokens: 400.0}\n",
        "model_config.max_tokens",
        "must be a positive integer, got a number (400.0)",
    ),
    (
        "template: t\nmodel_config: {max_tokens: true}\n",
        "model_config.max_tokens",
        "must be a positive integer, got a boolean (true)",
    ),
    (
        "template: t\nmodel_config: {frequency_penalty: high}\n",
        "model_config.frequency_penalty",
        "must be a number, got text ('high')",
    ),
    (
        "template: t\nmodel_config: {presence_penalty: false}\n",
        "model_config.presence_penalty",
        "must be a number, got a boolean (false)",
    ),
    (
        "template: t\nmodel_config: {stop_sequences: END}\n",
        "model_config.stop_sequences",
        "must be a list of text, got text ('END')",
    ),
    (
        "template: t\nmodel_config: {stop_sequences: [END, 3]}\n",
        "model_config.stop_sequences[1]",
        "must be text, got a number (3)",
    ),
    (
        "template: t\nmodel_config: {provider: 1}\n",
        "model_config.provider",
        "must be text, got a number (1); put it in quotes to keep it as text",
    ),
    (
        "template: t\nmodel_config: {model_name: [gpt]}\n",
        "model_config.model_name",
        "must be text, got a list",
    ),
    (
        "template: t\ntags: [a, b]\n",
        "tags",
        "must be a mapping of names to text values, got a list",
    ),
    (
        "template: t\ntags: {version: 1.10}\n",
        "tags.version",
        "must be text, got a number (1.1); put it in quotes to keep it as text",
    ),
    (
        "template: t\ntags: {reviewed: yes}\n",
        "tags.reviewed",
        "must be text, got a boolean (true); put it in quotes to keep it as text",
    ),
    ("template: t\ntags: {owners: [a]}\n", "tags.owners", "must be text, got a list"),
    ("template: t\ntags: {3: x}\n", "tags", "tag name 3 must be text"),
    (
        "template: t\nresponse_format: json\n",
        "response_format",
        "must be a mapping (a JSON Schema), got text ('json')",
    ),
    ("template:\n", "template", "is empty"),
    ("template: ''\n", "template", "is empty"),
    ('template: "  \\n\\t "\n', "template", "is only whitespace"),
    ("template: 42\n", "template", "must be text or a list of chat messages, got a number (42)"),
    (
        "template: {role: user}\n",
        "template",
        "must be text or a list of chat messages, got a mapping",
    ),
    (
        "template: []\n",
        "template",
        "is an empty list; a chat template needs at least one message",
    ),
    (
        "template:\n  - hello\n",
        "template[0]",
        "must be a mapping with 'role' and 'content', got text ('hello')",
    ),
    (
        "template:\n  - {role: user, content: a}\n  - {role: user, content: b}\n  - {content: c}\n",
        "template[2].role",
        "missing; every message needs a role such as 'system' or 'user'",
    ),
    (
        "template:\n  - {role: user}\n",
        "template[0].content",
        "missing; every message needs content",
    ),
    (
        "template:\n  - {role: 1, content: a}\n",
        "template[0].role",
        "must be text such as 'system' or 'user', got a number (1)",
    ),
    ("template:\n  - {role: ' ', content: a}\n", "template[0].role", "is empty"),
    (
        "template:\n  - {role: user, content: [a, b]}\n",
        "template[0].content",
        "must be text, got a list",
    ),
    (
        "template:\n  - {role: user, content: }\n",
        "template[0].content",
        "must be text, got nothing (null)",
    ),
]


@pytest.mark.parametrize(("text", "key", "problem"), ERROR_CASES)
def test_each_problem_names_key_and_what_is_wrong(text: str, key: str | None, problem: str) -> None:
    error = problem_of(text)
    assert (error.source, error.key, error.problem) == ("prompts/p.yaml", key, problem)
    where = f"prompts/p.yaml: {key}: " if key else "prompts/p.yaml: "
    assert str(error) == where + problem
    assert isinstance(error, InvalidInput)  # the CLI's "bad input" exit code


@pytest.mark.parametrize(("text", "key", "problem"), ERROR_CASES)
def test_find_problems_reports_the_same_single_problem(
    text: str, key: str | None, problem: str
) -> None:
    assert [(e.key, e.problem) for e in find_problems(text, "p")] == [(key, problem)]


def test_invalid_yaml_gives_the_line_number() -> None:
    error = problem_of("description: d\ntemplate: |\n  a\n b: [\n")
    assert error.key is None
    assert error.problem.startswith("not valid YAML at line 4, column ")


def test_unclosed_quote_gives_the_line_number() -> None:
    error = problem_of('template: "abc\ntags: {}\n')
    assert re.fullmatch(r"not valid YAML at line 3, column 1: .+", error.problem)


def test_unquoted_braces_get_a_quoting_hint() -> None:
    error = problem_of("template:\n  - role: user\n    content: {{question}}\n")
    assert error.problem.startswith("not valid YAML at line 3, column ")
    assert error.problem.endswith('(a value that starts with "{" must be quoted: "{{ name }}")')


def test_duplicate_keys_are_refused() -> None:
    # PyYAML would silently keep the second template.
    error = problem_of("template: first\ndescription: d\ntemplate: second\n")
    assert error.problem == "not valid YAML at line 3, column 1: found duplicate key 'template'"


def test_duplicate_keys_nested_are_refused() -> None:
    error = problem_of("template: t\ntags:\n  team: a\n  team: b\n")
    assert error.problem == "not valid YAML at line 4, column 3: found duplicate key 'team'"


def test_merge_keys_may_be_overridden() -> None:
    text = "template: t\nmodel_config:\n  <<: {temperature: 1, top_k: 3}\n  temperature: 0\n"
    assert parse_prompt(text, "x").model_config == {"temperature": 0, "top_k": 3}


def test_control_character_is_reported_with_its_line() -> None:
    error = problem_of("description: d\ntemplate: a\x07b\n")
    assert error.problem == "not valid YAML at line 2: control character U+0007 is not allowed"


def test_python_tags_are_never_executed(tmp_path: Any) -> None:
    marker = tmp_path / "pwned"
    text = f"template: !!python/object/apply:os.system ['touch {marker}']\n"
    error = problem_of(text)
    assert error.problem.startswith("not valid YAML at line 1, column 11: could not determine")
    assert not marker.exists()


def test_several_documents_are_refused() -> None:
    error = problem_of("template: a\n---\ntemplate: b\n")
    assert error.problem.startswith("not valid YAML at line 2, column 1: ")


def test_find_problems_lists_every_problem_in_file_order() -> None:
    text = """\
descripton: typo
model_config:
  temperature: -1
  top_p: 2
  max_tokens: 0
tags:
  team: 7
template:
  - {role: user}
  - {content: hi}
"""
    problems = find_problems(text, "prompts/p.yaml")
    assert [(p.source, p.key) for p in problems] == [
        ("prompts/p.yaml", "descripton"),
        ("prompts/p.yaml", "model_config.temperature"),
        ("prompts/p.yaml", "model_config.top_p"),
        ("prompts/p.yaml", "model_config.max_tokens"),
        ("prompts/p.yaml", "tags.team"),
        ("prompts/p.yaml", "template[0].content"),
        ("prompts/p.yaml", "template[1].role"),
    ]
    first = problem_of(text)
    assert (first.key, first.problem) == (problems[0].key, problems[0].problem)


def test_find_problems_is_empty_for_valid_files() -> None:
    assert find_problems(EXAMPLE, "x") == []
    assert find_problems(SPEC_EXAMPLE, "x") == []
    assert find_problems(CHAT_EXAMPLE, "x") == []


def test_find_problems_on_invalid_yaml_is_that_one_problem() -> None:
    [problem] = find_problems("template: [\n", "p.yaml")
    assert problem.key is None
    assert problem.problem.startswith("not valid YAML at line 2")


# --- validate_content ------------------------------------------------------------------


def test_validate_content_accepts_valid_content() -> None:
    validate_content(EXAMPLE_CONTENT, "summarize")
    validate_content(parse_prompt(SPEC_EXAMPLE, "x"), "summarize")
    validate_content(parse_prompt(CHAT_EXAMPLE, "x"), "chat")
    validate_content(PromptContent("t", model_config={"seed": datetime.date(2024, 1, 2)}), "x")


@pytest.mark.parametrize(
    ("content", "key", "problem"),
    [
        (PromptContent(""), "template", "is empty"),
        (PromptContent(" \n"), "template", "is only whitespace"),
        (
            PromptContent([]),
            "template",
            "is an empty list; a chat template needs at least one message",
        ),
        (
            PromptContent([{"role": "user"}]),
            "template[0].content",
            "missing; every message needs content",
        ),
        (
            PromptContent("t", tags={"n": 1}),  # type: ignore[dict-item]
            "tags.n",
            "must be text, got a number (1); put it in quotes to keep it as text",
        ),
        (
            PromptContent("t", model_config={"temperature": -1}),
            "model_config.temperature",
            "must be a number >= 0, got a number (-1)",
        ),
        (
            PromptContent("t", description=5),  # type: ignore[arg-type]
            "description",
            "must be text, got a number (5)",
        ),
        (
            PromptContent("t", response_format=[]),  # type: ignore[arg-type]
            "response_format",
            "must be a mapping (a JSON Schema), got a list",
        ),
        (
            PromptContent("t", model_config={"client": object()}),
            "model_config.client",
            "holds a object, which a prompt file cannot store",
        ),
        (
            PromptContent("t", model_config={"extra": {"deep": [1, (2, 3)]}}),
            "model_config.extra.deep[1]",
            "holds a tuple, which a prompt file cannot store",
        ),
        (
            PromptContent([{"role": "user", "content": "c\ud800"}]),
            "template[0].content",
            "contains a lone surrogate (U+D800), which UTF-8 cannot store",
        ),
        (
            PromptContent("t", tags={"a\udfff": "b"}),
            "tags",
            "contains a lone surrogate (U+DFFF), which UTF-8 cannot store",
        ),
        (
            PromptContent([{"role": "user", "content": "c", "meta": object()}]),
            "template[0].meta",
            "holds a object, which a prompt file cannot store",
        ),
    ],
)
def test_validate_content_raises_the_first_problem(
    content: PromptContent, key: str, problem: str
) -> None:
    with pytest.raises(InvalidPromptFile) as info:
        validate_content(content, "summarize")
    assert (info.value.source, info.value.key, info.value.problem) == ("summarize", key, problem)


# --- writing ---------------------------------------------------------------------------


def test_dump_writes_the_brief_example_byte_for_byte() -> None:
    assert dump_prompt(EXAMPLE_CONTENT) == EXAMPLE


def test_dump_puts_metadata_first_and_template_last_omitting_empty_keys() -> None:
    content = PromptContent(
        template="Hi {{name}}",
        response_format={"type": "object"},
        tags={"b": "2", "a": "1"},
    )
    assert dump_prompt(content) == (
        "tags:\n  b: '2'\n  a: '1'\nresponse_format:\n  type: object\ntemplate: |-\n  Hi {{name}}\n"
    )


def test_dump_of_spec_example_round_trips_and_keeps_structure() -> None:
    content = parse_prompt(SPEC_EXAMPLE, "x")
    text = dump_prompt(content)
    assert parse_prompt(text, "x") == content
    assert [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")] == [
        "description",
        "model_config",
        "tags",
        "response_format",
        "template",
    ]
    assert "\ntemplate: |\n  Summarize the ticket" in text


def test_dump_of_chat_indents_messages_and_uses_blocks_for_multiline_content() -> None:
    content = PromptContent(
        [
            {"role": "system", "content": "Be brief.\nBe kind.\n"},
            {"role": "user", "content": "{{question}}", "name": "bob"},
        ],
        model_config={"stop_sequences": ["\n\n", "END"]},
    )
    assert dump_prompt(content) == (
        "model_config:\n"
        "  stop_sequences:\n"
        '    - "\\n\\n"\n'
        "    - END\n"
        "template:\n"
        "  - role: system\n"
        "    content: |\n"
        "      Be brief.\n"
        "      Be kind.\n"
        "  - role: user\n"
        "    content: '{{question}}'\n"
        "    name: bob\n"
    )


def test_trailing_spaces_fall_back_to_a_quoted_string() -> None:
    # An editor or a pre-commit hook would strip them from a literal block.
    content = PromptContent("Q: {{q}}\nA: ")
    assert dump_prompt(content) == 'template: "Q: {{q}}\\nA: "\n'
    assert parse_prompt(dump_prompt(content), "x") == content


def test_tabs_stay_in_a_literal_block() -> None:
    content = PromptContent("\tdef f():\n\t\treturn 1\n")
    text = dump_prompt(content)
    assert text == "template: |2\n  \tdef f():\n  \t\treturn 1\n"
    assert parse_prompt(text, "x") == content
    assert yaml.load(text, Loader=yaml.SafeLoader) == {"template": content.template}


def test_leading_spaces_get_an_indentation_indicator() -> None:
    content = PromptContent("    indented code\nnext\n")
    text = dump_prompt(content)
    assert text == "template: |2\n      indented code\n  next\n"
    assert parse_prompt(text, "x") == content


def test_long_lines_are_never_folded() -> None:
    long_line = " ".join(["word"] * 100)
    content = PromptContent(long_line + "\n", description=long_line)
    assert dump_prompt(content) == f"description: {long_line}\ntemplate: |\n  {long_line}\n"


def test_shared_values_are_written_out_not_aliased() -> None:
    schema = {"type": "string"}
    content = PromptContent("t", model_config={"a": schema}, response_format=schema)
    text = dump_prompt(content)
    assert "&" not in text and "*" not in text
    assert parse_prompt(text, "x") == content


def test_dump_falls_back_to_quoting_when_a_literal_block_reads_back_differently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Pretend the literal check missed NEL, which YAML reads back as "\n".
    monkeypatch.setattr(promptdump, "_literal_ok", lambda text: True)
    content = PromptContent("a\x85b\n")
    text = dump_prompt(content)
    assert text == 'template: "a\\Nb\\n"\n'
    assert parse_prompt(text, "x") == content


def test_dump_is_deterministic_for_equal_content() -> None:
    again = PromptContent(
        template=str(EXAMPLE_CONTENT.template),
        description="Summarize a support ticket",
        model_config={"model_name": "gpt-4o-mini", "temperature": 0.2},
        tags={"team": "support"},
    )
    assert dump_prompt(again).encode() == dump_prompt(EXAMPLE_CONTENT).encode()


# --- properties ------------------------------------------------------------------------

# Characters that stress YAML: indicators, quotes, comment and document markers, every
# kind of line break and whitespace, escapes, non-ASCII and astral characters.
_TRICKY = st.sampled_from([
    *" \t\n\r#:-?|>'\"{}[],&*!%@`\\.=~",
    "\x85", "\u2028", "\u2029", "\ufeff", "\xa0",
    "\x00", "\x1b", "\x7f", "é", "中", "😀", "---", "...", ": ", " #", "{{x}}", "null", "1.0",
])
TEXT = st.lists(st.one_of(_TRICKY, st.characters(codec="utf-8")), max_size=30).map("".join)
KEY = st.text(min_size=1, max_size=10)
NUMBER = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
EXTRA = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBER, TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY, inner, max_size=3),
    max_leaves=8,
)
_MODEL_SETTINGS: dict[str, st.SearchStrategy[Any]] = {
    "provider": TEXT,
    "model_name": TEXT,
    "temperature": st.one_of(
        st.integers(min_value=0), st.floats(min_value=0, allow_infinity=False)
    ),
    "max_tokens": st.integers(min_value=1),
    "top_p": st.floats(min_value=0, max_value=1),
    "top_k": st.integers(min_value=1, max_value=1000),
    "frequency_penalty": NUMBER,
    "presence_penalty": NUMBER,
    "stop_sequences": st.lists(TEXT, max_size=3),
    "seed": st.integers(),
    "reasoning": EXTRA,
    "when": st.dates(),
}
MODEL_CONFIG = st.lists(st.sampled_from(list(_MODEL_SETTINGS)), unique=True).flatmap(
    lambda names: st.fixed_dictionaries({name: _MODEL_SETTINGS[name] for name in names})
)
TEXT_TEMPLATE = TEXT.filter(lambda text: bool(text.strip()))
MESSAGE = st.fixed_dictionaries(
    {
        # Other roles are refused when written (test_formats_hardening covers them).
        "role": st.sampled_from(schema.CHAT_ROLES),
        "content": TEXT,
    },
    optional={"name": TEXT, "meta": EXTRA},
)
CONTENT = st.builds(
    PromptContent,
    template=st.one_of(TEXT_TEMPLATE, st.lists(MESSAGE, min_size=1, max_size=4)),
    description=st.none() | TEXT,
    model_config=MODEL_CONFIG,
    tags=st.dictionaries(TEXT, TEXT, max_size=4),
    response_format=st.none() | st.dictionaries(KEY, EXTRA, max_size=3),
)


@settings(max_examples=400)
@given(CONTENT)
def test_dump_then_parse_round_trips(content: PromptContent) -> None:
    validate_content(content, "x")
    text = dump_prompt(content)
    parsed = parse_prompt(text, "x")
    assert parsed == content
    # == ignores dict order and 1 == 1.0 == True; repr does not.
    assert repr(parsed) == repr(content)


@given(CONTENT)
def test_dump_reads_the_same_with_the_pure_python_loader(content: PromptContent) -> None:
    # Other tools (yamllint, editors) do not use libyaml; the file must mean the same there.
    text = dump_prompt(content)
    data = yaml.load(text, Loader=yaml.SafeLoader)
    assert data["template"] == content.template
    assert data == yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@given(CONTENT)
def test_dump_is_deterministic(content: PromptContent) -> None:
    assert dump_prompt(content) == dump_prompt(parse_prompt(dump_prompt(content), "x"))


# Text an editor would leave alone: printable characters and tabs, no trailing whitespace.
_EDITOR_LINE = st.text(
    st.characters(
        exclude_categories=("Cc", "Cs", "Zl", "Zp"),
        exclude_characters="\ufeff",
    )
    | st.sampled_from(list("\t #:-{}'\"|>")),
    max_size=20,
).map(lambda line: line.rstrip())
EDITOR_TEXT = (
    st.lists(_EDITOR_LINE, min_size=1, max_size=6)
    .map("\n".join)
    .filter(lambda text: bool(text.strip()))
)


@given(EDITOR_TEXT, st.sampled_from(["", "\n", "\n\n"]))
def test_editor_friendly_text_is_always_a_literal_block(body: str, ending: str) -> None:
    content = PromptContent(body + ending)
    text = dump_prompt(content)
    assert re.match(r"template: \|[0-9]?[-+]?\n", text)
    assert parse_prompt(text, "x") == content


@given(EDITOR_TEXT.filter(lambda text: "\n" in text))
def test_multiline_chat_content_is_a_literal_block(body: str) -> None:
    content = PromptContent([{"role": "user", "content": body}])
    text = dump_prompt(content)
    assert re.search(r"\n    content: \|[0-9]?[-+]?\n", text)
    assert parse_prompt(text, "x") == content


@given(st.floats(min_value=0, allow_infinity=False))
def test_number_settings_keep_their_exact_value(temperature: float) -> None:
    content = PromptContent("t", model_config={"temperature": temperature})
    parsed = parse_prompt(dump_prompt(content), "x").model_config["temperature"]
    assert type(parsed) is float and math.copysign(1, parsed) == math.copysign(1, temperature)
    assert parsed == temperature


@given(st.text())
def test_parse_never_raises_anything_but_invalid_prompt_file(text: str) -> None:
    try:
        content = parse_prompt(text, "x")
    except InvalidPromptFile as error:
        assert error.source == "x"
        assert find_problems(text, "x")[0].problem == error.problem
    else:
        assert find_problems(text, "x") == []
        assert isinstance(content.template, (str, list))


def test_the_characters_a_literal_block_refuses_are_the_complement_of_those_it_holds() -> None:
    held = re.compile("[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                      "\U00010000-\U0010ffff]")
    refused = promptdump.not_literal_char()
    assert [cp for cp in range(0x110000)
            if bool(held.match(chr(cp))) == bool(refused.match(chr(cp)))] == []
