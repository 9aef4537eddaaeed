"""Disk faults met by real writes: a file size limit, a full disk, a read-only disk.

Each write runs as a real ``promptctl`` process under the fault, against a real
repository. Whatever step the fault hits, the write exits 1 with one ``error:`` line
and nothing on stdout, and the repository is exactly as before: HEAD, status and refs
unchanged, ``git fsck`` clean, no temporary file left (``.git/objects/**/tmp_obj_*``,
``prompts/.*.promptctl-*``, a journal, ``index.lock``) and no half-written prompt file.
Where the fault leaves room for the write, it completes instead, wholly.

The size limit (``RLIMIT_FSIZE``) is set in the child only. Python ignores the signal the
limit sends, so its own writes fail with EFBIG; git, started with the default action
restored, is killed by SIGXFSZ. The full and read-only disks are tmpfs mounts: only as
root, and only where ``mount`` works.
"""

from __future__ import annotations

import contextlib
import os
import random
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .helpers import git, snapshot

# A template that compresses well (a small object, a big file) and one that does not.
PLAIN = "".join(f"Line {i} of the prompt, {{{{ name }}}}.\n" for i in range(400))
NOISE = "".join(random.Random(7).choice("abcdefghijklmnopqrstuvwxyz \n") for _ in range(24_000))

WRITES: list[tuple[str, ...]] = [
    ("register", "greet", "-t", PLAIN),
    ("register", "greet", "-t", NOISE),
    ("register", "fresh", "-t", NOISE),
    ("tag", "set", "greet", f"note={NOISE[:6000].replace(chr(10), ' ')}"),
    ("alias", "set", "greet", "production", "1"),
    ("alias", "delete", "greet", "staging"),
]


def _promptctl(repo: Path, args: tuple[str, ...],
               limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "promptctl", "--registry", str(repo), *args],
                          capture_output=True, text=True, preexec_fn=limited, timeout=60,
                          check=False)


def _prepare(repo: Path) -> None:
    """greet v1 with a staging alias, and a user's own staged and unstaged work."""
    assert _promptctl(repo, ("register", "greet", "-t", "Hello {{ name }}\n")).returncode == 0
    assert _promptctl(repo, ("alias", "set", "greet", "staging", "1")).returncode == 0
    (repo / "notes.txt").write_text("staged work\n")
    git(repo, "add", "notes.txt")
    (repo / "notes.txt").write_text("staged work, then more\n")


def _leftovers(repo: Path) -> list[str]:
    dot_git = repo / ".git"
    found = [*dot_git.glob("objects/**/tmp_obj_*"), *(repo / "prompts").glob("**/.*promptctl-*"),
             *dot_git.glob("promptctl/*.json"), *dot_git.glob("promptctl/*.tmp"),
             *dot_git.glob("**/*.lock")]
    mutex = dot_git / "promptctl" / "write.lock"  # the write mutex's file: it stays, unlocked
    return sorted(str(p.relative_to(repo)) for p in found if p != mutex)


def _fsck_clean(repo: Path) -> None:
    result = subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=repo,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def _judge(repo: Path, args: tuple[str, ...], result: subprocess.CompletedProcess[str],
           before: tuple[str, str, str], prompt: bytes | None) -> str:
    """Either the write failed cleanly (repository as before) or completed wholly."""
    _fsck_clean(repo)
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert _leftovers(repo) == []
        status = git(repo, "status", "--porcelain", "--untracked-files=all")
        assert status == before[1]  # the prompt file and its index entry match the commit
        return "completed"
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert snapshot(repo) == before, f"{args[:2]} changed the repository: {lines[0]}"
    assert _leftovers(repo) == [], lines[0]
    path = repo / "prompts" / f"{args[1] if args[0] == 'register' else 'greet'}.yaml"
    assert (path.read_bytes() if path.exists() else None) == (
        prompt if path.name == "greet.yaml" else None)
    return lines[0]


@pytest.mark.parametrize("limit", [200, 1_000, 4_000, 16_000])
@pytest.mark.parametrize("args", WRITES, ids=lambda a: "-".join(a[:2]) + str(len(a[-1])))
def test_a_file_size_limit_fails_a_write_cleanly(repo_path: Path, args: tuple[str, ...],
                                                 limit: int) -> None:
    _prepare(repo_path)
    before = snapshot(repo_path)
    prompt = (repo_path / "prompts" / "greet.yaml").read_bytes()
    outcome = _judge(repo_path, args, _promptctl(repo_path, args, limit), before, prompt)
    if limit <= 1_000 and args[0] != "alias":
        assert "File too large" in outcome  # a big file cannot be written under 1 kB


def test_git_killed_by_the_size_limit_is_named_and_its_index_lock_removed(
        repo_path: Path) -> None:
    _prepare(repo_path)
    # An index git must write itself (version 4 is not patched in place), bigger than
    # the limit: update-index is killed by SIGXFSZ while it writes index.lock.
    for i in range(600):
        (repo_path / f"file-with-a-longish-name-{i:04}.txt").write_text(f"{i}\n")
    git(repo_path, "add", ".")
    git(repo_path, "update-index", "--index-version", "4")
    before = snapshot(repo_path)
    prompt = (repo_path / "prompts" / "greet.yaml").read_bytes()
    args = ("register", "greet", "-t", "Hello again {{ name }}\n")
    outcome = _judge(repo_path, args, _promptctl(repo_path, args, 8_000), before, prompt)
    assert outcome == "error: git update-index failed: killed by SIGXFSZ"


# -- a full disk and a read-only disk: tmpfs mounts, as root ----------------------------


def _mount(target: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    target.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True, check=False).returncode == 0


@pytest.fixture
def mounted(tmp_path: Path, repo_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a tmpfs (options given) holding a copy of the prepared registry."""
    mounts: list[Path] = []
    _prepare(repo_path)

    def mount(options: str) -> Path:
        target = tmp_path / f"mnt{len(mounts)}"
        if not _mount(target, options):
            pytest.skip("needs root and a working 'mount -t tmpfs' (not available here)")
        mounts.append(target)
        shutil.copytree(repo_path, target / "repo", symlinks=True)
        return target / "repo"

    yield mount
    for target in mounts:
        with contextlib.suppress(OSError):
            subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` until about ``leave`` bytes are free."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    with open(folder / "filler", "wb", buffering=0) as handle, contextlib.suppress(OSError):
        handle.write(b"\0" * max(0, free - leave))


@pytest.mark.parametrize("pages", [0, 1, 3, 6, 12])
@pytest.mark.parametrize("args", WRITES, ids=lambda a: "-".join(a[:2]) + str(len(a[-1])))
def test_a_full_disk_fails_a_write_cleanly(mounted: Callable[[str], Path],
                                           args: tuple[str, ...], pages: int) -> None:
    repo = mounted("size=4m")
    before = snapshot(repo)
    prompt = (repo / "prompts" / "greet.yaml").read_bytes()
    _fill(repo.parent, pages * 4096)
    result = _promptctl(repo, args)
    (repo.parent / "filler").unlink()  # git status itself needs room to run
    outcome = _judge(repo, args, result, before, prompt)
    if pages == 0:
        assert "No space left on device" in outcome


@pytest.mark.parametrize("args", WRITES, ids=lambda a: "-".join(a[:2]) + str(len(a[-1])))
def test_a_read_only_disk_fails_a_write_cleanly(mounted: Callable[[str], Path],
                                                args: tuple[str, ...]) -> None:
    repo = mounted("size=8m")
    before = snapshot(repo)
    prompt = (repo / "prompts" / "greet.yaml").read_bytes()
    remount = subprocess.run(["mount", "-o", "remount,ro", str(repo.parent)],
                             capture_output=True, check=False)
    if remount.returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only here")
    outcome = _judge(repo, args, _promptctl(repo, args), before, prompt)
    assert "Read-only file system" in outcome
    loaded = _promptctl(repo, ("load", "greet"))  # reads still work
    assert (loaded.returncode, loaded.stdout) == (0, "Hello {{ name }}\n"), loaded.stderr
