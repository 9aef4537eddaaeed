"""A property-based fuzz of the command line, in-process, on a real repository.

Every input a user (or a repository anyone can push to) controls is thrown at the
commands that read it: names, references, filters, KEY=VALUE options, templates, whole
prompt files, lock files, values files and a committed ``promptctl.yaml``. Whatever the
input, promptctl must answer as the command-line contract says: an exit code from 0 to 4,
no traceback, and on failure nothing on stdout, exactly one ``error: …`` line on stderr,
and the repository as it was (HEAD, status and every ref). Each example also has a time
bound, so a hang (a YAML bomb) fails instead of stalling CI.

Runs are derandomized so CI is reproducible, and kept small (the whole file runs in
well under a minute). Inputs found to fail for a reason outside the pure formats are
kept as explicit cases.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import Run, git, snapshot

TIME_BOUND = 20  # seconds for one command: a hang fails the test instead of stalling CI

FUZZ = settings(
    max_examples=20,
    deadline=None,  # the alarm below bounds each command; git's speed varies on CI
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# argv can hold anything but NUL; non-UTF-8 bytes reach Python as lone surrogates.
_HOSTILE_PIECES = [
    "greet", "/", "@", "..", ".", "-", "_", "latest", "v3", "production", "prompts:/", "3",
    "0", "²", "٣", "é", " ", "\t", "\n", "{{ x }}", "{x}", "'", '"', "\\", "%", "*", "&a",
    "[", "]", "{", "}", "=", ":", ".yaml", ".lock", "~", "^", "?", "\udcff", "\x7f", "\x1f",
    "AND", "OR", "NOT", "LIKE", "tags.team", "model_config.x", "name", "9" * 12,
]
HOSTILE = st.one_of(
    st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=30),
    st.lists(st.sampled_from(_HOSTILE_PIECES), min_size=1, max_size=12).map("".join),
)
YAML_PIECES = st.sampled_from([
    "template:", "model_config:", "tags:", "response_format:", "description:", " ", "\n",
    "  ", "- ", ": ", "{", "}", "[", "]", ",", "&a ", "*a", "!!int ", "!!bool ", "!!set ",
    "<<: ", "'", '"', "|", "#", "{{ x }}", "role: ", "content: ", "temperature", "0.5", "hi",
    "2024-13-45", "\t", "\x85", "é",
])
YAML_TEXT = st.one_of(
    st.text(st.characters(exclude_characters="\x00"), max_size=60),
    st.lists(YAML_PIECES, max_size=40).map("".join),
    st.just("template: hi\nresponse_format: &r {a: *r}\n"),
)


class _TimedOut(Exception):
    pass


@pytest.fixture
def fuzz(run: Run, repo_path: Path) -> Iterator[Run]:
    """``run`` on a registry holding greet version 1, every command bounded in time."""
    code, _, err = run("register", "greet", "-t", "Hello {{ x }}", "-m", "first")
    assert code == 0, err

    def alarm(signum: int, frame: object) -> None:
        raise _TimedOut(f"a command ran longer than {TIME_BOUND} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    yield run
    signal.signal(signal.SIGALRM, previous)


def check_answer(run: Run, *args: str) -> tuple[int, str, str]:
    """Run a command and assert it answers as the command-line contract says, whatever the input."""
    before = snapshot(run.repo)
    signal.alarm(TIME_BOUND)
    try:
        code, out, err = run(*args)
    finally:
        signal.alarm(0)
    assert 0 <= code <= 4, (code, err)
    assert "Traceback" not in out + err, err
    if code != 0:
        assert out == "", out
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert snapshot(run.repo) == before, "a refused command changed the repository"
    return code, out, err


def write(path: Path, data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    path.write_bytes(data)
    return str(path)


# -- names, references, aliases, filters --------------------------------------------------


@FUZZ
@given(HOSTILE)
def test_fuzz_names(fuzz: Run, name: str) -> None:
    check_answer(fuzz, "history", "--", name)
    check_answer(fuzz, "register", "-t", "hi", "--", name)


@FUZZ
@given(HOSTILE)
def test_fuzz_references(fuzz: Run, ref: str) -> None:
    for command in ("load", "show"):
        check_answer(fuzz, command, "--", ref)
    check_answer(fuzz, "diff", "--", "greet", "1", ref)


@FUZZ
@given(HOSTILE)
def test_fuzz_alias_names(fuzz: Run, alias: str) -> None:
    check_answer(fuzz, "alias", "set", "-m", "fuzz", "--", "greet", alias, "1")
    check_answer(fuzz, "alias", "delete", "-m", "fuzz", "--", "greet", alias)


@FUZZ
@given(HOSTILE)
def test_fuzz_filters(fuzz: Run, text: str) -> None:
    check_answer(fuzz, "search", "--", text)


# -- KEY=VALUE options and templates --------------------------------------------------------


@FUZZ
@given(HOSTILE, HOSTILE)
def test_fuzz_key_value_options(fuzz: Run, key: str, value: str) -> None:
    pair = f"{key}={value}"
    check_answer(fuzz, "register", "greet", "-t", "Hello {{ x }}", "--model-config", pair)
    check_answer(fuzz, "register", "greet", "-t", "Hello {{ x }}", "--tag", pair)
    check_answer(fuzz, "load", "greet", "--var", pair)


@FUZZ
@given(HOSTILE)
def test_fuzz_templates(fuzz: Run, text: str) -> None:
    code, _, _ = check_answer(fuzz, "register", "fz", f"--text={text}")
    if code == 0:
        check_answer(fuzz, "load", "fz", "--var", "x=1")


# -- files: prompt files, lock files, values files, promptctl.yaml ---------------------------


@FUZZ
@given(YAML_TEXT)
def test_fuzz_prompt_files(fuzz: Run, tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "in.yaml", text)
    check_answer(fuzz, "register", "fz", "-f", path)


@FUZZ
@given(YAML_TEXT)
def test_fuzz_check(fuzz: Run, tmp_path: Path, text: str) -> None:
    # check reports problems on stdout and exits 1: its own rules, not check_answer's.
    path = write(tmp_path / "in.yaml", text)
    signal.alarm(TIME_BOUND)
    try:
        code, out, err = fuzz("check", path)
    finally:
        signal.alarm(0)
    assert code in (0, 1) and "Traceback" not in out + err
    assert all(line.startswith(path) for line in out.splitlines())


@FUZZ
@given(st.one_of(
    YAML_TEXT,
    st.builds(lambda ref, entry: json.dumps({"lock_version": 1, "prompts": {ref: entry}}),
              HOSTILE, st.dictionaries(st.sampled_from(["name", "version", "commit", "sha256"]),
                                       st.none() | st.integers() | HOSTILE)),
))
def test_fuzz_lock_files(fuzz: Run, tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "promptctl.lock", text)
    check_answer(fuzz, "load", "greet", "--lock-file", path)


@FUZZ
@given(YAML_TEXT)
def test_fuzz_vars_files(fuzz: Run, tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "vars.yaml", text)
    check_answer(fuzz, "load", "greet", "--vars-file", path)


@FUZZ
@given(YAML_TEXT)
def test_fuzz_committed_promptctl_yaml(fuzz: Run, repo_path: Path, text: str) -> None:
    original = (repo_path / "promptctl.yaml").read_bytes()
    write(repo_path / "promptctl.yaml", text)
    git(repo_path, "commit", "-qam", "fuzz promptctl.yaml", "--allow-empty")
    try:
        check_answer(fuzz, "alias", "set", "greet", "production", "1", "-m", "fuzz")
        check_answer(fuzz, "list")
    finally:
        (repo_path / "promptctl.yaml").write_bytes(original)
        git(repo_path, "commit", "-qam", "restore promptctl.yaml", "--allow-empty")


# -- what the fuzz found outside the pure formats, kept as cases -----------------------------

@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("load", "greet/²"), id="unicode-digit-version"),
        pytest.param(("load", "greet/" + "9" * 5000), id="5000-digit-version"),
        pytest.param(("load", "greet@v3"), id="reserved-alias-in-reference"),
        pytest.param(("register", "a..b", "-t", "hi"), id="name-with-dot-dot"),
        pytest.param(("register", "support/summarize.yaml", "-t", "hi"), id="name-with-suffix"),
        pytest.param(("alias", "set", "greet", "a" * 300, "1"), id="300-char-alias-set"),
        pytest.param(
            ("alias", "delete", "greet", "a" * 300),
            id="300-char-alias-delete",
        ),
        pytest.param(
            ("alias", "delete", "greet", "production/"),
            id="alias-delete-with-slash",
        ),
        pytest.param(
            ("register", "greet", "-t", "hi", "--model-config", "x=" + "[" * 20_000),
            id="20000-deep-model-config",
        ),
        # bytes that are not UTF-8 in a message reach Python as lone surrogates
        pytest.param(("register", "greet", "-t", "v2", "-m", "a\udca0b"), id="non-utf8-message"),
        pytest.param(("alias", "set", "greet", "production", "1", "-m", "\udcff"),
                     id="non-utf8-alias-reason"),
        pytest.param(("tag", "set", "greet", "k=v", "-m", "\udcff"), id="non-utf8-tag-message"),
        pytest.param(("register", "greet", "-t", "v2", "--author", "\udcff <a@b.c>"),
                     id="non-utf8-author"),
        pytest.param(("lock", "greet", "--file", ""), id="empty-lock-file-name"),
        pytest.param(("lock", "greet", "--file", ".."), id="lock-file-names-a-folder"),
    ],
)
def test_reproducers(fuzz: Run, args: tuple[str, ...]) -> None:
    code, _, err = check_answer(fuzz, *args)
    assert code == 2, err


@pytest.mark.parametrize(
    ("data", "args"),
    [
        pytest.param(
            b"template: caf\xe9\n", ("register", "fz", "-f"),
            id="register-f-latin1",
        ),
        pytest.param(
            b"x: " + b"[" * 20_000, ("load", "greet", "--vars-file"),
            id="deep-vars-file",
        ),
        pytest.param(b'{"lock_version": 1, "prompts": ' + b"[" * 100_000 + b"}",
                     ("load", "greet", "--lock-file"), id="deep-lock-file"),
    ],
)
def test_file_reproducers(fuzz: Run, tmp_path: Path, data: bytes, args: tuple[str, ...]) -> None:
    code, _, err = check_answer(fuzz, *args, write(tmp_path / "input", data))
    assert code == 2, err


def test_a_registry_path_too_long_is_bad_input(fuzz: Run) -> None:
    code, out, err = fuzz("-r", "x" * 5000, "list", registry=False)
    assert (code, out) == (2, "")
    assert err.startswith("error: cannot use 'xxx") and "(5000 chars)" in err
    assert len(err) < 200 and err.count("\n") == 1


def test_a_registry_folder_git_cannot_name_is_refused(fuzz: Run, repo_path: Path) -> None:
    # bytes that are not UTF-8 in a folder name: a registry inside a repository there
    # would give its prompts paths Git cannot hold as text
    folder = repo_path / "app\udcf2"
    before = snapshot(repo_path)
    code, out, err = fuzz("init", str(folder), registry=False)
    assert (code, out) == (2, "")
    assert err == ("error: the registry folder 'app\\udcf2' is not UTF-8 text, which prompt "
                   "paths in Git must be: rename it\n")
    assert not os.path.lexists(folder) and snapshot(repo_path) == before
    (folder / "prompts").mkdir(parents=True)  # made by hand
    code, out, err = fuzz("-r", str(folder), "list", registry=False)
    assert (code, out) == (2, "") and "is not UTF-8 text" in err


def test_a_message_git_cannot_store_is_refused_by_the_library(repo_path: Path) -> None:
    from promptctl import InvalidInput, Registry

    with Registry(repo_path) as reg:
        before = snapshot(repo_path)
        with pytest.raises(InvalidInput, match="NUL character"):
            reg.register_prompt("greet", "hi", "one\0two")
        with pytest.raises(InvalidInput, match="not UTF-8"):
            reg.set_alias("greet", "production", 1, "\udcff")
        assert snapshot(repo_path) == before


def test_a_committed_non_utf8_prompt_is_that_prompts_problem(fuzz: Run, repo_path: Path) -> None:
    (repo_path / "prompts" / "latin1.yaml").write_bytes(b"template: caf\xe9\n")
    git(repo_path, "add", "prompts/latin1.yaml")
    git(repo_path, "commit", "-qm", "latin-1 prompt")
    code, _, err = check_answer(fuzz, "load", "latin1")
    assert code == 2 and "not UTF-8 text" in err
    assert check_answer(fuzz, "load", "greet")[0] == 0


def test_a_committed_yaml_bomb_is_that_prompts_problem(fuzz: Run, repo_path: Path) -> None:
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, below in zip("bcdefghi", "abcdefgh", strict=True):
        bomb.append(f"{name}: &{name} [{','.join(['*' + below] * 9)}]")
    text = "template: hi\nresponse_format:\n  " + "\n  ".join(bomb) + "\n"
    (repo_path / "prompts" / "bomb.yaml").write_text(text)
    git(repo_path, "add", "prompts/bomb.yaml")
    git(repo_path, "commit", "-qm", "a bomb")
    code, _, err = check_answer(fuzz, "load", "bomb")
    assert code == 2 and "expands to more than 100,000 values" in err
    assert check_answer(fuzz, "load", "greet") == (0, "Hello {{ x }}\n", "")
    assert check_answer(fuzz, "list")[0] == 0
