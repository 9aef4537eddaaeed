"""The write path's hand-made parts agree with git byte for byte: commits and tags, the
identity and date in them, ref transactions and their reflogs, the patched index."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from promptctl import Registry
from promptctl.errors import Conflict, GitError, RefLocked
from promptctl.git import Repo
from promptctl.git.dircache import IndexFile, Unhandled

from .helpers import git, tick

MESSAGES = ["hello\n", "no newline", "ünï ☃ \U0001f600\n\nbody\n\n", "x\ufffe\n", "a\0b\n",
            "   leading and trailing   \n\n\n"]
AUTHORS = [None, ("A. U. Thor", "a@example.com"), (" .Crud, ", "<x@y>"),
           ("Ünï Cödé", "u@example.com")]
DATES = ["@1700000000 +0000", "@1700000000 -0000", "@1700000123 +0530", "@1700000000 -1245",
         "2005-04-07T22:13:13 +0200", "@1700000000 +0099"]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    path = tmp_path / "r"
    git(tmp_path, "init", "-q", str(path))
    (path / "f").write_text("x\n")
    git(path, "add", "f")
    git(path, "commit", "-qm", "first")
    found = Repo.find(path)
    assert found is not None
    return found


def test_commits_are_the_ones_commit_tree_makes(repo: Repo,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    tree = repo.objects.empty_tree()
    head = repo.refs.head().commit
    assert head is not None
    for date in DATES:
        monkeypatch.setenv("GIT_AUTHOR_DATE", date)
        monkeypatch.setenv("GIT_COMMITTER_DATE", DATES[(DATES.index(date) + 1) % len(DATES)])
        for message in MESSAGES:
            for author in AUTHORS:
                for parents in ((), (head,)):
                    if "\0" in message:  # git refuses it; so do we, in git's words
                        with pytest.raises(GitError, match="NUL byte"):
                            repo.commits.create(tree, parents, message, author)
                        continue
                    ours = repo.commits.create(tree, parents, message, author)
                    theirs = repo.commits.create_with_git(tree, parents, message, author)
                    assert ours == theirs, (date, message, author)
    git(repo.root, "fsck", "--no-progress")


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"])
def test_commits_made_now_match_commit_tree_in_any_timezone(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TZ", zone)
    tree = repo.objects.empty_tree()
    for _ in range(5):  # the two may straddle a second: a retry then agrees
        second = repo.identity.now()[0]  # git's clock: time(), coarse on Linux
        ours = repo.commits.create(tree, (), "now\n")
        theirs = repo.commits.create_with_git(tree, (), "now\n")
        if repo.identity.now()[0] == second:
            break
    assert ours == theirs
    monkeypatch.delenv("TZ")
    time.tzset()


def test_identity_follows_config_and_environment_changes(repo: Repo,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "@1700000000 +0000")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "@1700000000 +0000")
    tree = repo.objects.empty_tree()
    first = repo.commits.create(tree, (), "m\n")
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    time.sleep(0.01)
    git(repo.root, "config", "user.name", "Repo Person")
    git(repo.root, "config", "author.email", "author@repo.example")
    ours = repo.commits.create(tree, (), "m\n")
    assert ours != first
    assert ours == repo.commits.create_with_git(tree, (), "m\n")
    body = repo.objects.read(ours)
    assert body is not None and b"author Repo Person <author@repo.example>" in body[1]


@pytest.mark.parametrize(("key", "value"), [("i18n.commitEncoding", "ISO-8859-1"),
                                            ("commit.gpgSign", "true")])
def test_settings_that_change_a_commit_are_applied_as_commit_tree_does(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, key: str, value: str) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "@1700000000 +0000")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "@1700000000 +0000")
    git(repo.root, "config", key, value)
    git(repo.root, "config", "gpg.program", "false")  # a signature would fail
    tree = repo.objects.empty_tree()
    assert repo.commits.create(tree, (), "m\n") == repo.commits.create_with_git(tree, (), "m\n")


def test_tags_name_the_committer_as_git_does(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_COMMITTER_DATE", "@1700000456 +0200")
    head = repo.refs.head().commit
    assert head is not None
    tag = repo.commits.tag("t", head, "why\n", ("Tag Ger", "t@example.com"))
    found = repo.objects.read(tag)
    assert found is not None
    assert b"\ntagger Tag Ger <t@example.com> 1700000456 +0200\n" in found[1]
    git(repo.root, "update-ref", "refs/tags/t", tag)
    git(repo.root, "fsck", "--no-progress", "--strict")


# -- ref transactions ----------------------------------------------------------------------


def test_alias_moves_use_one_process_and_write_no_reflog(repo_path: Path) -> None:
    with Registry(repo_path) as reg:
        reg.register_prompt("s", "one\n", "v1")
        reg.register_prompt("s", "two\n", "v2")
        for version in (1, 2, 1, 2):
            reg.set_alias("s", "production", version, message=f"to {version}")
        session = reg.repo.ref_updates._session
        assert session is not None and session.alive()
        assert len(reg.alias_history("s", "production")) == 4
    assert not (repo_path / ".git" / "logs" / "refs" / "tags").exists()
    assert not (repo_path / ".git" / "logs" / "refs" / "promptctl").exists()
    reflog = git(repo_path, "reflog", "show", "--format=%gs", "refs/heads/main")
    assert reflog.splitlines()[:2] == ["promptctl: v2", "promptctl: v1"]
    git(repo_path, "fsck", "--no-progress")


@pytest.mark.parametrize("setting", ["always", "existing log"])
def test_refs_with_a_reflog_get_their_own_update_ref_and_reason(repo_path: Path,
                                                                setting: str) -> None:
    if setting == "always":
        git(repo_path, "config", "core.logAllRefUpdates", "always")
    else:
        log = repo_path / ".git" / "logs" / "refs" / "promptctl" / "alias-log"
        log.parent.mkdir(parents=True)
        log.touch()
    with Registry(repo_path) as reg:
        reg.register_prompt("s", "one\n", "v1")
        tick()  # a long-lived update-ref would stamp both moves alike
        reg.set_alias("s", "production", 1, message="first move")
        tick()
        reg.set_alias("s", "staging", 1, message="second move")
    lines = git(repo_path, "reflog", "show", "--format=%gs|%ct|%gd", "--date=unix",
                "refs/promptctl/alias-log").splitlines()
    assert [line.split("|")[0] for line in lines] == ["promptctl: second move",
                                                       "promptctl: first move"]
    assert len({line.split("|")[2] for line in lines}) == 2
    if setting == "always":
        log = repo_path / ".git" / "logs" / "refs" / "tags" / "prompts" / "s@production"
        assert log.read_text().endswith("\tpromptctl: first move\n")


def test_a_failed_transaction_changes_nothing_and_the_next_one_works(repo_path: Path) -> None:
    with Registry(repo_path) as reg:
        reg.register_prompt("s", "one\n", "v1")
        updates = reg.repo.ref_updates
        head = reg.repo.refs.head().commit
        assert head is not None
        updates.apply([("refs/promptctl/a", head, None)], "x")
        lock = repo_path / ".git" / "refs" / "promptctl" / "b.lock"
        lock.touch()
        with pytest.raises(RefLocked, match=r"b\.lock"):
            updates.apply([("refs/promptctl/a", None, head), ("refs/promptctl/b", head, None)],
                          "both or neither")
        lock.unlink()
        assert reg.repo.refs.resolve("refs/promptctl/a") == head
        with pytest.raises(Exception, match="changed by someone else"):
            updates.apply([("refs/promptctl/a", head, None)], "must be absent")
        updates.apply([("refs/promptctl/a", None, head), ("refs/promptctl/b", head, None)], "x")
        assert reg.repo.refs.resolve("refs/promptctl/a") is None
        assert reg.repo.refs.resolve("refs/promptctl/b") == head


# -- the index file --------------------------------------------------------------------------


def _tracked(tmp_path: Path, files: dict[str, str]) -> Path:
    """A repository with ``files`` committed, their mtimes in the past (nothing racy)."""
    path = tmp_path / "r"
    git(tmp_path, "init", "-q", str(path))
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
        os.utime(path / name, (1_600_000_000, 1_600_000_000))
    git(path, "add", "-A")
    git(path, "commit", "-qm", "files")
    return path


FILES = {"a.txt": "a\n", "prompts/x.yaml": "template: x\n", "prompts/y.yaml": "template: y\n",
         "prompts/team/z.yaml": "template: z\n", "zz/deep/er/f": "f\n", "prompts.txt": "p\n"}


@pytest.mark.parametrize("path", ["prompts/x.yaml", "prompts/team/z.yaml", "a.txt",
                                  "prompts/new.yaml", "prompts/aaa/b.yaml", "0first",
                                  "zzz.yaml", "prompts/team/zz.yaml"])
def test_patched_index_is_the_one_update_index_writes(tmp_path: Path, path: str) -> None:
    repo = _tracked(tmp_path, FILES)
    theirs = tmp_path / "theirs"
    shutil.copytree(repo, theirs)
    blob = git(repo, "rev-parse", "HEAD:zz/deep/er/f").strip()
    IndexFile(repo / ".git").patch(path, "100644", blob)
    git(theirs, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    assert (repo / ".git" / "index").read_bytes() == (theirs / ".git" / "index").read_bytes()
    assert git(repo, "ls-files", "--stage") == git(theirs, "ls-files", "--stage")


def test_a_file_where_the_index_has_a_folder_is_left_to_git(tmp_path: Path) -> None:
    repo = _tracked(tmp_path, FILES)
    blob = git(repo, "rev-parse", "HEAD:a.txt").strip()
    for path in ("a.txt/inside", "prompts", "prompts/team"):
        with pytest.raises(Unhandled):
            IndexFile(repo / ".git").patch(path, "100644", blob)
    assert not (repo / ".git" / "index.lock").exists()


def test_index_entries_read_as_ls_files_lists_them(tmp_path: Path) -> None:
    repo = _tracked(tmp_path, FILES)
    index = IndexFile(repo / ".git")
    for line in git(repo, "ls-files", "--stage").splitlines():
        mode, blob, _stage, name = line.replace("\t", " ").split(" ")
        assert index.entry(name) == (mode, blob)
    assert index.entry("prompts/none.yaml") is None
    with pytest.raises(Unhandled):
        index.entry("prompts/team")  # a folder: ls-files lists what is inside


@pytest.mark.parametrize("target", ["prompts/x.yaml", "prompts/new.yaml", "0first"])
def test_a_racy_entry_is_smudged_so_a_same_second_edit_stays_visible(tmp_path: Path,
                                                                      target: str) -> None:
    repo = _tracked(tmp_path, FILES)
    git(repo, "config", "core.trustctime", "false")
    future = int(time.time()) + 100
    edited = repo / "a.txt"
    os.utime(edited, (future, future))
    git(repo, "update-index", "--refresh")  # the entry: mtime in the index's future
    edited.write_text("b\n")  # same size, same mtime: only content tells them apart
    os.utime(edited, (future, future))
    blob = git(repo, "rev-parse", "HEAD:prompts/y.yaml").strip()
    IndexFile(repo / ".git").patch(target, "100644", blob)
    os.utime(repo / ".git" / "index", (future + 10, future + 10))  # time passes
    assert " M a.txt" in git(repo, "status", "--porcelain").splitlines()


def test_unusual_indexes_are_left_to_git(tmp_path: Path) -> None:
    repo = _tracked(tmp_path, FILES)
    blob = git(repo, "rev-parse", "HEAD:a.txt").strip()
    git(repo, "update-index", "--index-version", "4")
    with pytest.raises(Unhandled):
        IndexFile(repo / ".git").patch("a.txt", "100644", blob)
    git(repo, "update-index", "--index-version", "2", "--untracked-cache")
    git(repo, "status", "--porcelain")
    with pytest.raises(Unhandled):
        IndexFile(repo / ".git").patch("a.txt", "100644", blob)
    git(repo, "update-index", "--no-untracked-cache", "--skip-worktree", "a.txt")
    with pytest.raises(Unhandled):
        IndexFile(repo / ".git").patch("a.txt", "100644", blob)
    assert not (repo / ".git" / "index.lock").exists()


def test_a_held_index_lock_is_named(tmp_path: Path) -> None:
    repo = _tracked(tmp_path, FILES)
    (repo / ".git" / "index.lock").touch()
    with pytest.raises(RefLocked, match=r"index\.lock"):
        IndexFile(repo / ".git").patch("a.txt", "100644", "0" * 40)
    assert (repo / ".git" / "index.lock").exists()


def test_registering_leaves_status_and_fsck_clean_with_staged_work_kept(repo_path: Path) -> None:
    (repo_path / "notes.txt").write_text("mine\n")
    git(repo_path, "add", "notes.txt")
    with Registry(repo_path) as reg:
        for i in range(5):
            reg.register_prompt("s", f"v{i}\n", f"v{i}")
            reg.register_prompt("team/t", f"t{i}\n", f"t{i}")
    assert git(repo_path, "status", "--porcelain") == "A  notes.txt\n"
    git(repo_path, "fsck", "--no-progress", "--strict")
    assert "notes.txt" in git(repo_path, "diff", "--cached", "--name-only")
    git(repo_path, "commit", "-qm", "notes")  # the cache tree git writes from is sound
    assert git(repo_path, "status", "--porcelain") == ""
    git(repo_path, "fsck", "--no-progress", "--strict")


# -- a branch moved without a process ---------------------------------------------------------


def _two_copies(tmp_path: Path, repo: Repo) -> tuple[Repo, Path]:
    theirs = tmp_path / "theirs"
    shutil.copytree(repo.root, theirs)
    return repo, theirs


def _state(path: Path) -> tuple[str, ...]:
    """Refs, the branch's and HEAD's reflogs, byte for byte."""
    dot = path / ".git"
    found = [git(path, "for-each-ref", "--format=%(refname) %(objectname)")]
    for name in ("refs/heads/main", "refs/heads/side", "HEAD"):
        log = dot / "logs" / name
        found.append(log.read_text() if log.exists() else "(no log)")
    loose = dot / "refs" / "heads" / "main"
    found.append(loose.read_text() if loose.exists() else "(packed)")
    return tuple(found)


@pytest.mark.parametrize("shape", ["loose", "packed", "side branch", "no reflogs",
                                   "no reflogs but one exists", "always"])
@pytest.mark.parametrize("reason", ["promptctl: v2", "  odd\treason \n with\r\nbreaks  ", "  ",
                                    ""])
def test_a_branch_moves_as_update_ref_moves_it(tmp_path: Path, repo: Repo, shape: str,
                                               reason: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_COMMITTER_DATE", "@1700000777 +0100")
    path = repo.root
    git(path, "branch", "-M", "main")
    (path / "f").write_text("y\n")
    git(path, "commit", "-qam", "second")
    old = git(path, "rev-parse", "HEAD").strip()
    new = git(path, "commit-tree", "-p", old, "-m", "third", "HEAD^{tree}").strip()
    branch = "refs/heads/main"
    if shape == "packed":
        git(path, "pack-refs", "--all")
    if shape == "side branch":
        git(path, "branch", "side")
        branch = "refs/heads/side"
    if shape.startswith("no reflogs"):
        git(path, "config", "core.logAllRefUpdates", "false")
        shutil.rmtree(path / ".git" / "logs")
        if shape.endswith("exists"):
            (path / ".git" / "logs" / "refs" / "heads").mkdir(parents=True)
            (path / ".git" / "logs" / "refs" / "heads" / "main").touch()
    if shape == "always":
        git(path, "config", "core.logAllRefUpdates", "always")
    ours, theirs = _two_copies(tmp_path, Repo.find(path))  # type: ignore[arg-type]
    if not reason:
        with pytest.raises(GitError, match="empty message"):
            ours.ref_updates.move(branch, new, old, reason)
        return
    ours.ref_updates.move(branch, new, old, reason)
    git(theirs, "update-ref", "-m", reason, branch, new, old)
    assert _state(ours.root) == _state(theirs)
    ours.close()


def test_a_branch_move_refuses_a_held_lock_and_a_moved_branch(repo: Repo) -> None:
    head = repo.refs.head()
    assert head.ref is not None and head.commit is not None
    tree = repo.objects.commit_tree(head.commit)
    assert tree is not None
    new = repo.commits.create(tree, (head.commit,), "next\n")
    lock = repo.common_dir / f"{head.ref}.lock"
    lock.touch()
    with pytest.raises(RefLocked, match=re.escape(str(lock))):
        repo.ref_updates.move(head.ref, new, head.commit, "locked")
    lock.unlink()
    with pytest.raises(Conflict, match="changed by someone else"):
        repo.ref_updates.move(head.ref, new, new, "stale")
    assert repo.refs.resolve(head.ref) == head.commit
    assert not lock.exists()
    repo.ref_updates.move(head.ref, new, head.commit, "fine")
    assert git(repo.root, "rev-parse", "HEAD").strip() == new
    git(repo.root, "fsck", "--no-progress")


# -- reading trees, large trees, the identity prefetch ------------------------------------


def test_file_ids_read_from_trees_are_the_ones_git_names(repo: Repo) -> None:
    for name, text in (("prompts/a.yaml", "a\n"), ("prompts/team/b.yaml", "b\n"),
                       ("prompts/team x.yaml", "e\n"), ("run.sh", "d\n")):
        (repo.root / name).parent.mkdir(parents=True, exist_ok=True)
        (repo.root / name).write_text(text)
    os.chmod(repo.root / "run.sh", 0o755)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "files")
    head = repo.refs.head().commit
    assert head is not None
    for path in ("prompts/a.yaml", "prompts/team/b.yaml", "prompts/team x.yaml", "run.sh",
                 "f", "prompts/missing.yaml", "prompts/team", "nowhere/a.yaml",
                 "f/below"):
        found = git(repo.root, "ls-tree", head, "--", path).split()
        expected = found[2] if found and found[1] == "blob" else None
        assert repo.objects.file_id(head, path) == expected, path
    # An entry right after an id ending in a space is left to git (None), never misread.
    (repo.root / "prompts" / "team x.yaml").write_text("c\n")  # blob f2ad…af20
    git(repo.root, "commit", "-qam", "an id ending in 0x20")
    head = repo.refs.head().commit
    assert head is not None
    assert repo.objects.file_id(head, "prompts/team/b.yaml") is None


def test_a_large_folder_tree_is_stored_as_git_reads_it(repo_path: Path) -> None:
    folder = repo_path / "prompts"
    for i in range(600):  # a prompts/ tree of ~24 KB: stored undeflated
        (folder / f"p{i:04d}.yaml").write_text(f"template: t{i}\n")
    git(repo_path, "add", "-A")
    git(repo_path, "commit", "-qm", "many")
    with Registry(repo_path) as reg:
        reg.register_prompt("p0007", "new {{ x }}\n", "one more")
        tree = git(repo_path, "rev-parse", "HEAD:prompts").strip()
    loose = repo_path / ".git" / "objects" / tree[:2] / tree[2:]
    assert loose.stat().st_size > 20_000  # stored, not deflated
    assert git(repo_path, "rev-parse", "HEAD:prompts/p0007.yaml").strip() == git(
        repo_path, "hash-object", "prompts/p0007.yaml").strip()
    assert git(repo_path, "status", "--porcelain") == ""
    git(repo_path, "fsck", "--no-progress", "--strict")


def test_a_prefetched_identity_is_not_used_once_the_config_changed(
        repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "@1700000000 +0000")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "@1700000000 +0000")
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    git(repo.root, "config", "user.name", "Before Change")
    git(repo.root, "config", "user.email", "before@example.com")
    repo.identity.prefetch()
    time.sleep(0.01)
    git(repo.root, "config", "user.name", "After Change")
    tree = repo.objects.empty_tree()
    ours = repo.commits.create(tree, (), "m\n")
    assert ours == repo.commits.create_with_git(tree, (), "m\n")
    body = repo.objects.read(ours)
    assert body is not None and b"author After Change <before@example.com>" in body[1]
    repo.identity.prefetch()  # known now: nothing started
    assert repo.identity._pending is None
    repo.close()


# -- keeping a grown registry packed -------------------------------------------------------


def _unreachable_blobs_in_17(repo: Path, count: int) -> None:
    """Loose blobs no ref reaches in ``objects/17`` until it holds ``count`` objects: the
    folder from which git estimates how many loose objects there are."""
    import hashlib
    import zlib

    folder = repo / ".git" / "objects" / "17"
    folder.mkdir(exist_ok=True)
    i = 0
    while len(list(folder.iterdir())) < count:
        data = f"filler {i}\n".encode()
        i += 1
        raw = b"blob %d\0" % len(data) + data
        oid = hashlib.sha1(raw).hexdigest()
        if oid.startswith("17"):
            (folder / oid[2:]).write_bytes(zlib.compress(raw))


def _object_ids(repo: Path) -> set[str]:
    """Every object in ``repo``, loose or packed."""
    return set(git(repo, "cat-file", "--batch-all-objects",
                   "--batch-check=%(objectname)").split())


def _packs(repo: Path) -> set[str]:
    return {p.name for p in (repo / ".git" / "objects" / "pack").glob("*.pack")}


@pytest.mark.parametrize(("loose", "gc_auto"), [
    (26, None), (27, None), (28, None), (29, None), (27, "6913"), (28, "6913"),
    (2, "500"), (3, "500"), (40, "0"), (40, "-1"),
])
def test_a_write_runs_gc_auto_exactly_when_git_would(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loose: int, gc_auto: str | None) -> None:
    """After a write, promptctl runs ``git gc --auto`` when git's own estimate of the
    loose objects is over ``gc.auto``, and not otherwise (a gc with nothing to do costs a
    write ~2 ms): judged against git itself, which packs the reachable loose objects when
    it finds too many."""
    copies = []
    for who in ("promptctl", "git"):
        path = tmp_path / who
        with Registry.init(path) as reg:
            reg.register_prompt("s", "one\n", "v1")
        if gc_auto is not None:
            git(path, "config", "gc.auto", gc_auto)
        _unreachable_blobs_in_17(path, loose)
        copies.append((path, _packs(path)))
    (ours, before), (theirs, before_git) = copies
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    known = _object_ids(ours)
    with Registry(ours) as reg:
        reg.set_alias("s", "production", 1)  # a write: promptctl decides
    monkeypatch.delenv("GIT_TRACE")
    # The write's own objects land in folder 17 now and then (their ids depend on the
    # clock; a gc may have packed them since): git judges a copy holding as many there.
    made = [oid for oid in _object_ids(ours) - known if oid.startswith("17")]
    _unreachable_blobs_in_17(theirs, loose + len(made))
    git(theirs, "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet")  # git decides
    git_packed = _packs(theirs) != before_git
    assert ("built-in: git gc --auto" in trace.read_text()) is git_packed
    assert (_packs(ours) != before) is git_packed
