"""The CLI as a git and gh user expects it: global options anywhere, completion, help,
colour, ``edit``, warnings and hints, ``diff --fail-on-breaking``, and the README's tour."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shlex
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from promptctl import Registry
from promptctl.cli.app import command
from promptctl.cli.help import Command

from .helpers import Run, git, snapshot, tick

ROOT = Path(__file__).resolve().parent.parent
ESC = "\x1b["


@pytest.fixture
def greet(run: Run) -> Run:
    """``run``, with prompt ``greet`` at version 1 (``Hello {{ name }}!``)."""
    assert run("register", "greet", "-t", "Hello {{ name }}!", "-m", "first")[0] == 0
    return run


# -- global options anywhere ---------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["list", "--json"],
    ["--json", "list"],
    ["list", "-r", "{repo}", "--json"],
    ["alias", "list", "--json"],
    ["alias", "--json", "list"],
    ["search", "name = 'greet'", "--json"],
])
def test_json_goes_anywhere(greet: Run, repo_path: Path, args: list[str]) -> None:
    argv = [a.replace("{repo}", str(repo_path)) for a in args]
    code, out, err = greet(*argv)
    assert (code, err) == (0, "")
    assert isinstance(json.loads(out), list)


def test_registry_goes_after_the_command_and_wins_over_the_environment(
    greet: Run, repo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    Registry.init(other).close()
    monkeypatch.setenv("PROMPTCTL_REGISTRY", str(other))
    monkeypatch.chdir(tmp_path)
    assert greet("load", "greet", registry=False)[0] == 3  # the environment's registry
    assert greet("load", "greet", "-r", str(repo_path), registry=False)[1] == "Hello {{ name }}!\n"
    # Rightmost wins, as for any repeated option.
    code, out, _ = greet("-r", str(other), "load", "greet", "--registry", str(repo_path),
                         registry=False)
    assert (code, out) == (0, "Hello {{ name }}!\n")


def test_option_values_and_arguments_that_look_like_global_options(greet: Run) -> None:
    code, out, _ = greet("register", "s", "-t", "--json", "-m", "-r")
    assert code == 0 and out.startswith("s version 1 ")  # not JSON: --json was the text
    assert greet("load", "s")[1] == "--json\n"
    assert json.loads(greet("--json", "history", "s")[1])[0]["message"] == "-r"
    code, out, err = greet("load", "--", "--json")  # after --, a reference
    assert (code, out) == (3, "") and "'--json' not found" in err


def test_version_anywhere_and_never_from_a_version_argument(greet: Run) -> None:
    code, out, _ = greet("load", "greet", "--version")
    assert code == 0 and re.fullmatch(r"promptctl \S+\n", out)
    code, out, _ = greet("alias", "set", "greet", "production", "1")
    assert code == 0 and out.startswith("greet@production → version 1")


# -- shell completion ------------------------------------------------------------------------


def _complete(run: Run, monkeypatch: pytest.MonkeyPatch, line: str) -> list[str]:
    """What bash completion offers for the last word of ``line`` (empty after a space)."""
    words = line.split(" ")
    monkeypatch.setenv("_PROMPTCTL_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", str(len(words) - 1))
    code, out, err = run(registry=False)
    assert (code, err) == (0, "")
    return out.split()


@pytest.fixture
def completing(greet: Run, repo_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``greet`` at versions 1 and 2, alias production on 1, prompt support/summarize."""
    greet("register", "greet", "-t", "Hi {{ name }}!")
    greet("alias", "set", "greet", "production", "1")
    greet("register", "support/summarize", "-t", "Sum {{ t }}")
    monkeypatch.setenv("PROMPTCTL_REGISTRY", str(repo_path))
    return greet


@pytest.mark.parametrize(("line", "offered"), [
    ("promptctl load ", ["greet", "support/summarize"]),
    ("promptctl load su", ["support/summarize"]),
    ("promptctl load greet@", ["greet@production", "greet@latest"]),
    ("promptctl load greet/", ["greet/1", "greet/2"]),
    ("promptctl show prompts:/gr", ["prompts:/greet"]),
    ("promptctl history ", ["greet", "support/summarize"]),
    ("promptctl diff greet ", ["1", "2", "production", "latest"]),
    ("promptctl diff greet 1 p", ["production"]),
    ("promptctl alias set greet ", ["production"]),
    ("promptctl alias set greet production ", ["1", "2"]),
    ("promptctl lock greet@p", ["greet@production"]),
    ("promptctl edit g", ["greet"]),
])
def test_completes_names_references_versions_and_aliases(
    completing: Run, monkeypatch: pytest.MonkeyPatch, line: str, offered: list[str]
) -> None:
    assert _complete(completing, monkeypatch, line) == offered


def test_completion_reads_the_registry_option_on_the_line(
    completing: Run, repo_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTCTL_REGISTRY", str(tmp_path / "nowhere"))
    assert _complete(completing, monkeypatch, "promptctl load gr") == []
    assert _complete(completing, monkeypatch, f"promptctl load -r {repo_path} gr") == ["greet"]


def test_completion_without_a_registry_offers_nothing_and_says_nothing(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert _complete(run, monkeypatch, "promptctl load ") == []


def test_show_completion_prints_the_script(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    code, out, _ = run("--show-completion", "bash", registry=False)
    assert code == 0 and "_PROMPTCTL_COMPLETE=complete_bash" in out


# -- help ------------------------------------------------------------------------------------


def _commands() -> list[tuple[list[str], object]]:
    found = []

    def walk(path: list[str], cmd: object) -> None:
        subs = getattr(cmd, "commands", None)
        if subs is None:
            found.append((path, cmd))
        for name, sub in (subs or {}).items():
            walk([*path, name], sub)

    walk([], command())
    return found


@pytest.mark.parametrize(("path", "cmd"), _commands(), ids=lambda p: " ".join(p)
                         if isinstance(p, list) else "")
def test_every_command_has_examples_plain_placeholders_and_option_help(
    run: Run, path: list[str], cmd: object
) -> None:
    code, out, _ = run(*path, "--help", registry=False)
    assert code == 0
    assert "\nExamples:\n" in out.replace("  Examples:", "Examples:")
    assert not re.search(r"<[a-z]+>|\{[a-z_]+\}", out), out
    usage = out.splitlines()[0]
    assert usage.startswith(f"Usage: promptctl {' '.join(path)} [OPTIONS]")
    assert isinstance(cmd, Command)
    for param in cmd.params:
        if param.param_type_name == "option":
            assert getattr(param, "help", None), f"{' '.join(path)}: {param.opts} has no help"


def test_help_keeps_example_lines_as_written(run: Run) -> None:
    out = run("register", "--help", registry=False)[1]
    assert "\n    promptctl register greet -t 'Hello {{ name }}!' -m \"First greeting\"\n" in out
    assert re.search(r"--model-config KEY=VALUE +A model setting", out)
    assert "Usage: promptctl register [OPTIONS] NAME\n" in out
    assert "Usage: promptctl diff [OPTIONS] [NAME] [FROM] [TO]\n" in run(
        "diff", "--help", registry=False)[1]


# -- colour ------------------------------------------------------------------------------------


def _as_terminal(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """stdout is a terminal (the test's capture, really) and NO_COLOR is not set.

    Called in the test itself: the capture a fixture would patch is not the one the
    test's commands write to.
    """
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return monkeypatch


def test_tables_are_bold_only_on_a_terminal_without_no_color(
    greet: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _as_terminal(monkeypatch)
    assert f"{ESC}1m" in greet("list")[1]
    terminal.setenv("NO_COLOR", "")  # any value, even empty
    out = greet("list")[1]
    assert ESC not in out and "greet" in out
    terminal.delenv("NO_COLOR")
    terminal.setattr(sys.stdout, "isatty", lambda: False)
    out = greet("list")[1]
    assert ESC not in out and "greet" in out


def test_table_cells_are_text_not_markup(run: Run) -> None:
    run("register", "b", "-t", "x", "--description", "[bold]beta[/bold] prompt")
    assert "[bold]beta[/bold] prompt" in run("list")[1]


def test_tables_are_aligned_plain_text_one_row_per_line(run: Run) -> None:
    run("register", "a", "-t", "x", "--description", "first line\nsecond\x1b[31m red")
    run("register", "support/b", "-t", "y", "--description", "日本語 text")
    run("alias", "set", "a", "production", "1")
    code, out, _ = run("list")
    assert code == 0
    assert out.splitlines() == [
        "name       latest  aliases        description",
        "a          1       production→v1  first line second [31m red",
        "support/b  1                      日本語 text",
    ]
    code, out, _ = run("history", "a")
    lines = out.splitlines()
    assert lines[0] == "a"  # the title
    assert re.fullmatch(r"version  commit      date              author +note +aliases", lines[1])
    assert re.fullmatch(r"1        [0-9a-f]{10}  \d{4}-\d\d-\d\d \d\d:\d\d  .+  production",
                        lines[2])


def test_a_long_last_cell_folds_under_its_column_on_a_terminal_only(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = "a description long enough to need more than one line of a narrow terminal"
    run("register", "a", "-t", "x", "--description", words)
    monkeypatch.setenv("COLUMNS", "60")
    assert run("list")[1].splitlines()[1] == f"a     1                {words}"  # a pipe
    _as_terminal(monkeypatch).setenv("NO_COLOR", "1")
    assert run("list")[1].splitlines() == [
        "name  latest  aliases  description",
        "a     1                a description long enough to need",  # 60 columns
        "                       more than one line of a narrow",
        "                       terminal",
    ]


def test_diffs_are_coloured_on_a_terminal_and_plain_elsewhere(
    greet: Run, repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _as_terminal(monkeypatch)
    base = git(repo_path, "rev-parse", "HEAD").strip()
    greet("register", "greet", "-t", "Hi {{ name }}!\n-- Ana\n")
    out = greet("diff", "greet", "1", "2")[1]
    assert f"{ESC}1m--- prompts:/greet/1{ESC}0m\n{ESC}1m+++ prompts:/greet/2{ESC}0m\n" in out
    assert f"{ESC}31m-Hello {{{{ name }}}}!{ESC}0m" in out
    assert f"{ESC}32m+Hi {{{{ name }}}}!{ESC}0m" in out
    assert f"{ESC}36m@@" in out
    assert f"\n{ESC}31m--- Ana{ESC}0m" in greet("diff", "greet", "2", "1")[1]  # not a header
    assert f"  {ESC}32m+Hi" in greet("diff", "--base", base)[1]
    terminal.setenv("NO_COLOR", "1")
    out = greet("diff", "greet", "1", "2")[1]
    assert ESC not in out and "\n+Hi {{ name }}!\n+-- Ana\n" in out
    assert ESC not in greet("diff", "--base", base)[1]


# -- edit --------------------------------------------------------------------------------------


def _editor(tmp_path: Path, name: str, script: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.fixture
def edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of its own for temporary files (so leftovers can be seen), no $VISUAL."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.delenv("VISUAL", raising=False)
    return folder


def test_edit_registers_what_the_editor_saved(
    greet: Run, tmp_path: Path, edits: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "ed", "sed -i 's/Hello/Hi/' \"$1\""))
    code, out, err = greet("edit", "greet")
    assert (code, err) == (0, "changed: template\n") and out.startswith("greet version 2 ")
    assert greet("load", "greet")[1] == "Hi {{ name }}!\n"
    assert json.loads(greet("--json", "history", "greet")[1])[1]["message"] == "Edit greet"
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "ed2", "sed -i 's/Hi/Hey/' \"$1\""))
    assert greet("edit", "greet", "-m", "Friendlier")[0] == 0
    assert json.loads(greet("--json", "history", "greet")[1])[2]["message"] == "Friendlier"
    assert list(edits.iterdir()) == []


def test_edit_prefers_visual_and_splits_the_command(
    greet: Run, tmp_path: Path, edits: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = _editor(tmp_path, "ed", "sed -i \"s/Hello/$1/\" \"$2\"")
    monkeypatch.setenv("VISUAL", f"{script} 'Good day'")
    monkeypatch.setenv("EDITOR", "false")
    assert greet("edit", "greet")[0] == 0
    assert greet("load", "greet")[1] == "Good day {{ name }}!\n"


def test_edit_without_changes_registers_nothing(
    greet: Run, repo_path: Path, edits: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", "true")
    before = snapshot(repo_path)
    code, out, err = greet("edit", "greet")
    assert (code, out) == (0, "") and err == "no changes: greet stays at version 1\n"
    assert snapshot(repo_path) == before and list(edits.iterdir()) == []


@pytest.mark.parametrize(("editor", "fragment"), [
    ("false", "error: editor 'false' exited with code 1; nothing registered"),
    ("/no/such/editor", "error: editor '/no/such/editor' could not be started"),
])
def test_edit_aborts_when_the_editor_fails(
    greet: Run, repo_path: Path, edits: Path, monkeypatch: pytest.MonkeyPatch,
    editor: str, fragment: str,
) -> None:
    monkeypatch.setenv("EDITOR", editor)
    before = snapshot(repo_path)
    code, out, err = greet("edit", "greet")
    assert (code, out) == (1, "") and err.startswith(fragment) and err.count("\n") == 1
    assert snapshot(repo_path) == before and list(edits.iterdir()) == []


def test_edit_that_cannot_be_registered_is_kept(
    greet: Run, repo_path: Path, tmp_path: Path, edits: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "ed", "echo 'template: [oops' > \"$1\""))
    before = snapshot(repo_path)
    code, out, err = greet("edit", "greet")
    assert (code, out) == (2, "")
    kept, failure = err.splitlines()
    assert kept.startswith("your edit is kept in ") and failure.startswith("error: ")
    assert Path(kept.removeprefix("your edit is kept in ")).read_text() == "template: [oops\n"
    assert snapshot(repo_path) == before


@pytest.mark.parametrize(("name", "code", "fragment"), [
    ("nope", 3, "'nope' not found"),
    ("greet@production", 2, "invalid prompt name"),
])
def test_edit_of_what_is_not_a_prompt_fails_before_the_editor_opens(
    greet: Run, edits: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: int, fragment: str
) -> None:
    monkeypatch.setenv("EDITOR", "false")  # would exit 1 if it ran
    got, out, err = greet("edit", name)
    assert (got, out) == (code, "") and fragment in err and err.count("\n") == 1


# -- response format ---------------------------------------------------------------------


def test_register_response_format_from_json_or_a_file(run: Run, tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"summary": {"type": "string"}}}
    code, _, err = run("register", "rf", "-t", "T", "--response-format", json.dumps(schema))
    assert (code, err) == (0, "changed: template, response_format\n")
    shown = json.loads(run("--json", "show", "rf")[1])
    assert shown["response_format"] == schema and shown["model_config"] == {}
    assert f"\nresponse_format: {json.dumps(schema)}\n" in run("show", "rf")[1]
    schema_file = tmp_path / "schema.yaml"
    schema_file.write_text("type: array\n")
    assert run("register", "rf", "-t", "T", "--response-format", f"@{schema_file}")[0] == 0
    assert json.loads(run("--json", "show", "rf")[1])["response_format"] == {"type": "array"}


@pytest.mark.parametrize(("value", "fragment"), [
    ("{type: object", "--response-format is not valid JSON"),
    ("@/no/such/file.json", "--response-format: cannot read /no/such/file.json"),
    ("[1, 2]", "response_format: must be a mapping"),
])
def test_bad_response_format_is_refused(run: Run, repo_path: Path, value: str,
                                        fragment: str) -> None:
    before = snapshot(repo_path)
    code, out, err = run("register", "rf", "-t", "T", "--response-format", value)
    assert (code, out) == (2, "") and fragment in err and err.count("\n") == 1
    assert snapshot(repo_path) == before


# -- variables ----------------------------------------------------------------------------


def test_var_the_prompt_does_not_use_is_a_warning(run: Run) -> None:
    run("register", "s", "-t", "{{ ticket }} in {{ n }}; {{ user.name }}")
    code, out, err = run("load", "s", "--var", "ticket=T", "--var", "n=2",
                         "--var", "user.name=Ada", "--var", "tickt=x")
    assert (code, out) == (0, "T in 2; Ada\n")
    assert err == "warning: --var tickt is not a variable of s (variables: ticket, n, user.name)\n"
    assert run("load", "s", "--var", "ticket=T", "--var", "n=2", "--var", "user.name=A")[2] == ""


def test_missing_variable_says_which_var_to_pass(run: Run) -> None:
    run("register", "s", "-t", "{{ ticket }} in {{ n }}")
    code, out, err = run("load", "s", "--var", "tickt=T")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        ("error: missing value for variable(s): n, ticket "
        "(pass --var n=… --var ticket=…; --var tickt is not a variable)"),
    ]


# -- diff ----------------------------------------------------------------------------------


def test_fail_on_breaking_for_two_versions(run: Run) -> None:
    run("register", "s", "-t", "{{ a }}")
    run("register", "s", "-t", "Now {{ a }}")
    run("register", "s", "-t", "Now {{ a }} and {{ b }}")
    assert run("diff", "s", "1", "2", "--fail-on-breaking")[0] == 0
    code, out, err = run("diff", "s", "2", "3", "--fail-on-breaking")
    assert code == 1 and "variables added: b" in out
    assert err == "1 breaking change(s); exit 1 (--fail-on-breaking)\n"
    assert run("diff", "s", "3", "2", "--fail-on-breaking")[0] == 1  # b removed
    assert run("diff", "s", "2", "3")[0] == 0


def test_fail_on_breaking_for_a_review(run: Run, repo_path: Path) -> None:
    run("register", "a", "-t", "{{ x }}")
    run("register", "b", "-t", "{{ y }}")
    base = git(repo_path, "rev-parse", "HEAD").strip()
    run("register", "a", "-t", "Now {{ x }}")
    assert run("diff", "--base", base, "--fail-on-breaking")[0] == 0
    run("register", "b", "-t", "{{ y }} {{ z }}")
    for fmt in ("text", "markdown", "json"):
        code, out, err = run("diff", "--base", base, "--format", fmt, "--fail-on-breaking")
        assert code == 1 and out and "1 breaking change(s)" in err


def test_text_diffs_show_values_as_json(run: Run, repo_path: Path) -> None:
    run("register", "s", "-t", "T", "--model-config", "temperature=0.2",
        "--model-config", "model_name=gpt-4o", "--description", "old")
    base = git(repo_path, "rev-parse", "HEAD").strip()
    run("register", "s", "-t", "T", "--model-config", "temperature=0.1",
        "--model-config", "model_name=gpt-4o-mini", "--tag", "team=web", "--description", "new")
    expected = ['description: "old" → "new"',
                "model_config.model_name: \"gpt-4o\" → \"gpt-4o-mini\"",
                "model_config.temperature: 0.2 → 0.1", 'tags.team: (none) → "web"']
    out = run("diff", "s", "1", "2")[1]
    review = run("diff", "--base", base)[1]
    for line in expected:
        assert f"\n{line}\n" in out and f"\n  {line}\n" in review
    assert "None" not in out + review and "'" not in out + review


# -- index progress --------------------------------------------------------------------------


def _long_history(repo: Path, commits: int) -> None:
    """``commits`` more versions of prompt ``p``, made quickly with git fast-import."""
    tip = git(repo, "rev-parse", "HEAD").strip()
    stream = io.StringIO()
    for i in range(commits):
        body = f"template: version {i}\n"
        stream.write(f"commit refs/heads/main\ncommitter T <t@example.com> {1_700_000_000 + i} "
                     f"+0000\ndata 1\nv\n")
        if i == 0:
            stream.write(f"from {tip}\n")
        stream.write(f"M 100644 inline prompts/p.yaml\ndata {len(body)}\n{body}\n")
    import subprocess

    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream.getvalue(),
                   text=True, check=True)
    git(repo, "checkout", "-f", "main")


def test_first_index_build_says_so_once_when_stderr_is_not_a_terminal(
    run: Run, repo_path: Path
) -> None:
    _long_history(repo_path, 2500)
    code, out, err = run("list")
    assert code == 0 and "p " in out
    assert err == "indexing history (2501 commits)…\n"
    assert run("list")[2] == ""  # built: nothing more to say


def test_first_index_build_shows_progress_on_a_terminal(
    run: Run, repo_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _long_history(repo_path, 1500)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = run("list")
    assert code == 0 and "\rindexing history:  66% (1000/1501 commits)" in err
    assert err.endswith("\rindexing history: 100% (1501/1501 commits)\n")


def test_short_history_indexes_silently(run: Run) -> None:
    run("register", "s", "-t", "T")
    shutil.rmtree(run.repo / ".git" / "promptctl")
    assert run("list")[2] == ""


# -- the README's tour -----------------------------------------------------------------------


def _tour_commands() -> list[str]:
    """The shell lines of README's "A short tour" section, continuation lines joined."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## A short tour\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return [line for line in "\n".join(blocks).replace("\\\n", " ").splitlines()
            if line.strip()]


def test_readme_tour_runs_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tour runs from the repository root: the shipped files beside a fresh build.
    shutil.copytree(ROOT / "example-registry", tmp_path / "example-registry",
                    ignore=shutil.ignore_patterns("registry", "__pycache__"))
    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(key, "@1700000000 +0000")  # build.py sets its own; undone after
    spec = importlib.util.spec_from_file_location("build", ROOT / "example-registry/build.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    build.build(tmp_path / "example-registry" / "registry")
    tick()
    monkeypatch.chdir(tmp_path)
    run = Run(tmp_path, capsys)
    outputs = []
    for line in _tour_commands():
        words = shlex.split(line, comments=True)
        if words[:1] == ["."]:  # activating the virtual environment: we run in-process
            continue
        if words[:1] == ["export"]:
            key, _, value = words[1].partition("=")
            monkeypatch.setenv(key, value)
            continue
        if words[:1] == ["echo"] and words[2:4] == ["|", "promptctl"]:
            monkeypatch.setattr("sys.stdin", io.StringIO(words[1] + "\n"))
            words = words[3:]
        assert words[:1] == ["promptctl"], f"the tour runs {line!r}: teach this test to run it"
        code, out, err = run(*words[1:], registry=False)
        assert code == 0 and "error:" not in err, f"{line}\n{err}"
        outputs.append(out)
    assert len(outputs) >= 15
    assert any(out.startswith("You help the on-call engineer") and "Checkout fails" in out
               for out in outputs)
    assert any(out.startswith("[") and "charged twice" in out for out in outputs)
