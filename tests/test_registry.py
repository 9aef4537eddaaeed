"""Registry behaviour on real throwaway repositories (no mock of Git anywhere)."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from promptctl import (
    AliasNotFound,
    Conflict,
    InvalidInput,
    InvalidPromptFile,
    PromptContent,
    PromptNotFound,
    Registry,
    VersionNotFound,
)
from promptctl.errors import InvalidReference, MissingVariables

from .helpers import git, register_n, snapshot, tick

TEXT = "Summarize {{ ticket }} in {{n}} sentences.\n"


def test_versions_are_numbered_along_history(registry: Registry) -> None:
    register_n(registry, "summarize", 3)
    history = registry.history("summarize")
    assert [v.version for v in history] == [1, 2, 3]
    assert [v.message for v in history] == ["note 1", "note 2", "note 3"]
    assert registry.load_prompt("summarize/2").template == "Version 2 of {{x}}\n"
    assert registry.load_prompt("summarize").version == 3
    assert registry.load_prompt("prompts:/summarize@latest").version == 3


def test_identical_content_creates_nothing(registry: Registry, repo_path: Path) -> None:
    first = registry.register("s", PromptContent(TEXT), "one")
    before = snapshot(repo_path)
    again = registry.register("s", PromptContent(TEXT), "two")
    assert first.created and not again.created
    assert again.version.version == 1
    assert snapshot(repo_path) == before


def test_register_commits_only_the_prompt_file(registry: Registry, repo_path: Path) -> None:
    (repo_path / "staged.txt").write_text("staged\n")
    git(repo_path, "add", "staged.txt")
    (repo_path / "promptctl.yaml").write_text("version: 1\n# unstaged edit\n")
    registry.register_prompt("s", TEXT, "one")
    changed = git(repo_path, "show", "--name-only", "--format=", "HEAD").split()
    assert changed == ["prompts/s.yaml"]
    status = git(repo_path, "status", "--porcelain").splitlines()
    assert sorted(status) == [" M promptctl.yaml", "A  staged.txt"]
    assert (repo_path / "prompts/s.yaml").read_text() == f"template: |\n  {TEXT}"


def test_register_refuses_a_dirty_prompt_file(registry: Registry, repo_path: Path) -> None:
    registry.register_prompt("s", TEXT, "one")
    (repo_path / "prompts/s.yaml").write_text("template: my unsaved edit\n")
    before = snapshot(repo_path)
    with pytest.raises(Conflict, match="uncommitted changes"):
        registry.register_prompt("s", "something else\n", "two")
    assert snapshot(repo_path) == before
    assert (repo_path / "prompts/s.yaml").read_text() == "template: my unsaved edit\n"


def test_register_accepts_the_users_edit_as_the_new_content(
    registry: Registry, repo_path: Path
) -> None:
    registry.register_prompt("s", TEXT, "one")
    (repo_path / "prompts/s.yaml").write_text("template: |\n  edited {{x}}\n")
    result = registry.register("s", PromptContent("edited {{x}}\n"), "two")
    assert result.created and result.version.version == 2
    assert git(repo_path, "status", "--porcelain") == ""


def test_missing_identity_is_a_clear_error(registry: Registry, repo_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key)
    home = repo_path.parent / "nohome"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tuseConfigOnly = true\n")
    monkeypatch.setenv("HOME", str(home))
    before = snapshot(repo_path)
    with pytest.raises(InvalidInput, match=re.escape("git config --global user.name")):
        registry.register_prompt("s", TEXT, "one")
    assert snapshot(repo_path) == before
    version = registry.register("s", PromptContent(TEXT), "one", author="Ci Bot <ci@example.com>")
    assert version.version.author == "Ci Bot"


def test_empty_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "repo")
    path = tmp_path / "repo"
    (path / "promptctl.yaml").write_text("version: 1\n")
    with Registry(path) as reg:
        assert reg.list_prompts() == []
        with pytest.raises(PromptNotFound):
            reg.load_prompt("s")
        assert reg.register_prompt("s", TEXT, "first").version == 1
    assert git(path, "log", "--format=%s").split("\n")[0] == "first"


def test_detached_head_reads_but_refuses_writes(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 2)
    git(repo_path, "checkout", "-q", "--detach", "HEAD~1")
    with Registry(repo_path) as reg:
        assert reg.load_prompt("s").version == 1
        before = snapshot(repo_path)
        with pytest.raises(Conflict, match="detached"):
            reg.register_prompt("s", "new\n", "x")
        assert snapshot(repo_path) == before


def test_registry_in_a_subfolder(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "app")
    app = tmp_path / "app"
    (app / "src").mkdir()
    (app / "src/main.py").write_text("print('app')\n")
    git(app, "add", ".")
    git(app, "commit", "-qm", "app")
    reg = Registry.init(app / "llm" / "registry")
    assert reg.prefix == "llm/registry/"
    reg.register_prompt("a/b", TEXT, "first")
    assert (app / "llm/registry/prompts/a/b.yaml").exists()
    assert reg.load_prompt("a/b").version == 1
    assert [s.name for s in reg.list_prompts()] == ["a/b"]
    reg.close()


def test_hand_edit_committed_with_git_is_a_version(registry: Registry, repo_path: Path) -> None:
    registry.register_prompt("s", TEXT, "one")
    (repo_path / "prompts/s.yaml").write_text("tags:\n  team: x\ntemplate: hand {{y}}\n")
    tick()
    git(repo_path, "commit", "-qam", "hand edit")
    latest = registry.load_prompt("s", cache_ttl_seconds=0)
    assert (latest.version, latest.commit_message, latest.tags) == (2, "hand edit", {"team": "x"})


def test_malformed_committed_file_is_reported_on_load(registry: Registry, repo_path: Path) -> None:
    registry.register_prompt("s", TEXT, "one")
    (repo_path / "prompts/s.yaml").write_text("template: x\nmodel_config:\n  temperature: -1\n")
    git(repo_path, "commit", "-qam", "broken")
    with pytest.raises(InvalidPromptFile) as caught:
        registry.load_prompt("s", cache_ttl_seconds=0)
    assert "prompts/s.yaml" in str(caught.value)
    assert caught.value.key == "model_config.temperature"
    assert registry.load_prompt("s/1").template == TEXT


def test_alias_on_a_commit_that_did_not_change_the_file(
    registry: Registry, repo_path: Path
) -> None:
    register_n(registry, "s", 2)
    registry.register_prompt("other", TEXT, "unrelated")
    git(repo_path, "tag", "-a", "-m", "by hand", "prompts/s@production", "HEAD")
    assert registry.load_prompt("s@production", cache_ttl_seconds=0).version == 2
    register_n(registry, "s", 1)
    assert registry.load_prompt("s@production", cache_ttl_seconds=0).version == 2


def test_list_resolves_aliases_as_a_load_does(registry: Registry, repo_path: Path) -> None:
    """``list`` resolves every alias at once: the same versions as one by one, whether the
    tag's commit made the version, only holds it, or holds none, packed or loose."""
    register_n(registry, "s", 3)
    registry.register_prompt("t", TEXT, "t")
    registry.set_alias("s", "production", 2)
    registry.set_alias("t", "production", 1)
    git(repo_path, "tag", "-a", "-m", "by hand", "prompts/s@held", "HEAD")  # made t, holds s/3
    git(repo_path, "tag", "-a", "-m", "by hand", "prompts/t@early", "HEAD~3")  # before t
    git(repo_path, "pack-refs", "--all")
    registry.set_alias("s", "staging", 1)  # loose
    with Registry(repo_path) as fresh:
        listed = {s.name: s.alias_versions for s in fresh.list_prompts()}
        assert listed == {"s": {"held": 3, "production": 2, "staging": 1},
                          "t": {"production": 1}}
        assert listed == {name: {a.alias: a.version for a in fresh.list_aliases(name)
                                 if a.version is not None} for name in ("s", "t")}


def test_aliases_promote_and_roll_back(registry: Registry) -> None:
    register_n(registry, "s", 3)
    registry.set_alias("s", "production", 2, "ship it")
    assert registry.load_prompt("s@production").version == 2
    registry.set_alias("s", "production", 3)
    assert registry.load_prompt("s@production").version == 3  # moved in-process: no stale cache
    registry.set_alias("s", "production", 1, "roll back")
    assert registry.load_prompt("s@production").aliases == ("production",)
    assert [a.version for a in registry.list_aliases("s")] == [1]
    registry.delete_alias("s", "production")
    with pytest.raises(AliasNotFound, match=r"aliases: none"):
        registry.load_prompt("s@production")


def test_not_found_names_what_exists(registry: Registry) -> None:
    register_n(registry, "s", 2)
    registry.set_alias("s", "staging", 1)
    with pytest.raises(VersionNotFound, match="versions 1 to 2 exist"):
        registry.load_prompt("s/7")
    with pytest.raises(AliasNotFound, match="aliases: staging"):
        registry.load_prompt("s@production")
    with pytest.raises(PromptNotFound):
        registry.load_prompt("nope")
    with pytest.raises(VersionNotFound):
        registry.set_alias("s", "production", 9)


@pytest.mark.parametrize("name", ["../x", "/x", "a b", "a@b", "x" * 201, "a//b", ".hidden", "a/3"])
def test_bad_names_are_refused_before_git(registry: Registry, repo_path: Path, name: str) -> None:
    before = snapshot(repo_path)
    with pytest.raises(InvalidInput):
        registry.register_prompt(name, TEXT, "x")
    assert snapshot(repo_path) == before


@pytest.mark.parametrize("alias", ["latest", "v3", "a b", "a/b", "x" * 101, ""])
def test_bad_aliases_are_refused(registry: Registry, repo_path: Path, alias: str) -> None:
    register_n(registry, "s", 1)
    before = snapshot(repo_path)
    with pytest.raises(InvalidInput):
        registry.set_alias("s", alias, 1)
    assert snapshot(repo_path) == before


def test_bad_reference_and_missing_variables(registry: Registry) -> None:
    register_n(registry, "s", 1)
    with pytest.raises(InvalidReference):
        registry.load_prompt("s@")
    with pytest.raises(MissingVariables, match="x"):
        registry.load_prompt("s").format()


def test_tags_change_makes_a_version(registry: Registry) -> None:
    registry.register_prompt("s", TEXT, "one", tags={"team": "a"})
    registry.set_tags("s", {"task": "sum"})
    registry.delete_tags("s", ["team"], "drop team")
    versions = registry.history("s")
    assert [v.message for v in versions][-1] == "drop team"
    assert registry.load_prompt("s", cache_ttl_seconds=0).tags == {"task": "sum"}
    with pytest.raises(InvalidInput, match="no tag"):
        registry.delete_tags("s", ["missing"])


def test_search_and_diff(registry: Registry) -> None:
    registry.register_prompt("a", "Refund {{x}}\n", "a", tags={"team": "support"})
    registry.register_prompt("b", "Hello {{y}}\n", "b", tags={"team": "sales"},
                             model_config={"model_name": "gpt-4o"})
    registry.register_prompt("b", "Hello {{z}}\n", "b2", tags={"team": "sales"},
                             model_config={"model_name": "gpt-4o", "temperature": 0.5})
    registry.set_alias("b", "production", 1)

    def names(f: str) -> list[str]:
        return [s.name for s in registry.search_prompts(f)]

    assert names("tags.team = 'support'") == ["a"]
    assert names("alias = 'production'") == ["b"]
    assert names("template LIKE '%Refund%' OR model_config.model_name = 'gpt-4o'") == ["a", "b"]
    change = registry.diff("b", "production", "latest")
    assert (change.from_version, change.to_version) == (1, 2)
    assert change.variables_added == ("z",) and change.variables_removed == ("y",)
    assert change.model_config_changes == {"temperature": (None, 0.5)}


def test_one_registry_sees_aliases_moved_by_plain_git_between_searches(
        registry: Registry, repo_path: Path) -> None:
    """What a Registry keeps between reads (the alias tags grouped, the numbers their
    commits made at a tip) follows every move, whoever makes it."""
    for text in ("one\n", "two\n"):
        registry.register_prompt("a", text, text)
        registry.register_prompt("b", text, text)
    registry.set_alias("a", "production", 1)

    def aliases() -> dict[str, dict[str, int]]:
        return {s.name: s.alias_versions for s in registry.search_prompts("")}

    assert aliases() == {"a": {"production": 1}, "b": {}}
    assert [v.aliases for v in registry.history("a")] == [("production",), ()]
    commits = git(repo_path, "log", "--format=%H", "--reverse", "--", "prompts/b.yaml").split()
    git(repo_path, "tag", "-a", "-m", "by hand", "prompts/b@production", commits[1])
    git(repo_path, "tag", "-f", "-a", "-m", "by hand", "prompts/a@production", "HEAD")
    assert aliases() == {"a": {"production": 2}, "b": {"production": 2}}
    git(repo_path, "tag", "-f", "-a", "-m", "back", "prompts/b@production", commits[0])
    git(repo_path, "pack-refs", "--all")
    assert aliases() == {"a": {"production": 2}, "b": {"production": 1}}
    assert [v.aliases for v in registry.history("b")] == [("production",), ()]
    git(repo_path, "tag", "-d", "prompts/b@production")
    assert aliases() == {"a": {"production": 2}, "b": {}}


def test_search_shows_the_aliases_list_shows_whether_tags_are_loose_or_packed(
        registry: Registry, repo_path: Path) -> None:
    """A search whose filter tests no alias reads only the matched prompts' alias tags,
    packed ones from a kept grouping and loose ones file by file: with plain git moving,
    packing and deleting tags between searches, it must show what ``list`` shows."""
    names = ["a", "team/b", "team/c", "z"]
    for name in names:
        for text in ("one\n", "two\n"):
            registry.register_prompt(name, text, text, tags={"team": "t" if name != "z" else "u"})
        registry.set_alias(name, "production", 1)
    registry.set_alias("team/b", "staging", 2)

    def check() -> dict[str, dict[str, int]]:
        listed = {s.name: s.alias_versions for s in registry.list_prompts()}
        found = {s.name: s.alias_versions for s in registry.search_prompts("tags.team = 't'")}
        assert found == {name: listed[name] for name in ("a", "team/b", "team/c")}
        by_alias = {s.name: s.alias_versions
                    for s in registry.search_prompts("alias = 'production'")}
        assert by_alias == {n: v for n, v in listed.items() if "production" in v}
        return found

    assert check()["team/b"] == {"production": 1, "staging": 2}
    git(repo_path, "pack-refs", "--all")
    assert check()["team/b"] == {"production": 1, "staging": 2}
    git(repo_path, "tag", "-f", "-a", "-m", "by hand", "prompts/team/b@production", "HEAD~4")
    git(repo_path, "tag", "-d", "prompts/team/b@staging")
    assert check()["team/b"] == {"production": 2}
    registry.set_alias("a", "canary", 2)  # loose, beside the packed production
    assert check()["a"] == {"production": 1, "canary": 2}
    git(repo_path, "tag", "-d", "prompts/a@production")
    git(repo_path, "pack-refs", "--all")
    assert check()["a"] == {"canary": 2}
    assert check()["team/c"] == {"production": 1}


def test_chat_prompt(registry: Registry) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "{{q}}"}]
    registry.register_prompt("chat", messages, "chat")
    prompt = registry.load_prompt("chat")
    assert prompt.is_chat and prompt.variables == ("q",)
    assert prompt.format(q="Hi")[1] == {"role": "user", "content": "Hi"}


def _register_in_process(path: str, text: str) -> int:
    with Registry(path) as reg:
        return reg.register_prompt("race", text, text.strip()).version


def test_concurrent_registers_both_land(registry: Registry, repo_path: Path) -> None:
    registry.register_prompt("race", "v0\n", "v0")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        numbers = pool.starmap(
            _register_in_process, [(str(repo_path), f"text {i}\n") for i in range(4)]
        )
    assert sorted(numbers) == [2, 3, 4, 5]
    assert [v.version for v in registry.history("race")] == [1, 2, 3, 4, 5]
    assert git(repo_path, "status", "--porcelain") == ""
    git(repo_path, "fsck", "--no-progress")


def test_cache_ttl(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 1)
    first = registry.load_prompt("s@latest", cache_ttl_seconds=60)
    (repo_path / "prompts/s.yaml").write_text("template: changed\n")
    git(repo_path, "commit", "-qam", "elsewhere")
    assert registry.load_prompt("s@latest", cache_ttl_seconds=60) is first
    assert registry.load_prompt("s@latest", cache_ttl_seconds=0).version == 2


def test_module_level_load_prompt(repo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import promptctl.default

    with Registry(repo_path) as reg:
        reg.register_prompt("s", TEXT, "one")
    monkeypatch.setenv("PROMPTCTL_REGISTRY", str(repo_path))
    monkeypatch.setattr(promptctl.default, "_default", None)
    prompt = promptctl.load_prompt("prompts:/s/1")
    assert prompt.format(ticket="t", n=1) == "Summarize t in 1 sentences.\n"


def test_discovery_from_a_subdirectory(repo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo_path / "prompts" / "deep").mkdir(parents=True)
    monkeypatch.chdir(repo_path / "prompts" / "deep")
    with Registry() as reg:
        assert reg.root == repo_path.resolve()


# -- the index never serves a stale number ---------------------------------------------------


def test_index_follows_a_rewritten_history(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 3)
    assert registry.load_prompt("s", cache_ttl_seconds=0).version == 3
    git(repo_path, "reset", "-q", "--hard", "HEAD~2")  # like a force-push that dropped two
    assert registry.load_prompt("s", cache_ttl_seconds=0).version == 1
    registry.register_prompt("s", "after the reset\n", "after reset")
    assert [v.message for v in registry.history("s")] == ["note 1", "after reset"]


def test_index_follows_a_rebase(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 1)
    git(repo_path, "checkout", "-qb", "feature")
    (repo_path / "prompts/s.yaml").write_text("template: feature\n")
    git(repo_path, "commit", "-qam", "feature change")
    git(repo_path, "checkout", "-q", "main")
    registry.register_prompt("s", "main moved on\n", "on main")
    with Registry(repo_path) as other:
        git(repo_path, "checkout", "-q", "feature")
        assert other.load_prompt("s", cache_ttl_seconds=0).version == 2
        git(repo_path, "rebase", "-q", "-X", "theirs", "main")
        assert other.load_prompt("s", cache_ttl_seconds=0).version == 3
        assert other.load_prompt("s", cache_ttl_seconds=0).commit_message == "feature change"


def test_index_sees_another_process_and_a_moved_tag(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 2)
    registry.set_alias("s", "production", 1)
    assert registry.load_prompt("s@production", cache_ttl_seconds=0).version == 1
    subprocess.run(
        [sys.executable, "-c", (
            f"import promptctl; r = promptctl.Registry({str(repo_path)!r});"
            "r.register_prompt('s', 'third\\n', 'from elsewhere');"
            " r.set_alias('s', 'production', 3)"
        )],
        check=True, env=os.environ,
    )
    assert registry.load_prompt("s@production", cache_ttl_seconds=0).version == 3
    git(repo_path, "tag", "-f", "-a", "-m", "by hand", "prompts/s@production", "HEAD~2")
    assert registry.load_prompt("s@production", cache_ttl_seconds=0).version == 1


def test_index_updated_by_register_matches_a_rebuild(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 3)
    registry.register_prompt("nested/p", TEXT, "nested")
    incremental = registry.history("s") + registry.history("nested/p")
    registry.close()
    for index_file in (repo_path / ".git" / "promptctl").glob("index-*"):
        index_file.unlink()
    with Registry(repo_path) as fresh:
        assert fresh.history("s") + fresh.history("nested/p") == incremental
    git(repo_path, "fsck", "--strict", "--no-progress")


def test_register_refuses_a_staged_edit_even_when_the_file_looks_clean(
    registry: Registry, repo_path: Path
) -> None:
    registry.register_prompt("s", TEXT, "one")
    committed = (repo_path / "prompts/s.yaml").read_text()
    (repo_path / "prompts/s.yaml").write_text("template: staged edit\n")
    git(repo_path, "add", "prompts/s.yaml")
    (repo_path / "prompts/s.yaml").write_text(committed)
    before = snapshot(repo_path)
    with pytest.raises(Conflict, match="uncommitted changes"):
        registry.register_prompt("s", "other\n", "two")
    assert snapshot(repo_path) == before
    assert git(repo_path, "show", ":prompts/s.yaml") == "template: staged edit\n"


def test_register_refuses_an_untracked_file_in_the_way(registry: Registry, repo_path: Path) -> None:
    (repo_path / "prompts").mkdir(exist_ok=True)
    (repo_path / "prompts/new.yaml").write_text("template: mine, not yet added\n")
    before = snapshot(repo_path)
    with pytest.raises(Conflict, match="uncommitted changes"):
        registry.register_prompt("new", TEXT, "one")
    assert snapshot(repo_path) == before


def test_packed_and_loose_aliases(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 3)
    registry.register_prompt("s2", TEXT, "a prompt whose name extends 's'")
    registry.set_alias("s", "production", 1)
    registry.set_alias("s", "prod", 2)
    registry.set_alias("s2", "production", 1)
    git(repo_path, "pack-refs", "--all")
    assert not (repo_path / ".git/refs/tags/prompts/s@production").exists()
    assert registry.load_prompt("s@production", cache_ttl_seconds=0).version == 1
    assert registry.load_prompt("s@prod", cache_ttl_seconds=0).aliases == ("prod",)
    registry.set_alias("s", "production", 3)  # now loose, overriding the packed one
    assert registry.load_prompt("s@production", cache_ttl_seconds=0).version == 3
    assert [(a.name, a.alias, a.version) for a in registry.list_aliases()] == [
        ("s", "prod", 2), ("s", "production", 3), ("s2", "production", 1)]


def test_first_index_build_reports_progress(repo_path: Path) -> None:
    with Registry(repo_path) as reg:
        register_n(reg, "s", 2)
    for index_file in (repo_path / ".git" / "promptctl").glob("index-*"):
        index_file.unlink()
    seen: list[tuple[int, int]] = []
    with Registry(repo_path, progress=lambda done, total: seen.append((done, total))) as reg:
        assert reg.load_prompt("s").version == 2
    assert seen and seen[-1] == (3, 3)  # promptctl.yaml's commit and two versions


def test_a_registry_path_with_a_nul_byte_is_refused_in_one_line() -> None:
    with pytest.raises(InvalidInput, match="cannot use 'a\\\\x00b' as a registry folder"):
        Registry("a\0b")
