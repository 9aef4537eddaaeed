"""Versions and aliases under ordinary Git work: two plain clones of a bare remote.

Each test works as a team does: ``git clone``, promptctl commands, plain ``git pull``
(merge and rebase), pull requests merged by merge commit, squash or rebase, and a
fresh ``--depth 1 --no-tags`` CI checkout; then it checks, from a fresh clone of the
remote, that every version number names the content it named when it was pushed and
every alias loads what it was set to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promptctl import PromptContent, Registry
from promptctl.errors import AliasNotFound

from .helpers import git, split_alias_move, tick


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare remote holding a registry with one prompt at version 2."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(bare), str(seed))
    with Registry.init(seed) as reg:
        tick()
        reg.register_prompt("s", "one {{x}}\n", "v1")
        tick()
        reg.register_prompt("s", "two {{x}}\n", "v2")
    git(seed, "push", "-q", "origin", "HEAD:main")
    git(bare, "symbolic-ref", "HEAD", "refs/heads/main")
    return bare


def clone(remote: Path, name: str, *args: str) -> Path:
    path = remote.parent / name
    git(remote.parent, "clone", "-q", *args, f"file://{remote}", str(path))
    return path


def contents(path: Path, name: str = "s") -> dict[int, str]:
    """Every version of ``name`` as the registry at ``path`` numbers it: number -> text."""
    with Registry(path) as reg:
        return {v.version: str(reg.load_prompt(f"{name}/{v.version}").template)
                for v in reg.history(name)}


def pushed_view(remote: Path) -> Registry:
    """The remote as a fresh consumer sees it (promptctl's own clone of the URL)."""
    return Registry(f"file://{remote}", fetch_ttl_seconds=0)


def edit(path: Path, text: str, message: str, name: str = "s") -> None:
    """A hand edit, committed with plain git."""
    tick()
    (path / "prompts" / f"{name}.yaml").write_text(f"template: |\n  {text}\n")
    git(path, "add", f"prompts/{name}.yaml")
    git(path, "commit", "-qm", message)


def test_foxtrot_merge_keeps_the_remotes_version_numbers(remote: Path) -> None:
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    with Registry(bob) as reg:
        tick()
        v3 = reg.register("s", PromptContent("three by Bob {{x}}\n"), "v3", push=True)
        reg.set_alias("s", "production", v3.version.version, push=True)
    assert v3.version.version == 3
    edit(alice, "hand edit by Alice {{x}}", "Alice's edit")
    push = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=alice,
                          capture_output=True, text=True, check=False)
    assert push.returncode != 0  # rejected: Bob pushed first
    # git pull --no-rebase: a merge whose first parent is Alice's commit. The merge
    # conflicts (both changed the file); Alice keeps hers and commits with git's message.
    subprocess.run(["git", "pull", "-q", "--no-rebase", "origin", "main"], cwd=alice,
                   capture_output=True, check=False)
    git(alice, "checkout", "--ours", "prompts/s.yaml")
    git(alice, "commit", "-qa", "--no-edit")
    git(alice, "push", "-q", "origin", "main")
    with pushed_view(remote) as consumer:
        assert consumer.load_prompt("s/3").template == "three by Bob {{x}}\n"
        production = consumer.load_prompt("s@production", cache_ttl_seconds=0)
        assert (production.version, production.template) == (3, "three by Bob {{x}}\n")
        latest = consumer.load_prompt("s", cache_ttl_seconds=0)
        assert latest.version == 4 and latest.template == "hand edit by Alice {{x}}\n"
    assert contents(clone(remote, "fresh")) == {
        1: "one {{x}}\n", 2: "two {{x}}\n", 3: "three by Bob {{x}}\n",
        4: "hand edit by Alice {{x}}\n"}


def test_a_pushed_foxtrot_merge_with_a_message_of_its_own_is_loud_where_the_old_number_was_seen(
        remote: Path) -> None:
    """Without the hook, Alice pushes a merge with her commit first and her own message:
    Bob's pushed 3 becomes 4 on the line. That is a pushed number changing meaning, so
    in Bob's clone, which had seen it, it is a failing ``renumbered`` finding (not a
    note that it was never pushed), and a load of it warns."""
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    with Registry(bob) as reg:
        tick()
        reg.register("s", PromptContent("three by Bob {{x}}\n"), "v3", push=True)
        assert reg.load_prompt("s/3").template == "three by Bob {{x}}\n"
    edit(alice, "three by Alice {{x}}", "Alice's edit")
    subprocess.run(["git", "pull", "-q", "--no-rebase", "origin", "main"], cwd=alice,
                   capture_output=True, check=False)
    git(alice, "checkout", "--ours", "prompts/s.yaml")
    git(alice, "commit", "-qam", "merged by hand")  # not git's message
    git(alice, "push", "-q", "origin", "main")
    git(bob, "pull", "-q", "--ff-only")
    with Registry(bob) as reg:
        assert reg.load_prompt("s/3", cache_ttl_seconds=0).template == "three by Alice {{x}}\n"
        loud = [f for f in reg.findings() if f.number == 3 and f.failing]
        assert [f.kind for f in loud] == ["renumbered"]
        assert reg.warnings and "s/3" in reg.warnings[0]


@pytest.mark.parametrize("theirs", ["hand edit", "register"])
@pytest.mark.parametrize("ours", ["hand edit", "register"])
def test_a_pushed_pull_merge_keeps_every_number_the_remote_had(remote: Path, theirs: str,
                                                               ours: str) -> None:
    """``git pull`` (merge) puts Alice's commit first and Bob's pushed version 3 second;
    pushed as it is, with git's own message, Bob's 3 stays 3 in Alice's clone and on the
    remote, whether it was registered or a hand edit, and Alice's change is 4."""
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    for who, how in ((bob, theirs), (alice, ours)):
        text = f"three by {who.name} {{{{x}}}}"
        if how == "hand edit":
            edit(who, text, f"{who.name}'s edit")
        else:
            with Registry(who) as reg:
                tick()
                reg.register_prompt("s", text + "\n", f"{who.name}'s register")
        if who == bob:
            git(bob, "push", "-q", "origin", "main")
    assert contents(alice)[3] == "three by alice {{x}}\n"  # her clone's number, not pushed
    subprocess.run(["git", "pull", "-q", "--no-rebase", "origin", "main"], cwd=alice,
                   capture_output=True, check=False)
    git(alice, "checkout", "--ours", "prompts/s.yaml")
    git(alice, "commit", "-qa", "--no-edit")  # git's message: "Merge branch 'main' of …"
    expected = {1: "one {{x}}\n", 2: "two {{x}}\n", 3: "three by bob {{x}}\n",
                4: "three by alice {{x}}\n"}
    assert contents(shutil.copytree(alice, remote.parent / "before-push")) == expected
    git(alice, "push", "-q", "origin", "main")  # her index is brought up to date after it
    assert contents(alice) == expected
    assert contents(clone(remote, "fresh")) == expected
    with Registry(alice) as reg:  # her 3 was hers alone: noted, not a rewrite
        reg.load_prompt("s/3")
        assert reg.warnings == [] and not [f for f in reg.findings() if f.failing]
    git(bob, "pull", "-q", "--no-rebase")
    assert contents(bob) == expected


@pytest.mark.parametrize("held", ["hand edit", "register"])
def test_a_pull_request_merge_keeps_the_numbers_main_had_pushed(remote: Path,
                                                                held: str) -> None:
    """A pull request cut from a main holding an unpushed register carries its final
    record ("s 3"); meanwhile main got its own version 3. Merged by a merge commit on the
    host, the branch is the side: main's pushed 3 keeps its content, the record is
    numbered anew, in every clone (the shape of a ``git pull`` merge, roles reversed)."""
    alice, bob = clone(remote, "alice"), clone(remote, "bob")
    with Registry(alice) as reg:
        tick()
        assert reg.register_prompt("s", "Alice's three {{x}}\n", "a3").version == 3
    git(alice, "checkout", "-q", "-b", "feature")
    git(alice, "push", "-q", "origin", "feature")
    if held == "hand edit":
        edit(bob, "Bob's three {{x}}", "Bob's edit")
    else:
        with Registry(bob) as reg:
            tick()
            reg.register_prompt("s", "Bob's three {{x}}\n", "b3")
    git(bob, "push", "-q", "origin", "main")
    before = contents(clone(remote, "before"))
    assert before[3] == "Bob's three {{x}}\n"
    with Registry(clone(remote, "watcher")) as watcher:  # an index built before the merge
        assert watcher.load_prompt("s/3").template == "Bob's three {{x}}\n"
    host = clone(remote, "host")
    tick()
    merge = subprocess.run(["git", "merge", "-q", "--no-ff", "-m", "Merge pull request #7",
                            "origin/feature"], cwd=host, capture_output=True, check=False)
    if merge.returncode:  # both changed the file: the pull request's side is taken
        git(host, "checkout", "--theirs", "prompts/s.yaml")
        git(host, "commit", "-qa", "--no-edit")
    git(host, "push", "-q", "origin", "main")
    expected = {**before, 4: "Alice's three {{x}}\n"}
    fresh = clone(remote, "fresh")
    assert contents(fresh) == expected
    # The lost claim is history now, in every clone for good: `check` notes it, and a CI
    # gate on `check` keeps passing.
    check = subprocess.run([sys.executable, "-m", "promptctl", "-r", str(fresh), "check"],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    assert "note: s/3 is claimed by commit" in check.stderr
    assert "1 file(s) checked, 0 problem(s)" in check.stderr
    git(remote.parent / "watcher", "pull", "-q")
    assert contents(remote.parent / "watcher") == expected
    with Registry(remote.parent / "watcher") as watcher:
        assert [f.kind for f in watcher.findings()] == ["clash"]  # renumbered nothing
    # Alice's clone numbered her register 3; the remote never did: only noted there.
    git(alice, "checkout", "-q", "main")
    git(alice, "pull", "-q", "--no-rebase")
    assert contents(alice) == expected
    with Registry(alice) as reg:
        assert reg.warnings == [] and not [f for f in reg.findings() if f.failing]


def test_an_alias_on_a_register_whose_claim_lost_loads_it_after_the_merge(
        remote: Path) -> None:
    """The pull request's register claimed 3, which main holds; the merge keeps main's
    file. The register is still a version of main's history, numbered anew, and an
    alias set on it on the branch loads it."""
    alice, bob = clone(remote, "alice"), clone(remote, "bob")
    with Registry(alice) as reg:
        tick()
        reg.register_prompt("s", "Alice's three {{x}}\n", "a3")
    git(alice, "checkout", "-q", "-b", "feature")
    with Registry(alice) as reg:
        tick()
        reg.set_alias("s", "staging", 3, "try it", push=True)
    git(alice, "push", "-q", "origin", "feature")
    edit(bob, "Bob's three {{x}}", "Bob's edit")
    git(bob, "push", "-q", "origin", "main")
    host = clone(remote, "host")
    tick()
    merge = subprocess.run(["git", "merge", "-q", "--no-ff", "-m", "Merge pull request #8",
                            "origin/feature"], cwd=host, capture_output=True, check=False)
    assert merge.returncode  # both changed the file: main's is kept
    git(host, "checkout", "--ours", "prompts/s.yaml")
    git(host, "commit", "-qa", "--no-edit")
    git(host, "push", "-q", "origin", "main")
    fresh = clone(remote, "fresh")
    assert contents(fresh) == {1: "one {{x}}\n", 2: "two {{x}}\n", 3: "Bob's three {{x}}\n",
                               4: "Alice's three {{x}}\n"}
    with Registry(fresh) as reg:
        staging = reg.load_prompt("s@staging", cache_ttl_seconds=0)
        assert (staging.version, staging.template) == (4, "Alice's three {{x}}\n")
        assert reg.load_prompt("s", cache_ttl_seconds=0).template == "Bob's three {{x}}\n"


def test_an_alias_on_a_draft_the_merge_left_out_says_so(remote: Path) -> None:
    """A draft made on a branch whose content the merge did not take is no version of
    main: its alias does not load, and the error says why, not "not merged yet"."""
    dev = clone(remote, "dev")
    git(dev, "checkout", "-q", "-b", "feature")
    with Registry(dev) as reg:
        tick()
        assert reg.register("s", PromptContent("tried {{x}}\n"), "try").provisional
        reg.set_alias("s", "staging", 3, "try it", push=True)
    git(dev, "push", "-q", "origin", "feature")
    host = clone(remote, "host")
    tick()
    git(host, "merge", "-q", "--no-ff", "-s", "ours", "-m", "Merge pull request #9",
        "origin/feature")
    git(host, "push", "-q", "origin", "main")
    with Registry(clone(remote, "fresh")) as reg, \
            pytest.raises(AliasNotFound, match="a branch merged without that content"):
        reg.load_prompt("s@staging", cache_ttl_seconds=0)


def test_rebase_pull_numbers_the_rebased_commit_after_the_remotes(remote: Path) -> None:
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    with Registry(bob) as reg:
        tick()
        reg.register("s", PromptContent("three by Bob {{x}}\n"), "v3", push=True)
    with Registry(alice) as reg:
        tick()
        made = reg.register("s", PromptContent("Alice's three {{x}}\n"), "Alice v3")
        assert made.version.version == 3  # local, not pushed: Bob's 3 is not known here
    # git pull --rebase replays Alice's commit on Bob's; it conflicts, she keeps hers.
    subprocess.run(["git", "pull", "-q", "--rebase", "origin", "main"], cwd=alice,
                   capture_output=True, check=False)
    git(alice, "checkout", "--theirs", "prompts/s.yaml")
    git(alice, "add", "prompts/s.yaml")
    git(alice, "-c", "core.editor=true", "rebase", "--continue")
    with Registry(alice) as reg:
        # Her 3 was never pushed and lives on as 4: no rewrite to warn about; that, and
        # the claim her record made (the rebase kept its tree), are only noted.
        assert reg.load_prompt("s/4").template == "Alice's three {{x}}\n"
        assert reg.warnings == []
        assert sorted(f.kind for f in reg.findings()) == ["clash", "unpushed"]
        assert not [f for f in reg.findings() if f.failing]
    git(alice, "push", "-q", "origin", "main")
    expected = {1: "one {{x}}\n", 2: "two {{x}}\n", 3: "three by Bob {{x}}\n",
                4: "Alice's three {{x}}\n"}
    assert contents(alice) == expected
    assert contents(clone(remote, "fresh")) == expected


def test_a_forced_push_that_reorders_pushed_versions_is_reported(remote: Path) -> None:
    """Both contents live on, swapped: numbers the remote had given changed meaning, so
    the findings stay, unlike a version that only moved before it was pushed."""
    dev, watcher = clone(remote, "dev"), clone(remote, "watcher")
    for text in ("three", "four"):
        edit(dev, f"{text} {{{{x}}}}", text)
    git(dev, "push", "-q", "origin", "main")
    git(watcher, "pull", "-q")
    assert contents(watcher)[3] == "three {{x}}\n"
    git(dev, "reset", "-q", "--hard", "HEAD~2")
    for text in ("four", "three"):
        edit(dev, f"{text} {{{{x}}}}", text)
    git(dev, "push", "-q", "--force", "origin", "main")
    git(watcher, "fetch", "-q")
    git(watcher, "reset", "-q", "--hard", "origin/main")
    with Registry(watcher) as reg:
        assert reg.load_prompt("s/3", cache_ttl_seconds=0).template == "four {{x}}\n"
        assert sorted((f.kind, f.number) for f in reg.findings()) == [
            ("renumbered", 3), ("renumbered", 4)]


@pytest.mark.parametrize("merge", ["merge-commit", "squash", "rebase"])
def test_alias_set_on_a_branch_holds_after_the_branch_is_merged(remote: Path,
                                                                merge: str) -> None:
    dev = clone(remote, "dev")
    git(dev, "checkout", "-q", "-b", "feature")
    with Registry(dev) as reg:
        tick()
        made = reg.register("s", PromptContent("from the branch {{x}}\n"), "on a branch")
        assert made.provisional
        reg.set_alias("s", "staging", made.version.version, push=True)
    git(dev, "push", "-q", "origin", "feature")
    # Meanwhile main gets a hand edit: the branch's number 3 is taken there.
    main = clone(remote, "main")
    edit(main, "hot fix on main {{x}}", "hot fix")
    git(main, "push", "-q", "origin", "main")
    git(main, "fetch", "-q", "origin", "feature")
    # Each way conflicts on prompts/s.yaml (both sides changed it); the PR's side wins.
    how = {"merge-commit": ["merge", "--no-ff", "-m", "Merge PR", "origin/feature"],
           "squash": ["merge", "--squash", "origin/feature"],
           "rebase": ["cherry-pick", "origin/feature"]}[merge]
    subprocess.run(["git", *how], cwd=main, capture_output=True, check=False)
    git(main, "checkout", "origin/feature", "--", "prompts/s.yaml")
    tick()
    if merge == "rebase":
        git(main, "-c", "core.editor=true", "cherry-pick", "--continue")
    else:
        git(main, "commit", "-qm", f"Land feature ({merge})")
    git(main, "push", "-q", "origin", "main")
    expected_main = {1: "one {{x}}\n", 2: "two {{x}}\n", 3: "hot fix on main {{x}}\n",
                     4: "from the branch {{x}}\n"}
    fresh = clone(remote, "fresh")
    assert contents(fresh) == expected_main
    with pushed_view(remote) as consumer:
        staging = consumer.load_prompt("s@staging", cache_ttl_seconds=0)
        assert (staging.version, staging.template) == (4, "from the branch {{x}}\n")
        assert [(a.alias, a.version) for a in consumer.list_aliases("s")] == [("staging", 4)]


def test_plain_fetch_brings_moved_aliases_after_one_promptctl_command(remote: Path) -> None:
    ops, app = clone(remote, "ops"), clone(remote, "app")
    with Registry(app) as reg:  # any command configures the clone's fetch refspecs once
        assert reg.notes and "git fetch" in reg.notes[0]
        assert reg.load_prompt("s").version == 2
    with Registry(ops) as reg:
        reg.set_alias("s", "production", 1, push=True)
    git(app, "pull", "-q")
    with Registry(app) as reg:
        assert reg.load_prompt("s@production", cache_ttl_seconds=0).version == 1
    with Registry(ops) as reg:
        reg.set_alias("s", "production", 2, "promote", push=True)
    git(app, "fetch", "-q")  # a moved tag: plain git would refuse to clobber it
    with Registry(app) as reg:
        assert reg.load_prompt("s@production", cache_ttl_seconds=0).version == 2
        assert [m.to_version for m in reg.alias_history("s", "production")] == [1, 2]


def _log(path: Path, ref: str = "refs/promptctl/alias-log") -> list[str]:
    """The alias-log records at ``ref`` of ``path``, oldest first, by subject."""
    return git(path, "log", "--reverse", "--format=%s", ref).splitlines()


@pytest.mark.parametrize("killed", [True, False])
def test_alias_push_after_a_move_the_remote_never_saw(remote: Path, killed: bool) -> None:
    # A move made without --push (or one a kill left with its tag moved and its record
    # missing) is local only; the next --push must not take it for a remote move.
    alice = clone(remote, "alice")
    with Registry(alice) as reg:
        tick()
        reg.register("s", PromptContent("three {{x}}\n"), "v3", push=True)
        tick()
        reg.set_alias("s", "production", 1, push=True)
    tick()
    if killed:
        split_alias_move(alice, "s", "production", 2)
        assert not _log(alice)[-1].endswith("v1 -> v2")  # the tag moved, the record did not
    else:
        with Registry(alice) as reg:
            reg.set_alias("s", "production", 2)
    tick()
    with Registry(alice) as reg:
        info = reg.set_alias("s", "production", 3, "ship", push=True)
        assert info.version == 3
        assert [n for n in reg.notes if "interrupted" in n] == (
            [("recorded the alias move s@production: v1 -> v2: it was interrupted before "
              "its alias-log record was written")] if killed else [])
    moves = ["s@production: none -> v1", "s@production: v1 -> v2", "s@production: v2 -> v3"]
    assert _log(alice) == _log(remote) == moves  # the missing record once, pushed with the tag
    tag = "refs/tags/prompts/s@production^{}"
    assert git(remote, "rev-parse", tag) == git(alice, "rev-parse", tag)
    assert not (alice / ".git" / "promptctl" / "alias-move.json").exists()
    with Registry(alice) as reg:
        assert reg.findings() == []
    bob = clone(remote, "bob")
    with Registry(bob) as reg:
        reg.sync()
        assert [(m.from_version, m.to_version) for m in reg.alias_history("s")] == [
            (None, 1), (1, 2), (2, 3)]
        assert reg.load_prompt("s@production").version == 3
        assert reg.findings() == []


def test_alias_push_after_a_local_move_still_loses_to_a_remote_move(remote: Path) -> None:
    from promptctl import Conflict

    alice, bob = clone(remote, "alice"), clone(remote, "bob")
    with Registry(alice) as reg:
        tick()
        reg.set_alias("s", "production", 1, push=True)
    tick()
    split_alias_move(alice, "s", "production", 2)
    git(bob, "fetch", "-q", "origin", "+refs/tags/*:refs/tags/*")
    with Registry(bob) as reg:
        tick()
        reg.set_alias("s", "production", 2, "bob's", push=True)
    before = (_log(remote), git(remote, "for-each-ref"))
    with Registry(alice) as reg, pytest.raises(Conflict, match="moved on the remote"):
        tick()
        reg.set_alias("s", "production", 1, "back", push=True)
    assert (_log(remote), git(remote, "for-each-ref")) == before


def test_alias_push_to_the_version_a_stale_tag_names_loses_the_lease(remote: Path) -> None:
    # Alice's tag says production is 1; on origin Bob has moved it to 2 since. Her
    # "roll back to 1" is a move over Bob's, refused as any other, not "unchanged".
    import sys

    alice, bob = clone(remote, "alice"), clone(remote, "bob")
    with Registry(alice) as reg:
        tick()
        reg.set_alias("s", "production", 1, "first", push=True)
    git(bob, "fetch", "-q", "origin", "+refs/tags/*:refs/tags/*")
    with Registry(bob) as reg:
        tick()
        reg.set_alias("s", "production", 2, "bob's", push=True)
    before = (_log(remote), git(remote, "for-each-ref"))
    tick()
    back = subprocess.run([sys.executable, "-m", "promptctl", "alias", "set", "s", "production",
                           "1", "-m", "roll back", "--push"], cwd=alice, capture_output=True,
                          text=True, check=False)
    assert (back.returncode, back.stdout) == (4, "")
    assert back.stderr.startswith("error: alias 'production' of 's' moved on the remote")
    assert "ours version 1, theirs version 2" in back.stderr and back.stderr.count("\n") == 1
    assert (_log(remote), git(remote, "for-each-ref")) == before
    tag = "refs/tags/prompts/s@production"
    assert git(alice, "rev-parse", tag) == git(remote, "rev-parse", tag)  # now the remote's
    with Registry(alice) as reg:
        tick()
        again = reg.set_alias("s", "production", 1, "roll back", push=True)
        assert not again.unchanged
    assert _log(remote)[-1] == "s@production: v2 -> v1"


def test_alias_push_is_unchanged_only_when_origin_points_there_too(remote: Path) -> None:
    alice, bob = clone(remote, "alice"), clone(remote, "bob")
    with Registry(alice) as reg:
        tick()
        reg.set_alias("s", "production", 2, "ship", push=True)
        tick()
        reg.set_alias("s", "production", 1, "back, here only")  # forgot --push
        tick()
        pushed = reg.set_alias("s", "production", 1, "back", push=True)
        assert not pushed.unchanged
    # The tag and the record of the move made here went out; no "v1 -> v1" was recorded.
    tag = "refs/tags/prompts/s@production"
    assert git(remote, "rev-parse", tag) == git(alice, "rev-parse", tag)
    assert _log(remote) == _log(alice) == ["s@production: none -> v2", "s@production: v2 -> v1"]
    with pushed_view(remote) as consumer:
        assert [m.reason for m in consumer.alias_history("s", "production")] == [
            "ship", "back, here only"]
    before = (_log(remote), git(remote, "for-each-ref"))
    with Registry(alice) as reg:
        tick()
        assert reg.set_alias("s", "production", 1, "again", push=True).unchanged
    assert (_log(remote), git(remote, "for-each-ref")) == before
    # Another tag than ours, at the same version, on origin: unchanged too.
    with Registry(bob) as reg:
        tick()
        reg.set_alias("s", "canary", 2, "bob's", push=True)
    with Registry(alice) as reg:
        tick()
        reg.set_alias("s", "canary", 2, "alice's, here only")
        canary = "refs/tags/prompts/s@canary"
        assert git(alice, "rev-parse", canary) != git(remote, "rev-parse", canary)
        before = (_log(remote), git(remote, "for-each-ref"))
        tick()
        assert reg.set_alias("s", "canary", 2, "alice's", push=True).unchanged
    assert (_log(remote), git(remote, "for-each-ref")) == before


@pytest.mark.parametrize("version", [1, 2])
def test_alias_push_publishes_an_alias_set_here_that_origin_never_had(remote: Path,
                                                                     version: int) -> None:
    """Set without --push, then pushed: origin never had the alias and its log never
    recorded one, so the push creates it (leased on its absence), and the local alias and
    its record stay."""
    alice = clone(remote, "alice")
    with Registry(alice) as reg:
        tick()
        reg.set_alias("s", "staging", 2, "try it, here only")
        tick()
        pushed = reg.set_alias("s", "staging", version, "try it", push=True)
        assert pushed.version == version and not pushed.unchanged
    tag = "refs/tags/prompts/s@staging"
    assert git(remote, "rev-parse", tag) == git(alice, "rev-parse", tag)
    with pushed_view(remote) as consumer:
        assert consumer.load_prompt("s@staging", cache_ttl_seconds=0).version == version


def test_ci_checkout_judges_promote_from_by_the_remotes_history(remote: Path) -> None:
    ops = clone(remote, "ops")
    (ops / "promptctl.yaml").write_text(
        "version: 1\nprotected_aliases:\n  production:\n    promote_from: staging\n")
    git(ops, "commit", "-qam", "protect production")
    git(ops, "push", "-q")
    with Registry(ops) as reg:
        reg.set_alias("s", "staging", 2, "try it", push=True)
        reg.set_alias("s", "staging", 1, "back", push=True)
    ci = clone(remote, "ci", "--depth", "1", "--no-tags")
    with Registry(ci) as reg:
        info = reg.set_alias("s", "production", 2, "ship what staging held", push=True)
        assert info.version == 2
    with pushed_view(remote) as consumer:
        moves = consumer.alias_history("s", "production")
        assert [(m.to_version, m.reason) for m in moves] == [(2, "ship what staging held")]


def test_diff_base_shows_the_branchs_own_changes(remote: Path) -> None:
    dev = clone(remote, "dev")
    git(dev, "checkout", "-q", "-b", "feature")
    with Registry(dev) as reg:
        reg.register_prompt("mine", "added on the branch\n", "mine")
    main = clone(remote, "main")
    with Registry(main) as reg:
        reg.register("theirs", PromptContent("added on main\n"), "theirs", push=True)
    git(dev, "fetch", "-q")
    with Registry(dev) as reg:
        names = [c.name for c in reg.review("origin/main").changes]
        exact = [(c.name, c.status) for c in reg.review("origin/main", exact=True).changes]
    assert names == ["mine"]
    assert exact == [("mine", "added"), ("theirs", "removed")]


def test_a_failed_push_is_pushed_by_the_next_push(remote: Path) -> None:
    dev = clone(remote, "dev")
    (remote / "hooks").mkdir(exist_ok=True)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho refused by policy >&2\nexit 1\n")
    hook.chmod(0o755)
    with Registry(dev) as reg:
        with pytest.raises(Exception, match="refused"):
            reg.register("s", PromptContent("three {{x}}\n"), "v3", push=True)
        hook.unlink()
        again = reg.register("s", PromptContent("three {{x}}\n"), "v3", push=True)
        assert not again.created and again.version.version == 3
    assert contents(clone(remote, "fresh"))[3] == "three {{x}}\n"


@pytest.mark.parametrize("pushed", [True, False])
def test_a_reset_that_renumbers_is_reported(remote: Path, pushed: bool) -> None:
    """Loudly when the number was pushed (a warning, and ``check`` fails); only noted
    when it never left this clone, whose numbers are settled when they are pushed."""
    dev = clone(remote, "dev")
    with Registry(dev) as reg:
        tick()
        reg.register("s", PromptContent("three {{x}}\n"), "v3", push=pushed)
        assert reg.load_prompt("s/3").template == "three {{x}}\n"
    git(dev, "reset", "-q", "--hard", "HEAD~1")
    edit(dev, "another three {{x}}", "other")
    with Registry(dev) as reg:
        assert reg.load_prompt("s/3", cache_ttl_seconds=0).template == "another three {{x}}\n"
        assert any("s/3 was commit" in w for w in reg.warnings) is pushed
        assert [(f.kind, f.number, f.failing) for f in reg.findings()] == [
            ("renumbered" if pushed else "unpushed", 3, pushed)]


def test_sync_says_what_moved_and_pushes_what_is_local_only(remote: Path) -> None:
    ops, app = clone(remote, "ops"), clone(remote, "app")
    with Registry(ops) as reg:
        reg.set_alias("s", "production", 2, "ship", push=True)
    with Registry(app) as reg:
        result = reg.sync()
        assert [(m.alias, m.from_version, m.to_version) for m in result.moved] == [
            ("production", None, 2)]
        assert reg.load_prompt("s@production", cache_ttl_seconds=0).version == 2
        tick()
        reg.register_prompt("s", "three {{x}}\n", "local only")
        reg.set_alias("s", "staging", 3, "local move")
        pushed = reg.sync(push=True)
        assert pushed.pushed == ("refs/heads/main", "refs/promptctl/alias-log")
    with pushed_view(remote) as consumer:
        assert consumer.load_prompt("s/3").template == "three {{x}}\n"
        assert [m.reason for m in consumer.alias_history("s", "staging")] == ["local move"]


def _pre_push(path: Path, local: str, remote_sha: str) -> subprocess.CompletedProcess[str]:
    import sys

    line = f"refs/heads/main {local} refs/heads/main {remote_sha}\n"
    return subprocess.run([sys.executable, "-m", "promptctl", "hook", "pre-push", "origin", "u"],
                          cwd=path, input=line, capture_output=True, text=True, check=False)


def _merge_the_remote_in(remote: Path, how: list[str]) -> tuple[Path, str]:
    """Bob pushes version 3; Alice, with a commit of her own, fetches and merges
    ``origin/main`` into it (``how``: the message options): her clone and the remote tip
    she merged."""
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    with Registry(bob) as reg:
        tick()
        reg.register("s", PromptContent("three by Bob {{x}}\n"), "v3", push=True)
    edit(alice, "hand edit {{x}}", "Alice's edit", name="other")
    git(alice, "fetch", "-q")
    theirs = git(alice, "rev-parse", "origin/main").strip()
    git(alice, "merge", "-q", *how, "origin/main")  # first parent: Alice's commit
    return alice, theirs


@pytest.mark.parametrize("message", [None, "merge origin's work"])
def test_pre_push_hook_judges_a_pull_merge_by_its_message(remote: Path,
                                                         message: str | None) -> None:
    """A merge that puts Alice's commit first: with git's own message the remote's
    numbers stay on the line and the push goes ahead; with a message of her own the
    remote's tip leaves the line and the hook refuses, until she rebases instead."""
    alice, theirs = _merge_the_remote_in(
        remote, ["--no-edit"] if message is None else ["-m", message])
    judged = _pre_push(alice, git(alice, "rev-parse", "HEAD").strip(), theirs)
    if message is None:  # "Merge remote-tracking branch 'origin/main'"
        assert (judged.returncode, judged.stdout) == (0, "")
        assert "error" not in judged.stderr
        return
    assert judged.returncode == 4 and judged.stdout == ""
    assert judged.stderr.startswith("error: pushing") and "git pull --rebase" in judged.stderr
    assert judged.stderr.count("\n") == 1
    git(alice, "reset", "-q", "--hard", "HEAD~1")
    git(alice, "rebase", "-q", "origin/main")
    allowed = _pre_push(alice, git(alice, "rev-parse", "HEAD").strip(), theirs)
    assert (allowed.returncode, allowed.stderr) == (0, "")


def test_pre_push_hook_refuses_a_pull_message_on_a_merge_that_is_no_pull(
        remote: Path) -> None:
    """The message alone does not pass a merge: one that merges a side branch into the
    remote's tip under git's pull message would number along the side branch and take
    the remote's tip off the line, so the hook refuses it."""
    alice = clone(remote, "alice")
    theirs = git(alice, "rev-parse", "HEAD").strip()
    git(alice, "checkout", "-q", "-b", "side", "HEAD~1")
    edit(alice, "side {{x}}", "a side edit")
    git(alice, "checkout", "-q", "main")
    git(alice, "merge", "-q", "-X", "ours", "-m", f"Merge branch 'main' of file://{remote}",
        "side")
    refused = _pre_push(alice, git(alice, "rev-parse", "HEAD").strip(), theirs)
    assert refused.returncode == 4 and refused.stderr.startswith("error: pushing")


def test_pre_push_hook_refuses_a_forced_push_of_rewritten_history(remote: Path) -> None:
    """Amending the pushed tip and pushing with --force would change what version 2
    names: the remote's tip is on no line of the new one."""
    alice = clone(remote, "alice")
    theirs = git(alice, "rev-parse", "HEAD").strip()
    git(alice, "commit", "-q", "--amend", "-m", "v2, reworded")
    refused = _pre_push(alice, git(alice, "rev-parse", "HEAD").strip(), theirs)
    assert refused.returncode == 4 and "history rewritten" in refused.stderr


@pytest.mark.parametrize("way", ["stdin", "pre-commit"])
def test_pre_push_hook_judges_the_branch_pushed_to_not_the_one_checked_out(
        remote: Path, way: str) -> None:
    """Alice's merge with a message of her own, pushed to main while she has another
    branch checked out: the branch git (stdin) or pre-commit (PRE_COMMIT_REMOTE_BRANCH)
    names is the one judged, and refused."""
    alice, theirs = _merge_the_remote_in(remote, ["-m", "my merge"])
    merge = git(alice, "rev-parse", "HEAD").strip()
    git(alice, "checkout", "-q", "-b", "elsewhere")
    if way == "stdin":
        judged = _pre_push(alice, merge, theirs)
    else:
        judged = _pre_commit_pre_push(alice, merge, theirs, "refs/heads/main")
    assert judged.returncode == 4 and "error: pushing" in judged.stderr


def test_pre_push_hook_under_pre_commit_leaves_refs_that_are_no_branch(remote: Path) -> None:
    """pre-commit names every ref pushed, the alias log and tags too: those hold no
    version line and are not judged (the alias log's merges put ours first by design)."""
    alice, theirs = _merge_the_remote_in(remote, ["-m", "my merge"])
    merge = git(alice, "rev-parse", "HEAD").strip()
    assert _pre_commit_pre_push(alice, merge, theirs, "refs/heads/main").returncode == 4
    judged = _pre_commit_pre_push(alice, merge, theirs, "refs/promptctl/alias-log")
    assert judged.returncode == 0 and "error" not in judged.stderr


def _pre_commit_pre_push(path: Path, local: str, remote_sha: str,
                         branch: str) -> subprocess.CompletedProcess[str]:
    """The hook as pre-commit runs it: no stdin, the refs in its environment."""
    env = {**os.environ, "PRE_COMMIT_FROM_REF": remote_sha, "PRE_COMMIT_TO_REF": local,
           "PRE_COMMIT_REMOTE_BRANCH": branch}
    return subprocess.run([sys.executable, "-m", "promptctl", "hook", "pre-push"],
                          cwd=path, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=env, check=False)


def test_pre_push_hook_refuses_a_forced_push_back_to_an_older_tip(remote: Path) -> None:
    """``git reset --hard HEAD~1`` then ``git push --force``: the remote's version 2 would
    go, and the next register would give number 2 to other content."""
    alice = clone(remote, "alice")
    theirs = git(alice, "rev-parse", "HEAD").strip()
    git(alice, "reset", "-q", "--hard", "HEAD~1")
    refused = _pre_push(alice, git(alice, "rev-parse", "HEAD").strip(), theirs)
    assert refused.returncode == 4 and "move the branch back" in refused.stderr


def test_pre_push_hook_lets_a_rebased_pull_request_branch_be_force_pushed(
        remote: Path) -> None:
    """A pull-request branch holds drafts: rebased onto main and force-pushed, it renumbers
    nothing, and the hook lets it go."""
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    git(alice, "checkout", "-q", "-b", "feat")
    with Registry(alice) as reg:
        tick()
        reg.register("s", PromptContent("draft {{x}}\n"), "draft")
    git(alice, "push", "-q", "origin", "feat")
    theirs = git(alice, "rev-parse", "HEAD").strip()
    edit(bob, "other {{y}}", "Bob's edit", name="other")
    git(bob, "push", "-q", "origin", "main")
    git(alice, "fetch", "-q")
    git(alice, "rebase", "-q", "origin/main")
    line = f"refs/heads/feat {git(alice, 'rev-parse', 'HEAD').strip()} refs/heads/feat {theirs}\n"
    judged = subprocess.run([sys.executable, "-m", "promptctl", "hook", "pre-push", "origin",
                             "u"], cwd=alice, input=line, capture_output=True, text=True,
                            check=False)
    assert judged.returncode == 0 and "error" not in judged.stderr


@pytest.mark.parametrize("message", [None, "my merge"])
def test_the_ci_guard_judges_a_push_already_made(remote: Path, message: str | None) -> None:
    """docs/github-workflow.yml runs the hook's check in a fresh clone on the pushed
    range (the old tip an ancestor, no ref at it): a merge with Alice's commit first and
    a message of her own, pushed without the hook, fails it; git's message passes."""
    alice, theirs = _merge_the_remote_in(
        remote, ["--no-edit"] if message is None else ["-m", message])
    git(alice, "push", "-q", "origin", "main")
    ci = clone(remote, "ci")
    after = git(ci, "rev-parse", "HEAD").strip()
    guard = _pre_push(ci, after, theirs)
    if message is None:
        assert guard.returncode == 0 and "error" not in guard.stderr
    else:
        assert guard.returncode == 4 and guard.stderr.startswith("error: pushing")


def test_pull_merge_then_plain_push_with_the_hook_keeps_the_remotes_numbers(
        remote: Path) -> None:
    """The default way to catch up: ``git pull`` (merge, git's message), then ``git push``
    with the hook installed. The push lands, Bob's pushed 3 stays 3 everywhere, and
    Alice's register is 4 on the remote, in her clone and in a fresh one."""
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    _install_pre_push_hook(alice)
    with Registry(bob) as reg:
        tick()
        reg.register("s", PromptContent("three by Bob {{x}}\n"), "v3", push=True)
    with Registry(alice) as reg:
        tick()
        reg.register("s", PromptContent("three by Alice {{x}}\n"), "hers")
    pulled = subprocess.run(["git", "pull", "-q", "--no-rebase", "origin", "main"], cwd=alice,
                            capture_output=True, text=True, check=False)
    assert pulled.returncode != 0  # both changed s.yaml: she keeps hers
    git(alice, "checkout", "--ours", "prompts/s.yaml")
    git(alice, "commit", "-qa", "--no-edit")
    push = subprocess.run(["git", "push", "origin", "main"], cwd=alice, capture_output=True,
                          text=True, check=False)
    assert push.returncode == 0, push.stderr
    expected = {1: "one {{x}}\n", 2: "two {{x}}\n", 3: "three by Bob {{x}}\n",
                4: "three by Alice {{x}}\n"}
    assert contents(alice) == expected
    assert contents(clone(remote, "fresh")) == expected


def test_register_push_after_a_pull_merge_pushes_it_with_the_merge(remote: Path) -> None:
    """``register --push`` on a branch that holds a ``git pull`` merge (git's message) and
    the commit it merged: the whole branch lands, numbered as every clone numbers it."""
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    with Registry(bob) as reg:
        tick()
        reg.register("s", PromptContent("three by Bob {{x}}\n"), "v3", push=True)
    edit(alice, "other by Alice {{y}}", "Alice's edit", name="other")
    git(alice, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    with Registry(alice) as reg:
        tick()
        made = reg.register("s", PromptContent("four by Alice {{x}}\n"), "v4", push=True)
    assert made.version.version == 4
    assert git(remote, "rev-parse", "main").strip() == made.version.commit
    expected = {1: "one {{x}}\n", 2: "two {{x}}\n", 3: "three by Bob {{x}}\n",
                4: "four by Alice {{x}}\n"}
    fresh = clone(remote, "fresh")
    assert contents(fresh) == expected
    assert contents(fresh, "other") == {1: "other by Alice {{y}}\n"}


def _install_pre_push_hook(path: Path) -> None:
    """Install ``promptctl hook pre-push`` in the clone at ``path``, as README shows."""
    import sys

    hook = path / ".git" / "hooks" / "pre-push"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m promptctl hook pre-push "$@"\n')
    hook.chmod(0o755)


def test_pre_push_hook_leaves_a_push_behind_the_remote_to_git(remote: Path) -> None:
    # The remote's tip is a commit this clone never fetched: git hands it to the hook,
    # then refuses the push itself ("fetch first"). The hook has nothing to judge.
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    _install_pre_push_hook(alice)
    with Registry(bob) as reg:
        tick()
        reg.register("s", PromptContent("three by Bob {{x}}\n"), "v3", push=True)
    edit(alice, "hand edit {{x}}", "Alice's edit", name="other")
    landed = git(remote, "rev-parse", "main")
    push = subprocess.run(["git", "push", "origin", "main"], cwd=alice, capture_output=True,
                          text=True, check=False)
    assert push.returncode != 0
    assert "(fetch first)" in push.stderr
    assert "error: git" not in push.stderr and "bad object" not in push.stderr
    assert git(remote, "rev-parse", "main") == landed


def test_a_push_a_pre_push_hook_declines_says_so(remote: Path) -> None:
    """A hook of the user's own that says no: the error names the hook's reason, not an
    unreachable remote, and the version stays committed here."""
    from promptctl import Conflict

    alice = clone(remote, "alice")
    hook = alice / ".git" / "hooks" / "pre-push"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'error: no pushes on Fridays' >&2\nexit 1\n")
    hook.chmod(0o755)
    landed = git(remote, "rev-parse", "main")
    with Registry(alice) as reg, pytest.raises(Conflict) as caught:
        tick()
        reg.register("s", PromptContent("three {{x}}\n"), "v3", push=True)
    assert "declined" in str(caught.value) and "no pushes on Fridays" in str(caught.value)
    assert git(remote, "rev-parse", "main") == landed
    assert contents(alice)[3] == "three {{x}}\n"


def test_register_push_that_lost_a_race_is_re_made_with_the_hook_installed(
        remote: Path) -> None:
    bob, alice = clone(remote, "bob"), clone(remote, "alice")
    _install_pre_push_hook(alice)
    # Files checked out in the second the index was written are racily clean, which
    # read-tree (carrying the working tree to the re-made commit) may take for edits:
    # this test is about the hook, so the checkout is aged first.
    for name in git(alice, "ls-files").split():
        os.utime(alice / name, (1_600_000_000, 1_600_000_000))
    git(alice, "update-index", "-q", "--refresh")
    with Registry(bob) as reg:
        tick()
        three = reg.register("s", PromptContent("three by Bob {{x}}\n"), "v3", push=True)
    with Registry(alice) as reg:
        tick()
        made = reg.register("t", PromptContent("T {{y}}\n"), "tee", push=True)
        assert made.created and made.version.version == 1
        assert reg.load_prompt("s").version == 3
    assert git(remote, "rev-parse", "main").strip() == made.version.commit
    assert git(remote, "rev-parse", "main^").strip() == three.version.commit
    assert git(alice, "status", "--porcelain") == ""


def test_concurrent_alias_pushes_end_in_a_documented_state(remote: Path) -> None:
    import multiprocessing

    clones = [str(clone(remote, f"c{i}")) for i in range(3)]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        outcomes = pool.starmap(_promote_and_report,
                                [(c, 1 + i % 2, f"race {i}") for i, c in enumerate(clones)])
    # Each pushed, or lost its lease with the one-line conflict naming both versions.
    assert all(o == "ok" or o.startswith("alias 'production' of 's' moved on the remote")
               for o in outcomes), outcomes
    assert "ok" in outcomes
    with pushed_view(remote) as consumer:
        moves = consumer.alias_history("s", "production")
        assert len(moves) == outcomes.count("ok")


def _promote_and_report(path: str, version: int, reason: str) -> str:
    from promptctl import Conflict

    try:
        with Registry(path) as reg:
            reg.set_alias("s", "production", version, reason, push=True)
        return "ok"
    except Conflict as exc:
        return str(exc)
