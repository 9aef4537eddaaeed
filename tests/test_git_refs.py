"""The hand-written ref reader agrees with git: loose, packed, peeled, symbolic, worktrees."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptctl.git import Repo, files
from promptctl.git.refs import RefUpdates

from .helpers import git


def git_refs(path: Path, prefix: str) -> dict[str, tuple[str, str | None]]:
    """What ``git for-each-ref`` says: name -> (target, peeled commit for a tag)."""
    out = git(path, "for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", prefix)
    found = {}
    for line in out.splitlines():
        name, target, *peeled = line.split(" ")
        found[name] = (target, peeled[0] if peeled and peeled[0] else None)
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "r"
    git(tmp_path, "init", "-q", str(path))
    for i in range(3):
        (path / "f").write_text(str(i))
        git(path, "add", "f")
        git(path, "commit", "-qm", f"c{i}")
    return path


NAMES = st.lists(st.from_regex(r"[a-z]{1,3}(/[a-z]{1,3}){0,2}@[a-z]{1,4}", fullmatch=True),
                 min_size=1, max_size=6, unique=True)


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=NAMES, packed=st.integers(0, 6), annotated=st.booleans())
def test_refs_match_for_each_ref(repo: Path, names: list[str], packed: int,
                                 annotated: bool) -> None:
    git(repo, "tag", "-l")
    for ref in git(repo, "tag", "-l").split():
        git(repo, "tag", "-d", ref)
    for i, name in enumerate(names):
        args = ["-a", "-m", "m"] if annotated else []
        git(repo, "tag", *args, f"prompts/{name}", f"HEAD~{i % 3}")
        if i == packed:
            git(repo, "pack-refs", "--all")  # some packed, the rest loose (a loose one wins)
    if packed < len(names):
        git(repo, "tag", "-f", *(["-a", "-m", "moved"] if annotated else []),
            f"prompts/{names[packed]}", "HEAD")  # loose over packed: the loose one counts
    found = Repo(repo, repo / ".git", repo / ".git")
    ours = found.refs.refs("refs/tags/prompts/")
    theirs = git_refs(repo, "refs/tags/prompts/")
    assert {n: r.target for n, r in ours.items()} == {n: t for n, (t, _) in theirs.items()}
    for name, ref in ours.items():
        assert found.refs.resolve(name) == git(repo, "rev-parse", name).strip()
        assert files.resolve(str(repo / ".git"), name) == found.refs.resolve(name)
        commit = git(repo, "rev-parse", f"{name}^{{commit}}").strip()
        assert found.objects.peel(ref.target) == commit
        if ref.peeled is not None:  # from packed-refs' "^" lines
            assert ref.peeled == theirs[name][1]
    found.close()


def test_head_symbolic_refs_and_linked_worktrees(repo: Path, tmp_path: Path) -> None:
    git(repo, "pack-refs", "--all")
    found = Repo.find(repo)
    assert found is not None
    head = found.refs.head()
    assert head.ref == git(repo, "symbolic-ref", "HEAD").strip()
    assert head.commit == git(repo, "rev-parse", "HEAD").strip()
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"), "HEAD~1")
    linked = Repo.find(tmp_path / "wt")
    assert linked is not None
    assert linked.refs.head().ref == "refs/heads/side"
    assert linked.refs.head().commit == git(repo, "rev-parse", "HEAD~1").strip()
    assert linked.refs.resolve("refs/heads/main") == found.refs.resolve("refs/heads/main")
    found_files = files.find_repository(str(tmp_path / "wt"))
    assert found_files is not None
    root, git_dir, common = found_files
    assert (root, Path(common)) == (str(tmp_path / "wt"), (repo / ".git").resolve())
    assert files.head(git_dir) == ("refs/heads/side", None)
    assert files.resolve(common, "HEAD") == git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach")
    assert Repo.find(repo).refs.head().ref is None  # type: ignore[union-attr]


def test_ref_updates_compare_and_swap_like_git(repo: Path) -> None:
    found = Repo.find(repo)
    assert found is not None
    head = git(repo, "rev-parse", "HEAD").strip()
    parent = git(repo, "rev-parse", "HEAD~1").strip()
    updates = RefUpdates(found.runner, found.refs)
    updates.move("refs/heads/other", parent, None, "test")
    assert git(repo, "rev-parse", "refs/heads/other").strip() == parent
    with pytest.raises(Exception, match="changed by someone else"):
        updates.move("refs/heads/other", head, head, "stale")  # not where we believe
    assert git(repo, "rev-parse", "refs/heads/other").strip() == parent
    assert "test" in git(repo, "reflog", "show", "refs/heads/other")  # git's own reflog


def test_a_registry_grown_by_promptctl_keeps_its_alias_tags_packed(repo_path: Path) -> None:
    from promptctl import Registry

    with Registry(repo_path) as reg:
        reg.register_prompt("s", "one\n", "v1")
        for i in range(300):
            reg.set_alias("s", f"a{i}", 1)
        tags = repo_path / ".git" / "refs" / "tags" / "prompts"
        assert sum(1 for _ in tags.iterdir()) <= 256  # packed as they piled up
        assert len(git(repo_path, "tag", "-l", "prompts/*").split()) == 300
        assert reg.load_prompt("s@a299", cache_ttl_seconds=0).version == 1


@pytest.mark.parametrize("tmpfile", [True, False])
def test_git_errors_go_to_a_file_that_leaves_nothing_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmpfile: bool) -> None:
    """The long-lived update-ref writes its errors to an unnamed file in the repository:
    nothing is left there, with or without ``O_TMPFILE``."""
    from promptctl.git.refs import _unnamed_file

    if not tmpfile:
        monkeypatch.delattr("os.O_TMPFILE", raising=False)
    with _unnamed_file(str(tmp_path)) as errors:
        assert list(tmp_path.iterdir()) == []
        errors.write(b"fatal: words\n")
        errors.seek(0)
        assert errors.read() == b"fatal: words\n"
    assert list(tmp_path.iterdir()) == []


# Names that sort next to each other in tricky ways: a name that is a prefix of another,
# "-" and "." sorting before "/" and "@", non-ASCII (bytes above 0x7f).
_NEIGHBOURS = ["a", "a-b", "a.b", "a/b", "a/b/c", "ab", "b", "é", "z/é", "zz"]


def test_each_prompts_alias_block_matches_git_in_a_large_packed_file(repo: Path) -> None:
    """A load reads one prompt's aliases from ``packed-refs`` by bisection: for every
    prompt, and for names absent from the file, it finds exactly what git lists."""
    head = git(repo, "rev-parse", "HEAD").strip()
    parent = git(repo, "rev-parse", "HEAD~1").strip()
    names = [f"p{i:03d}" for i in range(0, 600, 3)] + _NEIGHBOURS
    lines = [f"create refs/tags/prompts/{n}@{alias} {head if i % 2 else parent}\n"
             for i, n in enumerate(names) for alias in ("production", "staging")]
    lines += [f"create refs/heads/{n} {head}\n" for n in ("a", "z", "zz")]
    subprocess.run(["git", "update-ref", "--stdin"], cwd=repo, check=True,
                   input="".join(lines).encode())
    for n in ("a", "a/b", "p300", "é"):  # annotated: their peeled lines sit in the block
        git(repo, "tag", "-f", "-a", "-m", "m", f"prompts/{n}@production", "HEAD~2")
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "tags" / "prompts").exists()
    theirs = git_refs(repo, "refs/")
    found = Repo(repo, repo / ".git", repo / ".git")
    data = (repo / ".git" / "packed-refs").read_bytes()
    for name in [*names, "p001", "a/", "", "zzz", "0", "~"]:
        prefix = f"refs/tags/prompts/{name}@"
        ours = found.refs.refs(prefix)
        wanted = {n: t for n, t in theirs.items() if n.startswith(prefix)}
        assert {n: (r.target, r.peeled) for n, r in ours.items()} == wanted, name
        for refname, (target, _) in wanted.items():
            assert files.packed_target(data, refname) == target
    for refname in ("refs/heads/a", "refs/heads/z", "refs/heads/main", "refs/heads/zz"):
        assert files.resolve(str(repo / ".git"), refname) == theirs[refname][0]
        assert found.refs.resolve(refname) == theirs[refname][0]
    assert files.packed_target(data, "refs/heads/y") is None
    assert found.refs.refs("refs/tags/") == found.refs.refs("refs/tags/prompts/")
    assert len(found.refs.refs("refs/tags/prompts/")) == 2 * len(names)
    found.close()


_NAME = st.text(st.sampled_from("ab/@-.é~"), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(names=st.lists(_NAME, unique=True, max_size=40), peeled=st.lists(st.booleans()),
       prefix=st.text(st.sampled_from("ab/@-.é~"), max_size=4))
def test_the_block_of_a_sorted_file_is_every_ref_under_its_prefix(
        names: list[str], peeled: list[bool], prefix: str) -> None:
    """:func:`files.packed_block` on a file sorted as git sorts it (bytewise): exactly the
    lines of the refs under the prefix, each with its peeled line."""
    refs = sorted(f"refs/{n}".encode() for n in names)
    lines = [b"# pack-refs with: peeled fully-peeled sorted \n"]
    wanted = b""
    for i, ref in enumerate(refs):
        entry = b"1" * 40 + b" " + ref + b"\n"
        if i < len(peeled) and peeled[i]:
            entry += b"^" + b"2" * 40 + b"\n"
        lines.append(entry)
        if ref.startswith(f"refs/{prefix}".encode()):
            wanted += entry
    data = b"".join(lines)
    start, end = files.packed_block(data, f"refs/{prefix}".encode())
    assert data[start:end] == wanted
    assert wanted == b"" or data.find(wanted) == start


@settings(max_examples=300, deadline=None, derandomize=True)
@given(body=st.binary(max_size=300), prefix=st.binary(max_size=6))
def test_a_file_that_lies_about_being_sorted_still_ends(body: bytes, prefix: bytes) -> None:
    """Any bytes behind a "sorted" header: the bisection ends, inside the file."""
    data = b"# pack-refs with: sorted \n" + body
    start, end = files.packed_block(data, prefix)
    assert 0 < start <= end <= len(data)
