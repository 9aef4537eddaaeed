"""Tests for promptctl.formats.template.

Variables, format, partial format, single-brace conversion.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from promptctl.errors import InvalidInput, MissingVariables
from promptctl.formats.template import (
    find_variables,
    format_template,
    template_text,
    to_single_brace,
)

# Text built from the fragments that matter to the parser, so that hypothesis produces
# variables, near-variables and runs of braces often (plain random characters almost
# never spell "{{ name }}").
_FRAGMENTS = [
    *["{{", "}}", "{", "}", " ", "\n", "\t", "a", "b", "_x", "1", ":", '"', "é"],
    *["{{a}}", "{{ b }}", "{{\t_x\n}}", "{{ a", "b }}"],
]
BRACE_TEXT = st.lists(
    st.sampled_from([*_FRAGMENTS, ".", "a.b", "{{ a.b }}", "{{a._x}}"]), max_size=20
).map("".join)
BRACE_TEXT_NO_DOTS = st.lists(st.sampled_from(_FRAGMENTS), max_size=20).map("".join)
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
VALUES = st.text(max_size=20)
# Literal pieces without braces: whatever is next to them, they cannot form a variable.
PLAIN = st.text(max_size=10).filter(lambda s: "{" not in s and "}" not in s)

CHAT = [
    {"role": "system", "content": "You answer in {{ lang }}.", "name": "sys"},
    {"role": "user", "content": "{{question}}"},
]


# -- find_variables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{x}}", ("x",)),
        ("{{ x }}", ("x",)),
        ("{{\tx\n}}", ("x",)),
        ("{{   x}} {{y   }}", ("x", "y")),
        ("{{ user.name }} {{a.b.c}}", ("user.name", "a.b.c")),
        ("{{ _private }} {{X9}}", ("_private", "X9")),
        ("{{ b }} {{ a }} {{ b }} {{a}}", ("b", "a")),
        ("no variables here", ()),
        ("", ()),
    ],
)
def test_find_variables(template: str, expected: tuple[str, ...]) -> None:
    assert find_variables(template) == expected


@pytest.mark.parametrize(
    "template",
    [
        '{"a": 1}',
        '{{"a": 1}}',
        "{x}",
        "{ x }",
        "{{ 1x }}",
        "{{}}",
        "{{ }}",
        "{{ a b }}",
        "{{ a. }}",
        "{{ .a }}",
        "{{ a..b }}",
        "{{ a-b }}",
        "{{ é }}",
        "{{ x }",
        "{ x }}",
        "{{ x\u00a0}}",  # a non-ASCII space does not count as whitespace
    ],
)
def test_non_variables_are_literal(template: str) -> None:
    assert find_variables(template) == ()
    assert format_template(template, {"x": "X", "a": "A"}) == template


def test_find_variables_chat_in_message_order() -> None:
    chat = [
        {"role": "system", "content": "{{ b }} and {{ a }}"},
        {"role": "user", "content": "{{ a }} {{ c }}"},
    ]
    assert find_variables(chat) == ("b", "a", "c")


# -- format_template: text ------------------------------------------------------------------


def test_format_substitutes_with_and_without_whitespace() -> None:
    template = "Summarize in {{ n }} sentences.\nTicket: {{ticket}} ({{  n}})"
    result = format_template(template, {"n": 3, "ticket": "printer on fire"})
    assert result == "Summarize in 3 sentences.\nTicket: printer on fire (3)"


def test_format_keeps_json_braces() -> None:
    template = 'Reply as JSON: {"summary": "{{ summary }}", "tags": {"x": [1, 2]}}'
    result = format_template(template, {"summary": "ok"})
    assert result == 'Reply as JSON: {"summary": "ok", "tags": {"x": [1, 2]}}'


def test_format_variable_inside_extra_braces() -> None:
    # A variable directly inside a JSON object: the outer braces stay literal.
    assert format_template('{"n": {{n}}}', {"n": 5}) == '{"n": 5}'
    assert format_template("{{{x}}}", {"x": 1}) == "{1}"


def test_format_does_not_reexpand_values() -> None:
    values = {"a": "{{ b }}", "b": "B"}
    assert format_template("{{a}} {{b}}", values) == "{{ b }} B"


def test_format_value_with_regex_escapes_is_inserted_verbatim() -> None:
    assert format_template("{{x}}", {"x": r"\1 \g<0> \n"}) == r"\1 \g<0> \n"


def test_format_converts_values_with_str() -> None:
    class Money:
        def __str__(self) -> str:
            return "$4.20"

    template = "{{i}} {{f}} {{b}} {{n}} {{l}} {{d}} {{m}}"
    values = {"i": 3, "f": 0.5, "b": True, "n": None, "l": [1, "x"], "d": {"k": 1}, "m": Money()}
    assert format_template(template, values) == "3 0.5 True None [1, 'x'] {'k': 1} $4.20"


def test_format_ignores_extra_values() -> None:
    assert format_template("hi {{ name }}", {"name": "Ann", "unused": 1, "x.y": 2}) == "hi Ann"


def test_format_without_variables_returns_text_unchanged() -> None:
    assert format_template("plain {text}", {}) == "plain {text}"


def test_format_missing_names_every_missing_variable() -> None:
    template = "{{ a }} {{ b }} {{ c }} {{ a }} {{ d.e }}"
    with pytest.raises(MissingVariables) as info:
        format_template(template, {"b": 1})
    assert info.value.names == ("a", "c", "d.e")
    assert "a, c, d.e" in str(info.value)
    assert isinstance(info.value, InvalidInput)


def test_format_missing_variable_with_none_value_is_not_missing() -> None:
    assert format_template("{{ x }}", {"x": None}) == "None"


def test_format_partial_fills_what_it_can_and_keeps_the_rest_as_written() -> None:
    template = "{{ a }}|{{b}}|{{  c.d }}|{{a}}"
    result = format_template(template, {"a": "A"}, allow_partial=True)
    assert result == "A|{{b}}|{{  c.d }}|A"
    assert find_variables(result) == ("b", "c.d")
    assert format_template(result, {"b": "B", "c.d": "C"}) == "A|B|C|A"


def test_format_partial_with_nothing_missing_equals_full_format() -> None:
    values = {"x": 1, "y": 2}
    template = "{{x}} + {{y}}"
    assert format_template(template, values, allow_partial=True) == format_template(
        template, values
    )


# -- dotted variables -----------------------------------------------------------------------


def test_dotted_full_key_wins_over_traversal() -> None:
    values = {"user.name": "flat", "user": {"name": "nested"}}
    assert format_template("{{ user.name }}", values) == "flat"


def test_dotted_traverses_mappings() -> None:
    values = {"user": {"name": "Ann", "address": {"city": "Oslo"}}}
    assert format_template("{{user.name}} in {{ user.address.city }}", values) == "Ann in Oslo"


def test_dotted_traverses_attributes() -> None:
    values = {"user": SimpleNamespace(name="Bo", team=SimpleNamespace(lead="Cy"))}
    assert format_template("{{user.name}}/{{user.team.lead}}", values) == "Bo/Cy"


def test_dotted_mixes_mappings_and_attributes() -> None:
    values = {"cfg": SimpleNamespace(limits={"tokens": 400})}
    assert format_template("{{ cfg.limits.tokens }}", values) == "400"


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"user": {}},
        {"user": {"nick": "x"}},
        {"user": SimpleNamespace(nick="x")},
        {"user": "a string has no .name"},
        {"user": None},
    ],
)
def test_dotted_not_found_is_missing(values: dict[str, Any]) -> None:
    with pytest.raises(MissingVariables) as info:
        format_template("{{ user.name }}", values)
    assert info.value.names == ("user.name",)


def test_dotted_lookup_does_not_add_keys_to_defaultdict() -> None:
    user: defaultdict[str, str] = defaultdict(lambda: "made up")
    with pytest.raises(MissingVariables):
        format_template("{{ user.name }}", {"user": user})
    assert dict(user) == {}


def test_dotted_lookup_refuses_private_attributes() -> None:
    secret = SimpleNamespace(_token="s3cret")
    with pytest.raises(MissingVariables) as info:
        format_template("{{ obj._token }} {{ obj.__class__ }}", {"obj": secret})
    assert info.value.names == ("obj.__class__", "obj._token")
    # A private-looking *key* in a mapping is ordinary data, and a top-level one too.
    assert format_template("{{ d._k }} {{ _t }}", {"d": {"_k": 1}, "_t": 2}) == "1 2"


# -- chat templates -------------------------------------------------------------------------


def test_format_chat_formats_contents_and_keeps_other_keys() -> None:
    result = format_template(CHAT, {"lang": "French", "question": "{{ lang }}?"})
    assert result == [
        {"role": "system", "content": "You answer in French.", "name": "sys"},
        {"role": "user", "content": "{{ lang }}?"},
    ]


def test_format_chat_does_not_mutate_input() -> None:
    before = copy.deepcopy(CHAT)
    result = format_template(CHAT, {"lang": "French", "question": "Why?"})
    assert before == CHAT
    assert result is not CHAT
    assert all(new is not old for new, old in zip(result, CHAT, strict=True))


def test_format_chat_missing_names_variables_from_every_message() -> None:
    with pytest.raises(MissingVariables) as info:
        format_template(CHAT, {})
    assert info.value.names == ("lang", "question")


def test_format_chat_partial() -> None:
    result = format_template(CHAT, {"question": "Why?"}, allow_partial=True)
    assert [m["content"] for m in result] == ["You answer in {{ lang }}.", "Why?"]
    assert find_variables(result) == ("lang",)


def test_format_chat_role_is_not_formatted() -> None:
    chat = [{"role": "{{ r }}", "content": "{{ r }}"}]
    assert format_template(chat, {"r": "x"}) == [{"role": "{{ r }}", "content": "x"}]


@pytest.mark.parametrize(
    "template",
    [
        None,
        42,
        {"role": "user", "content": "x"},
        ["just a string"],
        [{"role": "user"}],
        [{"content": "x"}],
        [{"role": "user", "content": 3}],
    ],
)
def test_bad_templates_are_invalid_input(template: Any) -> None:
    for function in (find_variables, to_single_brace, template_text):
        with pytest.raises(InvalidInput):
            function(template)
    with pytest.raises(InvalidInput):
        format_template(template, {})


# -- to_single_brace ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello {{ name }}!", "Hello {name}!"),
        ("{{a}}{{ b }}", "{a}{b}"),
        ('JSON: {"k": {{ v }}}', 'JSON: {{"k": {v}}}'),
        ("{x} and {{ 1x }}", "{{x}} and {{{{ 1x }}}}"),
        ("{{ user.name }}", "{user.name}"),
        ("no braces", "no braces"),
    ],
)
def test_to_single_brace(template: str, expected: str) -> None:
    assert to_single_brace(template) == expected


def test_to_single_brace_result_works_with_str_format() -> None:
    template = 'Answer {"lang": "{{ lang }}"} in {{n}} words {not a var}'
    converted = to_single_brace(template)
    assert converted.format(lang="en", n=5) == 'Answer {"lang": "en"} in 5 words {not a var}'


def test_to_single_brace_dotted_uses_attribute_access() -> None:
    converted = to_single_brace("{{ user.name }}")
    assert converted.format(user=SimpleNamespace(name="Ann")) == "Ann"


def test_to_single_brace_chat_keeps_other_keys_and_input() -> None:
    before = copy.deepcopy(CHAT)
    result = to_single_brace(CHAT)
    assert result == [
        {"role": "system", "content": "You answer in {lang}.", "name": "sys"},
        {"role": "user", "content": "{question}"},
    ]
    assert before == CHAT


# -- template_text --------------------------------------------------------------------------


def test_template_text_of_text_is_itself() -> None:
    assert template_text("Hi {{ x }}") == "Hi {{ x }}"


def test_template_text_of_chat() -> None:
    assert template_text(CHAT) == "system: You answer in {{ lang }}.\nuser: {{question}}"
    assert template_text([]) == ""


# -- properties -----------------------------------------------------------------------------


@given(
    pieces=st.lists(st.one_of(PLAIN, NAMES.map(lambda n: ("var", n))), max_size=8),
    values=st.dictionaries(NAMES, st.text(alphabet="{} ab_.", max_size=12)),
    data=st.data(),
)
def test_property_format_is_one_pass(
    pieces: list[str | tuple[str, str]], values: dict[str, str], data: st.DataObject
) -> None:
    # Values are brace-heavy text, often spelling "{{ name }}" of another variable; each
    # must appear verbatim in the output, never expanded again.
    for piece in pieces:
        if isinstance(piece, tuple) and piece[1] not in values:
            values[piece[1]] = data.draw(st.sampled_from(["{{ a }}", "{{b}}", "x"]))
    template = "".join(
        "{{ " + piece[1] + " }}" if isinstance(piece, tuple) else piece for piece in pieces
    )
    expected = "".join(
        values[piece[1]] if isinstance(piece, tuple) else piece for piece in pieces
    )
    assert format_template(template, values) == expected


@given(template=BRACE_TEXT_NO_DOTS, data=st.data())
def test_property_single_brace_formats_like_format_template(
    template: str, data: st.DataObject
) -> None:
    names = find_variables(template)
    values = {name: data.draw(st.text(max_size=10), label=name) for name in names}
    assert to_single_brace(template).format(**values) == format_template(template, values)


@given(template=BRACE_TEXT, data=st.data())
def test_property_find_variables_is_what_format_requires(
    template: str, data: st.DataObject
) -> None:
    names = find_variables(template)
    assert len(set(names)) == len(names)
    values = dict.fromkeys(names, "v")
    # Every variable given: no error, and a partial format has nothing left to fill.
    partial = format_template(template, values, allow_partial=True)
    assert partial == format_template(template, values)
    # None given: every one of them is named.
    if names:
        with pytest.raises(MissingVariables) as info:
            format_template(template, {})
        assert set(info.value.names) == set(names)
    # One left out: exactly that one is named.
    if names:
        left_out = data.draw(st.sampled_from(names))
        del values[left_out]
        with pytest.raises(MissingVariables) as info:
            format_template(template, values)
        assert info.value.names == (left_out,)


@given(template=BRACE_TEXT)
def test_property_text_without_variables_is_unchanged(template: str) -> None:
    assume(not find_variables(template))
    assert format_template(template, {"a": "x", "b": "y"}) == template


@given(template=BRACE_TEXT)
def test_property_partial_with_no_values_is_identity(template: str) -> None:
    assert format_template(template, {}, allow_partial=True) == template


@given(template=BRACE_TEXT)
def test_property_find_variables_agrees_with_a_reference_scan(template: str) -> None:
    # An independent, slower statement: scan left to right for "{{", try to
    # read optional whitespace, a dotted identifier, optional whitespace and "}}".
    expected: list[str] = []
    name = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
    pos = 0
    while (start := template.find("{{", pos)) != -1:
        match = re.match(r"\{\{[ \t\n\r\f\v]*(" + name + r")[ \t\n\r\f\v]*\}\}", template[start:])
        if match:
            if match.group(1) not in expected:
                expected.append(match.group(1))
            pos = start + match.end()
        else:
            pos = start + 1
    assert find_variables(template) == tuple(expected)
