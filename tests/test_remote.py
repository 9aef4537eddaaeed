"""Remote registries and pushing, against bare repositories over file:// (no network)."""

from __future__ import annotations

import multiprocessing
import os
import re
import time
from pathlib import Path

import pytest

from promptctl import Conflict, InvalidInput, PromptContent, Registry
from promptctl.cli import main
from promptctl.errors import (
    AliasMovedOnRemote,
    RegistryNotFound,
    RegistryUnreachable,
    RemoteUnreachable,
)
from promptctl.remote import FETCH_REFSPECS

from .helpers import git, register_n, tick

LOG = "refs/promptctl/alias-log"
PRODUCTION = "refs/tags/prompts/s@production"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's cache directory, inside the test's own folder."""
    path = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(path))
    monkeypatch.delenv("PROMPTCTL_FETCH_TTL", raising=False)
    return path


@pytest.fixture
def remote(registry: Registry, repo_path: Path, tmp_path: Path) -> Path:
    """A bare repository, ``origin`` of repo_path: s v1-v3, production -> 1, staging -> 2."""
    register_n(registry, "s", 3)
    tick()
    registry.set_alias("s", "production", 1, "first")
    registry.set_alias("s", "staging", 2)
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo_path, "remote", "add", "origin", bare.as_uri())
    git(repo_path, "push", "-q", "origin", "main", "refs/tags/*:refs/tags/*",
        "refs/promptctl/*:refs/promptctl/*")
    return bare


def clones(cache: Path) -> list[Path]:
    return sorted(p for p in (cache / "promptctl").iterdir() if p.is_dir())


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def rev(path: Path, ref: str) -> str:
    return git(path, "rev-parse", ref).strip()


def clone_of(remote: Path, where: Path) -> Path:
    """A user's clone of the remote, with the alias log (plain clone skips refs/promptctl/*)."""
    git(where.parent, "clone", "-q", remote.as_uri(), str(where))
    git(where, "fetch", "-q", "origin", "refs/promptctl/*:refs/promptctl/*")
    return where


# -- reading through the cache ---------------------------------------------------------------


def test_first_use_clones_into_the_cache_and_later_uses_share_it(
    remote: Path, registry: Registry, cache: Path
) -> None:
    with Registry(remote.as_uri()) as reg:
        prompt = reg.load_prompt("s@production")
        assert (prompt.version, prompt.template, prompt.stale) == (1, "Version 1 of {{x}}\n", False)
        assert [v.version for v in reg.history("s")] == [1, 2, 3]
        assert reg.alias_history("s") == registry.alias_history("s")  # the log came along
        assert (reg.stale, reg.warnings) == (False, [])
    [clone] = clones(cache)
    assert git(clone, "rev-parse", "--is-bare-repository").strip() == "true"
    assert git(clone, "config", "--get-all", "remote.origin.fetch").split() == list(FETCH_REFSPECS)

    # Within the TTL a second Registry does not fetch: a vanished remote goes unnoticed.
    remote.rename(remote.with_name("gone.git"))
    with Registry(remote.as_uri()) as again:
        assert again.load_prompt("s/2").version == 2 and not again.stale
    assert clones(cache) == [clone]


def test_moved_alias_is_seen_after_the_ttl_even_a_force_moved_tag(
    remote: Path, registry: Registry, repo_path: Path
) -> None:
    patient = Registry(remote.as_uri(), fetch_ttl_seconds=3600)
    assert patient.load_prompt("s@production", cache_ttl_seconds=0).version == 1
    tick()
    registry.set_alias("s", "production", 3)
    registry.register_prompt("s", "Version 4 of {{x}}\n", "four")
    git(repo_path, "push", "-q", "--force", "origin", "main", PRODUCTION,
        ":refs/tags/prompts/s@staging")

    assert patient.load_prompt("s@production", cache_ttl_seconds=0).version == 1  # TTL not over
    with Registry(remote.as_uri(), fetch_ttl_seconds=0) as eager:
        assert eager.load_prompt("s@production", cache_ttl_seconds=0).version == 3
        assert eager.load_prompt("s").version == 4
        assert [a.alias for a in eager.list_aliases("s")] == ["production"]  # staging pruned
    # One clone for both: what the eager registry fetched, the patient one now reads.
    assert patient.load_prompt("s@production", cache_ttl_seconds=0).version == 3
    patient.close()


def test_unreachable_remote_serves_the_last_state_with_a_warning(
    remote: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = remote.as_uri()
    reg = Registry(url, fetch_ttl_seconds=0)
    assert reg.load_prompt("s@production").version == 1
    moved = remote.rename(remote.with_name("moved.git"))

    prompt = reg.load_prompt("s@production", cache_ttl_seconds=0)
    assert (prompt.version, prompt.stale, reg.stale) == (1, True, True)
    [warning] = reg.warnings
    assert warning.startswith(f"cannot reach {url} (")
    assert "serving the registry as fetched at" in warning

    monkeypatch.setenv("PROMPTCTL_FETCH_TTL", "0")
    code, out, err = cli(capsys, "--registry", url, "load", "s@production")
    assert (code, out) == (0, "Version 1 of {{x}}\n")
    assert err.startswith(f"warning: cannot reach {url}") and err.count("\n") == 1
    code, out, _ = cli(capsys, "--registry", url, "--json", "show", "s@production")
    assert code == 0 and '"stale": true' in out

    moved.rename(remote)  # reachable again: fresh, no warning
    assert not reg.load_prompt("s@production", cache_ttl_seconds=0).stale
    assert (reg.stale, reg.warnings) == (False, [])
    reg.close()


def test_never_fetched_and_unreachable_is_an_error(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = (tmp_path / "nowhere.git").as_uri()
    with pytest.raises(RegistryUnreachable, match="was never fetched and cannot be reached"):
        Registry(url)
    code, out, err = cli(capsys, "--registry", url, "list")
    assert (code, out) == (3, "")
    assert err.startswith(f"error: remote registry {url} was never fetched")
    assert err.count("\n") == 1
    assert clones(cache) == []  # no half-made clone left behind


def _load_in_process(url: str) -> tuple[int, bool]:
    with Registry(url, fetch_ttl_seconds=0) as reg:
        versions = {reg.load_prompt("s@production", cache_ttl_seconds=0).version for _ in range(3)}
        return versions.pop() if len(versions) == 1 else -1, reg.stale


def test_processes_sharing_the_cache_never_corrupt_it(remote: Path, cache: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:  # both start on an empty cache: one clones, one waits, all fetch
        results = pool.map(_load_in_process, [remote.as_uri()] * 4)
    assert results == [(1, False)] * 4
    [clone] = clones(cache)
    git(clone, "fsck", "--no-progress")
    assert [p.name for p in (cache / "promptctl").iterdir() if ".tmp-" in p.name] == []


def test_registry_in_a_folder_of_the_remote(tmp_path: Path) -> None:
    mono = tmp_path / "mono"
    git(tmp_path, "init", "-q", str(mono))
    Registry.init(mono / "team").close()
    with Registry(mono / "team") as local:
        local.register_prompt("greet", "Hi {{ name }}\n", "first")
    bare = tmp_path / "mono.git"
    git(tmp_path, "clone", "-q", "--bare", str(mono), str(bare))

    with Registry(bare.as_uri() + "#team/") as reg:
        assert reg.load_prompt("greet").format(name="Ada") == "Hi Ada\n"
    with pytest.raises(RegistryNotFound):
        Registry(bare.as_uri())  # the repository's root holds no registry


def test_partial_clone_downloads_old_versions_when_read(
    remote: Path, registry: Registry, cache: Path
) -> None:
    git(remote, "config", "uploadpack.allowFilter", "true")
    first = registry.history("s")[0].commit
    reg = Registry(remote.as_uri(), fetch_ttl_seconds=0)
    [clone] = clones(cache)
    assert git(clone, "config", "remote.origin.promisor").strip() == "true"

    def missing() -> set[str]:
        listing = git(clone, "rev-list", "--objects", "--all", "--missing=print")
        return {line[1:] for line in listing.splitlines() if line.startswith("?")}

    old_blob = rev(remote, f"{first}:prompts/s.yaml")
    assert rev(remote, "main:prompts/s.yaml") not in missing()  # the tip's files: fetched at once
    assert old_blob in missing()
    assert reg.load_prompt("s/1").template == "Version 1 of {{x}}\n"
    assert old_blob not in missing()

    remote.rename(remote.with_name("gone.git"))
    assert reg.load_prompt("s/3", cache_ttl_seconds=0).stale
    with pytest.raises(RemoteUnreachable, match="s version 2 was never downloaded"):
        reg.load_prompt("s/2")
    reg.close()


# -- pushing aliases -------------------------------------------------------------------------


def test_alias_push_lease_conflict_names_both_versions_and_restores_the_alias(
    remote: Path, registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loser = clone_of(remote, tmp_path / "loser")  # has read production -> 1
    tick()
    registry.set_alias("s", "production", 2, "winner", push=True)
    assert rev(remote, PRODUCTION) == rev(registry.repo.root, PRODUCTION)
    assert rev(remote, LOG) == rev(registry.repo.root, LOG)
    remote_log = rev(remote, LOG)

    tick()
    code, out, err = cli(capsys, "--registry", str(loser), "alias", "set", "s", "production", "3",
                         "-m", "loser", "--push")
    assert (code, out) == (4, "")
    assert err.startswith("error: alias 'production' of 's' moved on the remote since it was read")
    assert "ours version 3, theirs version 2" in err and err.count("\n") == 1
    assert rev(remote, LOG) == remote_log  # nothing landed remotely
    assert rev(loser, PRODUCTION) == rev(remote, PRODUCTION)  # the local alias is the remote's
    with Registry(loser) as reg:
        assert reg.load_prompt("s@production").version == 2
        assert [m.reason for m in reg.alias_history("s", "production")] == ["first", "winner"]


def test_alias_push_merges_a_log_another_clone_appended_then_deletes(
    remote: Path, registry: Registry, repo_path: Path, tmp_path: Path
) -> None:
    with Registry(clone_of(remote, tmp_path / "other")) as other:
        tick()
        other.set_alias("s", "canary", 3, "from the other clone", push=True)
    tick()
    registry.set_alias("s", "production", 2, "from here", push=True)  # our log was behind
    assert rev(remote, LOG) == rev(repo_path, LOG)
    reasons = [m.reason for m in registry.alias_history("s")]
    assert reasons[-2:] == ["from the other clone", "from here"]
    assert rev(remote, PRODUCTION) == rev(repo_path, PRODUCTION)

    tick()
    registry.delete_alias("s", "staging", "retired", push=True)
    assert git(remote, "ls-remote", ".", "refs/tags/prompts/s@staging") == ""
    assert "staging" not in {a.alias for a in registry.list_aliases("s")}
    assert registry.alias_history("s", "staging")[-1].action == "delete"
    assert rev(remote, LOG) == rev(repo_path, LOG)


def _two_clients(remote: Path, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> tuple[Registry, Registry]:
    """Two registries opened by the remote's URL, each with its own cache (its own clone)."""
    first = Registry(remote.as_uri(), fetch_ttl_seconds=3600)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "second-cache"))
    return first, Registry(remote.as_uri(), fetch_ttl_seconds=3600)


def test_url_registry_alias_push_lease_conflict(
    remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _two_clients(remote, tmp_path, monkeypatch)  # second: its own clone, read: 1
    tick()
    assert first.set_alias("s", "production", 2, push=True).version == 2
    with pytest.raises(AliasMovedOnRemote, match="ours version 3, theirs version 2"):
        second.set_alias("s", "production", 3, push=True)
    assert second.load_prompt("s@production", cache_ttl_seconds=0).version == 2
    assert rev(second.repo.root, PRODUCTION) == rev(remote, PRODUCTION)
    assert [m.to_version for m in second.alias_history("s", "production")] == [1, 2]
    first.close()
    second.close()


def test_url_registry_alias_push_to_the_version_its_clone_last_read(
    remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _two_clients(remote, tmp_path, monkeypatch)  # second: its own clone, read: 1
    tick()
    first.set_alias("s", "production", 2, push=True)
    landed = git(remote, "for-each-ref")
    with pytest.raises(AliasMovedOnRemote, match="ours version 1, theirs version 2"):
        second.set_alias("s", "production", 1, "roll back", push=True)  # not "unchanged"
    assert git(remote, "for-each-ref") == landed
    assert second.load_prompt("s@production", cache_ttl_seconds=0).version == 2
    assert first.set_alias("s", "production", 2, push=True).unchanged
    first.close()
    second.close()


# -- pushing new versions --------------------------------------------------------------------


def test_url_registry_register_push_race_rebases_with_correct_numbering(
    remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _two_clients(remote, tmp_path, monkeypatch)  # second: both clones end at s v3
    tick()
    four = first.register("s", PromptContent("Version 4\n"), "four", push=True).version
    assert four.version == 4 and rev(remote, "main") == four.commit

    tick()
    tee = second.register("t", PromptContent("T {{y}}\n"), "tee", push=True)  # lost the race
    assert tee.created and tee.version.version == 1
    assert rev(remote, "main") == tee.version.commit and rev(remote, "main^") == four.commit
    assert [v.version for v in second.history("s")] == [1, 2, 3, 4]
    assert second.load_prompt("s").template == "Version 4\n"

    # Both change the same prompt: refused clearly, the remote and the clone as they were.
    tick()
    first.register("s", PromptContent("Version 5\n"), "five", push=True)
    landed = rev(remote, "main")
    tick()
    with pytest.raises(Conflict, match=re.escape("prompts/s.yaml was changed on origin too")):
        second.register("s", PromptContent("Another 5\n"), "mine", push=True)
    assert rev(remote, "main") == landed
    assert second.load_prompt("s", cache_ttl_seconds=0).template == "Version 5\n"
    first.close()
    second.close()


def _remade_on(remote: Path, repo_path: Path, made: str, theirs: str) -> None:
    """A register ("ay") that lost the race landed on the remote's commit ``theirs``
    (its subject), here and there, with a clean working tree."""
    assert rev(repo_path, "main") == rev(remote, "main") == made
    assert git(repo_path, "log", "--format=%s", "-2", "main").split() == ["ay", theirs]
    assert git(repo_path, "status", "--porcelain") == ""


def test_local_register_push_race_rebases_and_updates_the_working_tree(
    remote: Path, registry: Registry, repo_path: Path, tmp_path: Path
) -> None:
    with Registry(clone_of(remote, tmp_path / "other")) as other:
        tick()
        other.register("b", PromptContent("B\n"), "bee", push=True)
    tick()
    result = registry.register("a", PromptContent("A\n"), "ay", push=True)
    _remade_on(remote, repo_path, result.version.commit, "bee")
    assert (repo_path / "prompts/b.yaml").read_text() == "template: |\n  B\n"
    assert registry.load_prompt("a").version == 1 and registry.load_prompt("b").version == 1


def _bob_pushes_s_version_4(remote: Path, tmp_path: Path) -> None:
    with Registry(clone_of(remote, tmp_path / "other")) as other:
        tick()
        other.register("s", PromptContent("Version 4\n"), "four", push=True)


def _racy(path: Path, repo: Path) -> None:
    """Make git's index entry of ``path`` racily clean: the file's mtime no older than the
    index, so the next index write must smudge it (as git does a file changed in the
    second its index was written), whatever the clock says."""
    future = int(time.time()) + 100
    os.utime(path, (future, future))
    git(repo, "update-index", "--refresh")


@pytest.mark.parametrize("index", ["as a register leaves it", "racily clean"])
def test_local_register_push_race_updates_a_file_the_remote_changed(
    remote: Path, registry: Registry, repo_path: Path, tmp_path: Path, index: str
) -> None:
    # The clean prompts/s.yaml must follow the remote. Its index entry has no stat data
    # (a register stages as 'update-index --cacheinfo' does), or is smudged by the next
    # index write (racily clean): read-tree trusts stat data, so the index is refreshed first.
    _bob_pushes_s_version_4(remote, tmp_path)
    if index == "racily clean":
        _racy(repo_path / "prompts/s.yaml", repo_path)
    tick()
    result = registry.register("a", PromptContent("A\n"), "ay", push=True)
    _remade_on(remote, repo_path, result.version.commit, "four")
    assert (repo_path / "prompts/s.yaml").read_text() == "template: |\n  Version 4\n"
    assert registry.load_prompt("s").version == 4 and registry.load_prompt("a").version == 1


@pytest.mark.parametrize("edit", ["unstaged", "staged", "same size, same second"])
def test_local_register_push_race_keeps_edits_of_a_file_the_remote_changed(
    remote: Path, repo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    _bob_pushes_s_version_4(remote, tmp_path)
    theirs, before = rev(remote, "main"), rev(repo_path, "main")
    mine = repo_path / "prompts/s.yaml"
    text = mine.read_text()
    edited = text.replace("Version 3", "Version X")
    assert edited != text and len(edited) == len(text)
    if edit == "same size, same second":  # only the content tells the edit apart
        git(repo_path, "config", "core.trustctime", "false")
        _racy(mine, repo_path)
        stamp = os.stat(mine).st_mtime_ns
        mine.write_text(edited)
        os.utime(mine, ns=(stamp, stamp))
    else:
        mine.write_text(edited)
        if edit == "staged":
            git(repo_path, "add", "prompts/s.yaml")
    status = git(repo_path, "status", "--porcelain")
    diffs = git(repo_path, "diff"), git(repo_path, "diff", "--cached")
    monkeypatch.chdir(repo_path)
    code, out, err = cli(capsys, "register", "a", "-t", "A", "-m", "ay", "--push")
    assert (code, out) == (4, "")
    assert err.count("\n") == 1 and err.startswith("error: cannot update your working tree")
    assert "prompts/s.yaml" in err and "it stays committed on main, not pushed" in err
    assert mine.read_text() == edited
    assert git(repo_path, "status", "--porcelain") == status
    assert (git(repo_path, "diff"), git(repo_path, "diff", "--cached")) == diffs
    assert git(repo_path, "rev-parse", "main^").strip() == before  # the version stays local
    assert git(repo_path, "log", "-1", "--format=%s", "main").strip() == "ay"
    assert rev(remote, "main") == theirs


def test_writes_refused_without_push_or_without_origin(
    remote: Path, registry: Registry, repo_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = remote.as_uri()
    remote_refs = git(remote, "for-each-ref")
    code, out, err = cli(capsys, "--registry", url, "alias", "set", "s", "production", "2")
    assert (code, out) == (2, "")
    assert err == f"error: {url} is a remote registry: a write must be pushed (--push, push=True)\n"
    assert git(remote, "for-each-ref") == remote_refs  # nothing pushed

    git(repo_path, "remote", "remove", "origin")
    refs = git(repo_path, "for-each-ref")
    with pytest.raises(InvalidInput, match="--push needs a Git remote named 'origin'"):
        registry.set_alias("s", "production", 2, push=True)
    assert git(repo_path, "for-each-ref") == refs

    monkeypatch.setenv("PROMPTCTL_FETCH_TTL", "soon")
    with pytest.raises(InvalidInput, match="PROMPTCTL_FETCH_TTL must be a number"):
        Registry(url)


def test_failed_push_to_a_url_registry_leaves_its_clone_as_the_remote(
    remote: Path, cache: Path
) -> None:
    reg = Registry(remote.as_uri(), fetch_ttl_seconds=3600)
    [clone] = clones(cache)
    before = git(clone, "for-each-ref")
    remote.rename(remote.with_name("gone.git"))
    with pytest.raises(RemoteUnreachable, match="cannot reach origin"):
        reg.register("s", PromptContent("Version 4\n"), "four", push=True)
    with pytest.raises(RemoteUnreachable, match="cannot reach origin"):
        reg.set_alias("s", "production", 3, push=True)
    assert git(clone, "for-each-ref") == before
    assert reg.load_prompt("s", cache_ttl_seconds=0).version == 3
    reg.close()
