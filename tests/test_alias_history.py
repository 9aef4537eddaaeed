"""Alias history (the alias log) and protected aliases, on real repositories and remotes."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import subprocess
from pathlib import Path

import pytest

from promptctl import AliasNotFound, InvalidInput, PromptNotFound, Registry, VersionNotFound
from promptctl.errors import Conflict, InvalidConfig, ProtectedAlias
from promptctl.formats.aliaslog import ALIAS_LOG_REF
from promptctl.formats.config import AliasPolicy, parse_config
from promptctl.git import Repo

from .helpers import AUTHOR, Run, git, register_n, snapshot, tick

PROTECTED = """version: 1
protected_aliases:
  production:
    require_reason: true
    promote_from: staging
"""


def now() -> int:
    """The test clock's current stamp (what the next commit records as its date)."""
    return int(os.environ["GIT_AUTHOR_DATE"].lstrip("@").split()[0])


def protect(repo_path: Path, text: str = PROTECTED) -> None:
    (repo_path / "promptctl.yaml").write_text(text)
    git(repo_path, "commit", "-qam", "Protect production")
    tick()


def log_commits(repo_path: Path) -> list[str]:
    """The alias log's commits, newest first, as ``<commit> <parents…>`` lines."""
    return git(repo_path, "rev-list", "--parents", ALIAS_LOG_REF).splitlines()


# -- what is recorded ------------------------------------------------------------------------


def test_set_move_delete_are_recorded_with_who_when_why(
    registry: Registry, repo_path: Path
) -> None:
    register_n(registry, "s", 2)
    head = git(repo_path, "rev-parse", "HEAD")
    tick()
    registry.set_alias("s", "staging", 1)
    stamps = [now()]
    tick()
    registry.set_alias("s", "staging", 2, "ship it", author="Ann Lee <ann@example.com>")
    stamps.append(now())
    tick()
    registry.delete_alias("s", "staging", "  retired  ")
    stamps.append(now())

    moves = registry.alias_history("s")
    assert [(m.action, m.from_version, m.to_version, m.reason) for m in moves] == [
        ("set", None, 1, None), ("move", 1, 2, "ship it"), ("delete", 2, None, "retired"),
    ]
    assert [(m.author, m.email) for m in moves] == [
        AUTHOR, ("Ann Lee", "ann@example.com"), AUTHOR,
    ]
    assert [m.timestamp for m in moves] == stamps
    versions = registry.history("s")
    assert moves[1].from_commit == versions[0].commit and moves[1].to_commit == versions[1].commit
    assert not any(m.forced for m in moves)
    assert moves[1].to_dict()["date"] == moves[1].date.isoformat()
    # One empty-tree commit per move, and the branch itself never moves for an alias.
    assert len(log_commits(repo_path)) == 3
    empty = git(repo_path, "hash-object", "-t", "tree", "/dev/null").strip()
    assert git(repo_path, "rev-parse", f"{ALIAS_LOG_REF}^{{tree}}").strip() == empty
    assert git(repo_path, "rev-parse", "HEAD") == head
    subject = git(repo_path, "log", "-1", "--format=%s", ALIAS_LOG_REF).strip()
    assert subject == "s@staging: v2 -> none"


def test_history_filters_by_prompt_and_alias(registry: Registry) -> None:
    register_n(registry, "s", 2)
    registry.register_prompt("s/sub", "other\n", "other")
    registry.set_alias("s", "staging", 1, "a")
    registry.set_alias("s", "production", 2, "b")
    registry.set_alias("s/sub", "staging", 1, "c")
    assert [m.reason for m in registry.alias_history("s")] == ["a", "b"]
    assert [m.reason for m in registry.alias_history("s", "production")] == ["b"]
    assert [m.name for m in registry.alias_history("s/sub")] == ["s/sub"]
    # An alias that never existed is not found (an empty history would read as "never
    # moved", hiding a typo).
    with pytest.raises(AliasNotFound, match="no alias 'canary'"):
        registry.alias_history("s", "canary")
    with pytest.raises(PromptNotFound):
        registry.alias_history("nope")


def test_a_refused_move_records_nothing(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 1)
    registry.set_alias("s", "staging", 1, "first")
    before = snapshot(repo_path)
    with pytest.raises(VersionNotFound):
        registry.set_alias("s", "staging", 9, "too far")
    assert snapshot(repo_path) == before
    assert [m.reason for m in registry.alias_history("s")] == ["first"]


def test_record_and_ref_change_are_one_transaction(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 1)
    registry.set_alias("s", "staging", 1, "first")
    tip = git(repo_path, "rev-parse", ALIAS_LOG_REF)
    commit = registry.history("s")[0].commit
    stale = "1" * 40  # the tag is not where this writer believes: its lease fails
    with pytest.raises(Conflict, match="changed by someone else"):
        registry.repo.records.append(
            ALIAS_LOG_REF, "lost", also=[("refs/tags/prompts/s@other", commit, stale)]
        )
    assert git(repo_path, "rev-parse", ALIAS_LOG_REF) == tip
    assert "s@other" not in git(repo_path, "for-each-ref")


# -- concurrency -----------------------------------------------------------------------------


def _promote_in_process(path: str, worker: int, rounds: int) -> None:
    with Registry(path) as reg:
        for i in range(rounds):
            reg.set_alias("race", "staging", 1 + (worker + i) % 2, f"worker {worker} round {i}")


def _append_without_lock(path: str, worker: int, rounds: int) -> None:
    repo = Repo.find(Path(path))
    assert repo is not None
    try:
        for i in range(rounds):
            repo.records.append("refs/promptctl/test-log", f"worker {worker} record {i}")
    finally:
        repo.close()


def test_concurrent_promotions_all_land_in_one_chain(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "race", 2)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.starmap(_promote_in_process, [(str(repo_path), w, 6) for w in range(2)])
    moves = registry.alias_history("race", "staging")
    # A request for the version the alias already holds records nothing; every other
    # one is recorded once.
    asked = {f"worker {w} round {i}" for w in range(2) for i in range(6)}
    assert {m.reason for m in moves} <= asked and len(moves) >= 2
    assert all(m.from_version != m.to_version for m in moves)
    # Each record starts where the one before it ended: no move was lost or reordered.
    assert all(b.from_version == a.to_version for a, b in itertools.pairwise(moves))
    lines = log_commits(repo_path)
    assert len(lines) == len(moves) and all(len(line.split()) <= 2 for line in lines)  # linear
    assert registry.load_prompt("race@staging", cache_ttl_seconds=0).version == moves[-1].to_version
    git(repo_path, "fsck", "--no-progress")


def test_appends_racing_without_the_lock_are_all_kept(repo_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        pool.starmap(_append_without_lock, [(str(repo_path), w, 10) for w in range(4)])
    lines = git(repo_path, "rev-list", "--parents", "refs/promptctl/test-log").splitlines()
    assert len(lines) == 40 and all(len(line.split()) <= 2 for line in lines)
    subjects = git(repo_path, "log", "--format=%s", "refs/promptctl/test-log").splitlines()
    assert sorted(subjects) == sorted(f"worker {w} record {i}" for w in range(4) for i in range(10))


# -- travelling with clone, push and fetch --------------------------------------------------


PUSH = "refs/promptctl/*:refs/promptctl/*"
FETCH = "+refs/promptctl/*:refs/remotes/origin/promptctl/*"
TRACKING = "refs/remotes/origin/promptctl/alias-log"


def test_history_travels_and_merges_across_clones(
    registry: Registry, repo_path: Path, tmp_path: Path
) -> None:
    register_n(registry, "s", 2)
    tick()
    registry.set_alias("s", "staging", 1, "first")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo_path, "remote", "add", "origin", remote.as_uri())
    git(repo_path, "push", "-q", "origin", "main", "refs/tags/*:refs/tags/*", PUSH)

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", remote.as_uri(), str(clone))
    git(clone, "fetch", "-q", "origin", PUSH)  # clone skips refs/promptctl/*: fetch it once
    with Registry(clone) as other:
        assert other.alias_history("s") == registry.alias_history("s")

        # Both clones append, so the two chains diverge.
        tick()
        registry.set_alias("s", "production", 1, "from the first clone")
        git(repo_path, "push", "-q", "origin", PUSH)
        tick()
        other.set_alias("s", "staging", 2, "from the second clone")
        refused = subprocess.run(["git", "push", "-q", "origin", PUSH], cwd=clone,
                                 capture_output=True, text=True, check=False)
        assert refused.returncode != 0  # non-fast-forward: the remote's record is kept

        git(clone, "fetch", "-q", "origin", FETCH)
        assert other.merge_alias_log(TRACKING) == "merged"
        git(clone, "push", "-q", "origin", PUSH)
        assert other.merge_alias_log(TRACKING) == "up to date"

        git(repo_path, "fetch", "-q", "origin", FETCH)
        assert registry.merge_alias_log(TRACKING) == "fast-forward"
        here, there = registry.alias_history("s"), other.alias_history("s")
    assert here == there
    assert [m.reason for m in here] == ["first", "from the first clone", "from the second clone"]
    assert git(repo_path, "rev-parse", ALIAS_LOG_REF) == git(remote, "rev-parse", ALIAS_LOG_REF)
    git(repo_path, "fsck", "--no-progress")
    git(remote, "fsck", "--no-progress")


def test_merging_a_missing_log_is_not_found(registry: Registry) -> None:
    from promptctl import NotFound

    with pytest.raises(NotFound, match="fetch it first"):
        registry.merge_alias_log(TRACKING)


# -- protected aliases -----------------------------------------------------------------------


def test_protected_alias_needs_a_reason_and_the_promotion_path(
    registry: Registry, repo_path: Path
) -> None:
    register_n(registry, "s", 3)
    protect(repo_path)
    registry.set_alias("s", "staging", 2)  # staging itself is not protected
    before = snapshot(repo_path)
    with pytest.raises(ProtectedAlias, match=r"a reason is required \(-m\)"):
        registry.set_alias("s", "production", 2)
    refused = r"'staging' holds or has held \(2\), and 'staging' never held version 3"
    with pytest.raises(ProtectedAlias, match=refused):
        registry.set_alias("s", "production", 3, "skip staging")
    assert snapshot(repo_path) == before

    registry.set_alias("s", "production", 2, "release 2")
    registry.set_alias("s", "staging", 3)
    registry.set_alias("s", "production", 3, "release 3")
    # A roll back to a version staging held earlier is on the path, per the history.
    registry.set_alias("s", "production", 2, "roll back")
    assert registry.load_prompt("s@production", cache_ttl_seconds=0).version == 2
    assert [m.reason for m in registry.alias_history("s", "production")] == [
        "release 2", "release 3", "roll back",
    ]


def test_force_overrides_protection_and_is_recorded(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 2)
    protect(repo_path)
    before = snapshot(repo_path)
    with pytest.raises(InvalidInput, match="needs a reason"):
        registry.set_alias("s", "production", 1, force=True)
    assert snapshot(repo_path) == before
    registry.set_alias("s", "production", 1, "incident 42: hotfix", force=True)
    with pytest.raises(ProtectedAlias, match="deleting it is refused"):
        registry.delete_alias("s", "production", "cleanup")
    registry.delete_alias("s", "production", "incident 42 over", force=True)
    moves = registry.alias_history("s", "production")
    assert [(m.action, m.to_version, m.forced, m.reason) for m in moves] == [
        ("set", 1, True, "incident 42: hotfix"), ("delete", None, True, "incident 42 over"),
    ]
    assert "(forced)" in git(repo_path, "log", "--format=%s", ALIAS_LOG_REF)


def test_protection_follows_the_committed_config(registry: Registry, repo_path: Path) -> None:
    register_n(registry, "s", 1)
    protect(repo_path)
    (repo_path / "promptctl.yaml").write_text("version: 1\n")  # an unsaved local loosening
    with pytest.raises(ProtectedAlias, match="reason is required"):
        registry.set_alias("s", "production", 1)
    assert registry.config().policy("production") == AliasPolicy(True, "staging")


def test_cli_refusal_leaves_the_repository_unchanged(run: Run, repo_path: Path) -> None:
    run("register", "s", "-t", "one")
    protect(repo_path)
    before = snapshot(repo_path)
    code, out, err = run("alias", "set", "s", "production", "1", "-m", "go")
    assert (code, out) == (2, "")
    assert err.startswith("error: alias 'production' of 's' is protected: ")
    assert err.count("\n") == 1
    assert "'staging'" in err and "--force" in err
    assert snapshot(repo_path) == before

    code, out, err = run("alias", "set", "s", "production", "1", "-m", "outage", "--force")
    assert code == 0 and "version 1" in out
    code, out, err = run("alias", "delete", "s", "production", "-m", "drop")
    assert code == 2 and "deleting it is refused" in err
    assert run("alias", "delete", "s", "production", "-m", "drop", "--force")[0] == 0
    code, out, _ = run("--json", "alias", "history", "s", "production")
    assert code == 0
    data = json.loads(out)
    assert [(d["action"], d["forced"], d["reason"]) for d in data] == [
        ("set", True, "outage"), ("delete", True, "drop"),
    ]


def test_cli_history_table(run: Run) -> None:
    run("register", "s", "-t", "one")
    run("register", "s", "-t", "two")
    run("alias", "set", "s", "staging", "1", "-m", "first cut")
    run("alias", "set", "s", "staging", "2", "-m", "second cut", "--author", "Ann <ann@x.org>")
    code, out, err = run("alias", "history", "s", "staging")
    assert code == 0 and err == ""
    first, second = out.index("first cut"), out.index("second cut")
    assert first < second  # newest last
    assert "Ann" in out[second - 200:second] and "v1" in out and "v2" in out
    code, out, err = run("alias", "history", "s", "canary")
    assert (code, out) == (3, "") and "no alias 'canary'" in err


# -- the config file -------------------------------------------------------------------------


def test_config_defaults_and_shorthand() -> None:
    assert parse_config("version: 1\n").protected_aliases == {}
    assert parse_config("").policy("production") is None
    text = "protected_aliases:\n  production:\n  canary:\n    require_reason: false\n"
    config = parse_config(text)
    assert config.policy("production") == AliasPolicy(require_reason=True, promote_from=None)
    assert config.policy("canary") == AliasPolicy(require_reason=False)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("protected_aliases:\n  production:\n    require_reasn: true\n",
         "protected_aliases.production.require_reasn: unknown setting"),
        ("protected_aliases:\n  production:\n    require_reason: maybe\n",
         "protected_aliases.production.require_reason: must be true or false"),
        ("protected_aliases:\n  production:\n    promote_from: production\n",
         "protected_aliases.production.promote_from: an alias cannot be promoted from itself"),
        ("protected_aliases:\n  production:\n    promote_from: latest\n",
         "protected_aliases.production.promote_from: invalid alias 'latest'"),
        ("protected_aliases: [production]\n", "protected_aliases: must map alias names"),
        ("protected_aliases:\n  production: yes\n",
         "protected_aliases.production: must be a mapping"),
        ("version: 2\n", "version: must be 1"),
        ("- a list\n", "must be a mapping of settings"),
        ("version: [1\n", "not valid YAML"),
    ],
)
def test_bad_config_names_the_file_and_key(text: str, fragment: str) -> None:
    with pytest.raises(InvalidConfig) as caught:
        parse_config(text, "promptctl.yaml")
    assert str(caught.value).startswith("promptctl.yaml: ")
    assert fragment in str(caught.value)


def test_bad_config_blocks_alias_moves_with_exit_2(run: Run, repo_path: Path) -> None:
    run("register", "s", "-t", "one")
    protect(repo_path, "protected_aliases:\n  production:\n    require_reasn: true\n")
    before = snapshot(repo_path)
    code, out, err = run("alias", "set", "s", "production", "1", "-m", "go")
    assert (code, out) == (2, "")
    assert "promptctl.yaml" in err and "protected_aliases.production.require_reasn" in err
    assert snapshot(repo_path) == before
