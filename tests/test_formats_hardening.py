"""Hostile input to every pure parser: bounded, one-line errors, never another exception.

Each reproducer of a crash or hang found against promptctl is kept here as a test; the
property-based tests below assert, over every parser in ``promptctl.formats``, that only
a :class:`PromptctlError` is ever raised, within a time bound, and that what can be
written reads back.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptctl.checker import check_paths
from promptctl.errors import (
    EXIT_USAGE,
    InvalidConfig,
    InvalidFile,
    InvalidInput,
    InvalidName,
    InvalidPromptFile,
    InvalidReference,
    PromptctlError,
)
from promptctl.formats import bounded, values
from promptctl.formats.config import parse_config
from promptctl.formats.lockfile import (
    MAX_LOCK_BYTES,
    InvalidLockFile,
    Lock,
    LockedPrompt,
    dump_lock,
    parse_lock,
    read_lock,
)
from promptctl.formats.promptfile import (
    PromptContent,
    encode_prompt,
    find_problems,
    find_warnings,
    parse_prompt,
    parse_prompt_bytes,
    parse_prompt_source,
    validate_content,
)
from promptctl.formats.references import (
    MAX_VERSION,
    PromptRef,
    parse_ref,
    parse_version_spec,
    validate_alias,
    validate_name,
)
from promptctl.formats.schema import CHAT_ROLES
from promptctl.formats.search_filter import parse_filter
from promptctl.formats.template import (
    find_near_variables,
    find_variables,
    format_template,
    to_single_brace,
)

SOURCE = "prompts/x.yaml"

# Every YAML reader promptctl has, as (function, error class it must raise).
YAML_READERS = [
    (lambda text: parse_prompt(text, SOURCE), InvalidPromptFile),
    (lambda text: parse_prompt_source(text, SOURCE), InvalidPromptFile),
    (lambda text: parse_config(text, "promptctl.yaml"), InvalidConfig),
    (lambda text: values.parse_values(text, "vars.yaml"), InvalidFile),
]


def billion_laughs(levels: int = 9) -> str:
    """The classic YAML bomb: ``levels`` lists of nine aliases of the level below."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijk"[: levels - 1]:
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
        previous = name
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    return "{a: " * depth + "1" + "}" * depth


def one_line(error: Exception) -> str:
    message = str(error)
    assert "\n" not in message and message
    return message


# -- prompt files: the reproducers ----------------------------------------------------------


def test_a_recursive_alias_is_a_clear_error_not_a_recursion_error() -> None:
    text = "template: hi\nresponse_format: &r {a: *r}\n"
    with pytest.raises(InvalidPromptFile) as caught:
        parse_prompt(text, SOURCE)
    assert one_line(caught.value) == (
        "prompts/x.yaml: not valid YAML at line 2: the alias *r is used inside the value "
        "it names (a recursive alias)"
    )
    assert [p.problem for p in find_problems(text, SOURCE)] == [caught.value.problem]


def test_990_deep_nesting_is_refused_naming_the_limit() -> None:
    text = f"template: hi\nresponse_format: {nested(990)}\n"
    with pytest.raises(InvalidPromptFile) as caught:
        parse_prompt(text, SOURCE)
    assert caught.value.problem == (
        f"nests more than {bounded.MAX_DEPTH} levels deep at line 2 (limit {bounded.MAX_DEPTH})"
    )


def test_nesting_up_to_the_limit_is_read() -> None:
    # The top-level mapping is one level; response_format may nest 49 more.
    text = f"template: hi\nresponse_format: {nested(bounded.MAX_DEPTH - 1)}\n"
    assert parse_prompt(text, SOURCE).response_format is not None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("!!int x", "cannot read 'x' as !!int"),
        ("!!float x", "cannot read 'x' as !!float"),
        ("!!bool maybe", "cannot read 'maybe' as !!bool"),
        ("!!timestamp x", "cannot read 'x' as !!timestamp"),
        ("2024-13-45", "cannot read '2024-13-45' as !!timestamp"),
        ("!!set [1]", "expected a mapping for !!set"),
    ],
)
def test_a_tagged_value_that_cannot_be_built_is_a_yaml_error(value: str, problem: str) -> None:
    text = f"template: hi\nmodel_config:\n  seed: {value}\n"
    with pytest.raises(InvalidPromptFile) as caught:
        parse_prompt(text, SOURCE)
    assert caught.value.problem == f"not valid YAML at line 3, column 9: {problem}"


@pytest.mark.parametrize("reader", [parse_prompt, parse_prompt_source])
def test_a_billion_laughs_bomb_is_refused_at_once(reader: Any) -> None:
    text = "template: hi\nresponse_format:\n  " + billion_laughs().replace("\n", "\n  ")
    assert len(text.encode()) < 620
    started = time.perf_counter()
    with pytest.raises(InvalidPromptFile) as caught:
        reader(text, SOURCE)
    assert time.perf_counter() - started < 1
    assert caught.value.problem == (
        f"expands to more than {bounded.MAX_VALUES:,} values (limit {bounded.MAX_VALUES:,}, "
        "counting a YAML alias each time it is used)"
    )


def test_a_small_bomb_through_register_f_is_refused_not_written_out() -> None:
    # A few hundred bytes that would have become a 19.7 MB prompt file.
    text = "template: hi\nmodel_config:\n  x:\n    " + billion_laughs(6).replace(
        "\n", "\n    ").strip() + "\n"
    assert len(text.encode()) < 400
    with pytest.raises(InvalidPromptFile, match="expands to more than 100,000 values"):
        parse_prompt_source(text, "bomb.yaml")


def test_a_ten_million_leaf_model_config_is_refused() -> None:
    text = "template: hi\nmodel_config:\n  extra:\n    " + billion_laughs(8).replace(
        "\n", "\n    ").strip() + "\n"
    with pytest.raises(InvalidPromptFile, match="values"):
        parse_prompt(text, SOURCE)


def test_one_long_text_repeated_by_aliases_is_refused() -> None:
    text = (f'template: &t "{"x" * 200_000}"\n'
            f"response_format: {{a: [{', '.join(['*t'] * 6)}]}}\n")
    with pytest.raises(InvalidPromptFile) as caught:
        parse_prompt(text, SOURCE)
    assert caught.value.problem.startswith(
        f"expands to more than {bounded.MAX_TEXT:,} characters of text"
    )


def test_aliases_within_the_bounds_still_work() -> None:
    text = ("model_config:\n  extra: &shared {type: string}\n"
            "response_format:\n  properties: {a: *shared, b: {<<: *shared, x: 1}}\n"
            "template: hi\n")
    content = parse_prompt(text, SOURCE)
    assert content.response_format == {
        "properties": {"a": {"type": "string"}, "b": {"type": "string", "x": 1}}
    }


def test_a_file_over_one_mebibyte_is_refused() -> None:
    text = "template: |\n" + "  line of text\n" * 80_000
    assert len(text) > bounded.MAX_FILE_BYTES
    for reader in (parse_prompt, parse_prompt_source):
        with pytest.raises(InvalidPromptFile) as caught:
            reader(text, SOURCE)
        assert caught.value.problem == "is larger than 1 MiB (the limit for one file)"


def test_non_utf8_bytes_name_the_line_and_offset() -> None:
    data = b"template: |\n  caf" + b"\xe9\n"
    with pytest.raises(InvalidPromptFile) as caught:
        parse_prompt_bytes(data, SOURCE)
    assert one_line(caught.value) == (
        "prompts/x.yaml: is not UTF-8 text: byte 0xe9 at line 2 (offset 17) cannot be "
        "decoded; save the file as UTF-8"
    )
    assert parse_prompt_bytes("template: café\n".encode(), SOURCE).template == "café"


def test_a_bomb_as_a_template_alone_is_still_refused_but_plain_text_is_a_template() -> None:
    assert parse_prompt_source("Hello {{ name }}: *not an alias*", "t.txt").template == (
        "Hello {{ name }}: *not an alias*"
    )
    with pytest.raises(InvalidPromptFile):
        parse_prompt_source(billion_laughs(), "t.txt")


def test_in_memory_content_is_bounded_too() -> None:
    looped: dict[str, Any] = {}
    looped["self"] = looped
    cases = [
        (PromptContent("t", response_format=looped), "nests more than 50 levels deep"),
        (PromptContent("t", model_config={"x": list(range(100_001))}), "more than 100,000"),
        (PromptContent("x" * (bounded.MAX_TEXT + 1)), "characters of text"),
    ]
    for content, problem in cases:
        with pytest.raises(InvalidPromptFile, match=problem):
            validate_content(content, "greet")


def test_encode_prompt_refuses_a_file_too_big_to_read_back() -> None:
    # Within the text bound, but every tab becomes "\t" in a double-quoted scalar.
    content = PromptContent("a\t \n" * 250_000)
    with pytest.raises(InvalidPromptFile) as caught:
        encode_prompt(content, "greet")
    assert caught.value.problem == "its prompt file is larger than 1 MiB (the limit for one file)"
    assert parse_prompt(encode_prompt(PromptContent("hi"), "greet").decode(), "x").template == "hi"


# -- slips: refused when written or checked, read when committed ----------------------------


@pytest.mark.parametrize(
    ("name", "meant"),
    [("temprature", "temperature"), ("maxTokens", "max_tokens"), ("top-p", "top_p"),
     ("Temperature", "temperature"), ("max_token", "max_tokens"),
     ("stop_sequence", "stop_sequences"), ("tempature", "temperature")],
)
def test_a_setting_close_to_a_known_one_is_refused_with_a_suggestion(name: str, meant: str) -> None:
    content = PromptContent("t", model_config={name: 0.3})
    with pytest.raises(InvalidPromptFile) as caught:
        validate_content(content, "greet")
    assert caught.value.key == f"model_config.{name}"
    assert caught.value.problem.startswith(f"unknown setting; did you mean '{meant}'?")
    text = f"template: t\nmodel_config:\n  {name}: 0.3\n"
    assert [p.key for p in find_problems(text, SOURCE, slips=True)] == [f"model_config.{name}"]
    # A committed version that holds it still loads: it loaded once, it loads for good.
    assert parse_prompt(text, SOURCE).model_config == {name: 0.3}
    assert find_problems(text, SOURCE) == []


@pytest.mark.parametrize("name", ["seed", "top_a", "stream", "reasoning_effort", "n", "min_p"])
def test_other_extra_settings_are_kept(name: str) -> None:
    validate_content(PromptContent("t", model_config={name: 1}), "greet")


@pytest.mark.parametrize(
    ("role", "problem"),
    [("sistem", "unknown role 'sistem'; did you mean 'system'?"),
     ("human", "unknown role 'human'; did you mean 'user'?"),
     ("asistant", "unknown role 'asistant'; did you mean 'assistant'?"),
     ("narrator", "unknown role 'narrator' (use one of " + ", ".join(CHAT_ROLES) + ")")],
)
def test_an_unknown_chat_role_is_a_problem_with_a_suggestion(role: str, problem: str) -> None:
    text = f"template:\n  - role: {role}\n    content: hi\n"
    problems = find_problems(text, SOURCE, slips=True)
    assert [(p.key, p.problem) for p in problems] == [("template[0].role", problem)]
    with pytest.raises(InvalidPromptFile, match="unknown role"):
        validate_content(parse_prompt(text, SOURCE), "greet")


@pytest.mark.parametrize("role", CHAT_ROLES)
def test_every_known_role_is_accepted(role: str) -> None:
    validate_content(PromptContent([{"role": role, "content": "hi"}]), "greet")


def test_a_numeric_model_name_gets_the_quoting_hint() -> None:
    [problem] = find_problems("template: t\nmodel_config: {model_name: 1106}\n", SOURCE)
    assert (problem.key, problem.problem) == (
        "model_config.model_name",
        "must be text, got a number (1106); put it in quotes to keep it as text",
    )


# -- near-variables ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [("Hi {{ name }!", ["{{ name }"]), ("Hi {name}!", ["{name}"]), ("{ name }}", ["{ name }}"]),
     ("{{ user-name }} and {{ 1st }}", ["{{ user-name }}", "{{ 1st }}"]),
     ("{{ name }} {{{ x }}} {{a.b}}", []), ('JSON {"a": 1} and {{"b": 2}}', []), ("", [])],
)
def test_near_variables_are_found_and_real_ones_never(text: str, found: list[str]) -> None:
    assert [near.text for near in find_near_variables(text)] == found


def test_find_warnings_names_the_key() -> None:
    chat = PromptContent([{"role": "system", "content": "ok"},
                          {"role": "user", "content": "Q: {question}"}])
    assert find_warnings(chat) == [(
        "template[1].content",
        "{question} is literal text, not a variable (write {{ question }} for a variable)",
    )]
    assert find_warnings(PromptContent("fine {{ x }}")) == []


# -- promptctl.yaml, lock files, values ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["protected_aliases: &r {production: *r}\n",
     f"protected_aliases: {nested(990)}\n",
     billion_laughs(),
     "version: !!int x\n",
     "protected_aliases:\n  production: {}\n  production: {require_reason: false}\n"],
)
def test_promptctl_yaml_is_bounded_and_errors_are_one_line(text: str) -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_config(text, "promptctl.yaml")
    assert one_line(caught.value).startswith("promptctl.yaml: ")


def test_a_deeply_nested_lock_file_is_refused_not_a_recursion_error() -> None:
    text = '{"lock_version": 1, "prompts": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(InvalidLockFile) as caught:
        parse_lock(text, "promptctl.lock")
    assert caught.value.problem == "nests more than 50 levels deep (limit 50)"


@pytest.mark.parametrize(
    ("text", "problem"),
    [('{"lock_version": NaN, "prompts": {}}', "not valid JSON (NaN is not a JSON value)"),
     ('{"lock_version": "' + "x" * 1000 + '"}',
      ("lock_version: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
       " is not supported (expected 1)")),
     ('{"lock_version": true, "prompts": {}}', "lock_version: True is not supported (expected 1)"),
     ('{"lock_version": 1, "prompts": {"a/99999999999": {}}}',
      "a/99999999999: invalid reference 'a/99999999999': version numbers go up to 1,000,000,000")],
)
def test_lock_file_errors_are_short_and_one_line(text: str, problem: str) -> None:
    with pytest.raises(InvalidLockFile) as caught:
        parse_lock(text, "promptctl.lock")
    assert one_line(caught.value) == f"promptctl.lock: {problem}"


def test_read_lock_reads_dev_zero_and_huge_files_in_bounds(tmp_path: Path) -> None:
    with pytest.raises(InvalidLockFile) as caught:
        read_lock("/dev/zero")
    assert caught.value.problem == "is larger than 16 MiB (the limit for one file)"
    big = tmp_path / "big.lock"
    big.write_bytes(b" " * (MAX_LOCK_BYTES + 1))
    with pytest.raises(InvalidLockFile, match="larger than 16 MiB"):
        read_lock(big)
    latin1 = tmp_path / "latin1.lock"
    latin1.write_bytes(b'{"lock_version": "\xe9"}')
    with pytest.raises(InvalidLockFile, match="not UTF-8 text: byte 0xe9 at line 1"):
        read_lock(latin1)


def test_parse_values_reads_json_and_yaml_mappings_only() -> None:
    assert values.parse_values('{"a": 1, "b": [2]}', "v.json") == {"a": 1, "b": [2]}
    assert values.parse_values("a: x\n", "v.yaml") == {"a": "x"}
    for text, problem in [("[1]", "must hold a mapping"), ("1: x", "variable name 1"),
                          ("a: " + nested(60), "nests more than"), (billion_laughs(), "values")]:
        with pytest.raises(InvalidFile, match=problem):
            values.parse_values(text, "v.yaml")


def test_read_values_file_is_bounded_and_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidFile, match="larger than 1 MiB"):
        values.read_values_file(Path("/dev/zero"))
    with pytest.raises(InvalidFile) as caught:
        values.read_values_file(tmp_path / "nope.json")
    assert (caught.value.exit_code, caught.value.problem) == (EXIT_USAGE, "no such file")


@pytest.mark.parametrize(
    ("text", "value"),
    [(".5", 0.5), ("-.5", -0.5), ("0.2", 0.2), ("400", 400), ("1106", 1106), ("true", True),
     ('["a"]', ["a"]), ('"q"', "q"), ("gpt-4o", "gpt-4o"), ("", ""), ("NaN", "NaN"),
     ("-Infinity", "-Infinity"), ("[[[[", "[[[["), ("1" * 5000, "1" * 5000)],
)
def test_setting_values_are_typed_as_before_but_for_bare_fractions(text: str, value: Any) -> None:
    assert values.parse_setting_value(text) == value
    assert type(values.parse_setting_value(text)) is type(value)


def test_a_20000_deep_setting_value_is_refused() -> None:
    with pytest.raises(InvalidInput, match="nests more than 50 levels deep"):
        values.parse_setting_value("[" * 20_000)


# -- references and names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [("greet/²", "use only letters, digits, '.', '_', '-' and '/' between segments"),
     ("greet/" + "9" * 30, "version numbers go up to 1,000,000,000"),
     ("greet/" + "9" * 5000, "version numbers go up to 1,000,000,000"),
     ("greet/0", "versions are numbered from 1"),
     ("greet@v3", "v3 is not an alias: did you mean greet/3?"),
     ("prompts:/team/greet@v12", "v12 is not an alias: did you mean team/greet/12?"),
     ("greet@" + "a" * 300, "an alias is at most 100 characters"),
     ("a..b", "'..' is not allowed"),
     ("support/summarize.yaml", "a name has no file suffix: did you mean 'support/summarize'?")],
)
def test_bad_references_are_invalid_references(text: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_ref(text)
    assert caught.value.reason == reason
    assert caught.value.exit_code == EXIT_USAGE


def test_versions_up_to_the_bound_parse() -> None:
    assert parse_ref(f"greet/{MAX_VERSION}") == PromptRef("greet", version=MAX_VERSION)
    assert parse_ref("greet/007") == PromptRef("greet", version=7)
    assert parse_version_spec("greet", "v3") == PromptRef("greet", version=3)
    for spec in ("²", "v²", "9" * 5000):
        with pytest.raises(InvalidReference):
            parse_version_spec("greet", spec)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("a..b", "'..' is not allowed"), ("a./b", "a segment may not end with '.'"),
     ("x.", "a segment may not end with '.'"),
     ("x.yml", "a name has no file suffix: did you mean 'x'?"),
     ("support/summarize.yaml", "a name has no file suffix: did you mean 'support/summarize'?")],
)
def test_names_git_or_windows_cannot_hold_are_refused(name: str, reason: str) -> None:
    with pytest.raises(InvalidName) as caught:
        validate_name(name)
    assert caught.value.reason == reason


def test_a_300_character_alias_is_an_invalid_name() -> None:
    with pytest.raises(InvalidName) as caught:
        validate_alias("a" * 300)
    assert caught.value.exit_code == EXIT_USAGE


_REF_CHARS = st.sampled_from([*"abZ09._-/@{}~^: \\*?[]", "..", ".lock", "²", "é"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_REF_CHARS, min_size=1, max_size=12).map("".join))
def test_every_name_validate_name_accepts_is_a_valid_git_ref(name: str) -> None:
    try:
        validate_name(name)
    except InvalidName:
        return
    for ref in (f"refs/tags/prompts/{name}@production", f"refs/tags/prompts/{name}@x"):
        checked = subprocess.run(["git", "check-ref-format", ref], capture_output=True,
                                 check=False)
        assert checked.returncode == 0, ref


# -- the checker -----------------------------------------------------------------------------


@pytest.fixture
def registry_dir(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "prompts").mkdir(parents=True)
    (root / "promptctl.yaml").write_text("version: 1\n")
    (root / "prompts" / "good.yaml").write_text("template: hi {{ x }}\n")
    return root


def problems_of(root: Path, *paths: Path) -> list[tuple[str, str]]:
    report = check_paths(list(paths) or [root / "prompts"], root=root)
    return [(os.path.relpath(p.source, root), p.problem) for p in report.problems]


def test_check_does_not_follow_a_symlink_out_of_the_registry(registry_dir: Path) -> None:
    (registry_dir / "prompts" / "pw.yaml").symlink_to("/etc/passwd")
    report = check_paths([registry_dir / "prompts"], root=registry_dir)
    [problem] = report.problems
    assert problem.problem == "is a symlink pointing outside the registry (not read)"
    assert "root:" not in str(problem) and "/etc" not in str(problem)
    # Without root, the folder holding promptctl.yaml is the registry.
    assert check_paths([registry_dir / "prompts"]).problems[0].problem == problem.problem


def test_check_does_not_follow_a_symlinked_prompts_folder(registry_dir: Path,
                                                          tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("not: a prompt\n")
    (registry_dir / "prompts" / "team").symlink_to(outside)
    assert problems_of(registry_dir) == [
        ("prompts/team", "is a symlink pointing outside the registry (not read)")
    ]
    assert problems_of(registry_dir, registry_dir / "prompts" / "team" / "secret.yaml") == [
        ("prompts/team/secret.yaml",
         "is in a symlinked folder pointing outside the registry (not read)")
    ]
    moved = tmp_path / "moved"
    (registry_dir / "prompts").rename(moved)
    (registry_dir / "prompts").symlink_to(moved)
    assert problems_of(registry_dir) == [
        ("prompts", "is a symlink pointing outside the registry (not read)")
    ]


def test_a_symlink_inside_the_registry_is_reported_not_followed(registry_dir: Path) -> None:
    (registry_dir / "prompts" / "alias.yaml").symlink_to("good.yaml")
    assert problems_of(registry_dir) == [(
        "prompts/alias.yaml",
        ("is a symlink (to prompts/good.yaml); Git stores the link, not the file, so promptctl "
        "cannot read it as a prompt: make it a regular file"),
    )]


def test_check_reads_no_device_or_fifo_and_bounds_every_read(registry_dir: Path) -> None:
    fifo = registry_dir / "prompts" / "pipe.yaml"
    os.mkfifo(fifo)  # nobody writes to it: a plain open() would block for ever
    (registry_dir / "prompts" / "big.yaml").write_bytes(b"#" * (bounded.MAX_FILE_BYTES + 1))
    assert problems_of(registry_dir) == [
        ("prompts/big.yaml", "is larger than 1 MiB (the limit for one file)"),
        ("prompts/pipe.yaml", "cannot read: not a regular file"),
    ]
    report = check_paths([Path("/dev/zero")])
    assert [p.problem for p in report.problems] == ["cannot read: not a regular file"]


def test_check_reports_non_utf8_and_yml_files(registry_dir: Path) -> None:
    (registry_dir / "prompts" / "latin1.yaml").write_bytes(b"template: caf\xe9\n")
    (registry_dir / "prompts" / "b.yml").write_text("template: hi\n")
    assert problems_of(registry_dir) == [
        ("prompts/b.yml", ("not a prompt file: promptctl reads only '.yaml' files "
                          "(rename it b.yaml)")),
        ("prompts/latin1.yaml", ("is not UTF-8 text: byte 0xe9 at line 1 (offset 13) cannot "
                                "be decoded; save the file as UTF-8")),
    ]
    assert problems_of(registry_dir, registry_dir / "prompts" / "b.yml")[0][1].startswith(
        "not a prompt file"
    )


def test_check_warns_about_near_variables_without_failing(registry_dir: Path) -> None:
    (registry_dir / "prompts" / "near.yaml").write_text("template: 'Hi {{ name }!'\n")
    report = check_paths([registry_dir / "prompts"], root=registry_dir)
    assert report.ok and report.files == 2
    assert [str(w).replace(str(registry_dir) + "/", "") for w in report.warnings] == [
        ("prompts/near.yaml: template: {{ name } is literal text, not a variable "
        "(write {{ name }} for a variable)")
    ]
    assert report.to_dict()["warnings"][0]["key"] == "template"


def test_check_reports_slips(registry_dir: Path) -> None:
    (registry_dir / "prompts" / "chat.yaml").write_text(
        "template:\n  - {role: sistem, content: hi}\n")
    assert problems_of(registry_dir) == [
        ("prompts/chat.yaml", "unknown role 'sistem'; did you mean 'system'?")
    ]


# -- properties over every parser ------------------------------------------------------------

# Text that reaches the interesting corners: YAML and JSON punctuation, anchors and
# aliases, tags, braces, digits, non-ASCII digits, control characters.
_PIECES = st.sampled_from(
    ["template:", "model_config:", "tags:", "response_format:", "description:", " ", "\n",
     "  ", "- ", ": ", "{", "}", "[", "]", ",", "&a ", "*a", "&b ", "*b", "!!int ", "!!str ",
     "!!bool ", "!!float ", "!!set ", "!!timestamp ", "<<: ", "'", '"', "|", ">", "#", "?",
     "{{ x }}", "{x}", "role: ", "content: ", "temperature", "0.5", ".5", "1e400", "2024-13-45",
     "NaN", "true", "null", "~", "\t", "\x00", "\x85", "\ufeff", "²", "é", "@", "/", "..", "v3",
     "%", "_", "AND", "OR", "NOT", "LIKE", "=", "name", "tags.team", "lock_version", "prompts",
     "1", "0", "-1", "99999999999"]
)
HOSTILE = st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=40).map("".join))
FAST = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def only_promptctl_errors(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except PromptctlError as error:
        one_line(error)
        return error


@FAST
@given(HOSTILE)
def test_yaml_readers_raise_only_promptctl_errors(text: str) -> None:
    for reader, error in YAML_READERS:
        result = only_promptctl_errors(reader, text)
        assert not isinstance(result, PromptctlError) or isinstance(result, error)
    problems = find_problems(text, SOURCE, slips=True)
    assert all(one_line(problem) for problem in problems)


@FAST
@given(HOSTILE)
def test_prompt_bytes_raise_only_invalid_prompt_file(text: str) -> None:
    for data in (text.encode("utf-8", "surrogatepass"), text.encode("latin-1", "replace")):
        result = only_promptctl_errors(parse_prompt_bytes, data, SOURCE)
        assert not isinstance(result, PromptctlError) or isinstance(result, InvalidPromptFile)


@FAST
@given(HOSTILE)
def test_names_references_and_filters_raise_only_promptctl_errors(text: str) -> None:
    ref = only_promptctl_errors(parse_ref, text)
    if isinstance(ref, PromptRef):  # round trip: the canonical form means the same
        assert parse_ref(str(ref)) == ref
    only_promptctl_errors(validate_name, text)
    only_promptctl_errors(validate_alias, text)
    only_promptctl_errors(parse_version_spec, "greet", text)
    only_promptctl_errors(parse_filter, text)


@FAST
@given(HOSTILE)
def test_lock_files_and_setting_values_raise_only_promptctl_errors(text: str) -> None:
    for candidate in (text, json.dumps({"lock_version": 1, "prompts": {text: {}}})):
        lock = only_promptctl_errors(parse_lock, candidate, "promptctl.lock")
        if isinstance(lock, Lock):
            assert parse_lock(dump_lock(lock), "promptctl.lock") == lock
    value = only_promptctl_errors(values.parse_setting_value, text)
    if not isinstance(value, (str, PromptctlError)):
        assert json.loads(json.dumps(value)) == value


@FAST
@given(HOSTILE)
def test_templates_raise_only_promptctl_errors(text: str) -> None:
    names = find_variables(text)
    assert format_template(text, dict.fromkeys(names, "v"), allow_partial=True) is not None
    single = to_single_brace(text)
    assert single.format(**dict.fromkeys(names, "v")) == format_template(
        text, dict.fromkeys(names, "v"))
    find_near_variables(text)


@FAST
@given(st.sampled_from(["&a", "*a", "[", "{", "a: ", "- "]), st.integers(1, 5000))
def test_repeated_structure_is_bounded_in_time(piece: str, count: int) -> None:
    text = "template: hi\nresponse_format:\n  x: " + piece * count + "\n"
    only_promptctl_errors(parse_prompt, text, SOURCE)


_LOCKED = st.builds(
    LockedPrompt,
    ref=st.just("greet@latest"), name=st.just("greet"), version=st.integers(1, MAX_VERSION),
    commit=st.text("0123456789abcdef", min_size=40, max_size=40),
    sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
)


@FAST
@given(_LOCKED)
def test_lock_files_round_trip(pin: LockedPrompt) -> None:
    lock = Lock.of([pin])
    assert parse_lock(dump_lock(lock), "promptctl.lock") == lock


@FAST
@given(st.dictionaries(st.text(max_size=10), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=10), max_size=4))
def test_values_files_round_trip_as_json(data: dict[str, Any]) -> None:
    assert values.parse_values(json.dumps(data), "v.json") == data
    assert values.parse_values(yaml.safe_dump(data), "v.yaml") == data
