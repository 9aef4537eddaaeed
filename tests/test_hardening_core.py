"""Reproducers of issue 9 (hardening), each asserting what the user meets.

A failure is one ``error:`` line on stderr, nothing on stdout, the documented exit code
and the repository unchanged; a success is the right answer. Everything runs against
real Git: concurrent processes, stale lock files, corrupted indexes, symlinks.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from promptctl import Registry
from promptctl.errors import VersionNotFound

from .helpers import Run, git, snapshot, tick

KEYS_PER_WORKER = 10
WORKERS = 4


def cli(repo: Path | str, *args: str, env: dict[str, str] | None = None,
        cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m promptctl -r REPO ARGS`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "promptctl", "-r", str(repo), *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd,
        timeout=timeout, check=False,
    )


def assert_refused(code: int, out: str, err: str, exit_code: int, *words: str) -> str:
    """A refusal as the user meets it: the exit code, one ``error:`` line, empty stdout."""
    lines = err.splitlines()
    assert code == exit_code, (code, err)
    assert out == "", out
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def versions(repo: Path, name: str) -> int:
    """How many version commits of ``name`` the branch holds (its trailers)."""
    log = git(repo, "log", "--format=%(trailers:key=Promptctl-Version,valueonly)")
    return sum(1 for line in log.splitlines() if line.split(" ")[:1] == [name])


def stray_files(repo: Path) -> list[str]:
    """Scratch files a failed write may leave: ``*.promptctl-*`` and git temp objects."""
    found = [p for p in repo.rglob("*") if ".promptctl-" in p.name and ".git" not in p.parts]
    found += list((repo / ".git" / "objects").rglob("tmp_obj_promptctl_*"))
    return [str(p) for p in found]


def _set_tags_worker(path: str, worker: int) -> None:
    """One process of the concurrent ``set_tags`` test: ten keys of its own, one at a time."""
    with Registry(path) as reg:
        for key in range(KEYS_PER_WORKER):
            reg.set_tags("greet", {f"w{worker}k{key}": "v"})


# -- item 3: concurrent tag set --------------------------------------------------------------


def test_concurrent_set_tags_from_four_processes_keeps_all_forty_keys(run: Run,
                                                                      repo_path: Path) -> None:
    assert run("register", "greet", "-t", "hi")[0] == 0
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        pool.starmap(_set_tags_worker, [(str(repo_path), w) for w in range(WORKERS)])
    with Registry(repo_path) as reg:
        newest = reg.load_prompt("greet", cache_ttl_seconds=0)
    expected = {f"w{w}k{k}" for w in range(WORKERS) for k in range(KEYS_PER_WORKER)}
    assert expected - set(newest.tags) == set()
    assert newest.version == 1 + WORKERS * KEYS_PER_WORKER
    git(repo_path, "fsck", "--no-progress")


def _numbering_checked_by_a_rebuild(repo_path: Path) -> list[tuple[int, str]]:
    """``greet``'s versions as the index numbered them, ``(number, commit)``, asserted equal
    to what an index built anew from history gives."""
    with Registry(repo_path) as reg:
        numbered = [(v.version, v.commit) for v in reg.history("greet")]
    for index in (repo_path / ".git" / "promptctl").glob("index-*.sqlite"):
        index.unlink()
    with Registry(repo_path) as reg:
        assert [(v.version, v.commit) for v in reg.history("greet")] == numbered
    return numbered


def _load_newest_worker(path: str) -> int:
    """One process of the concurrent-loads test: a fresh registry loads the newest version."""
    with Registry(path) as reg:
        return reg.load_prompt("greet", cache_ttl_seconds=0).version


def test_processes_loading_at_once_after_hand_edits_number_each_edit_once(
        run: Run, repo_path: Path) -> None:
    """Four processes bring the index up to date at once after every hand edit (an app's
    workers after a pull): each edit is one version, the same one in every process, and
    the numbering is what a rebuild from history gives."""
    assert run("register", "greet", "-t", "hi")[0] == 0
    prompt = repo_path / "prompts" / "greet.yaml"
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        for edit in range(1, 9):
            prompt.write_text(f"template: |\n  edit {edit}\n")
            tick()
            git(repo_path, "commit", "-qam", f"edit {edit} by hand")
            seen = pool.map(_load_newest_worker, [str(repo_path)] * WORKERS)
            assert seen == [edit + 1] * WORKERS
    assert len(_numbering_checked_by_a_rebuild(repo_path)) == 9


def _load_until_worker(path: str, stop: str) -> int:
    """One process of the loads-beside-registers test: load until ``stop`` exists."""
    loads = 0
    while not os.path.exists(stop):
        with Registry(path) as reg:
            reg.load_prompt("greet", cache_ttl_seconds=0)
        loads += 1
    return loads


def test_processes_loading_while_versions_land_report_no_rewrite(
        run: Run, repo_path: Path, tmp_path: Path) -> None:
    """Four processes keep loading while this one registers and edits by hand: each may
    find the index already past the branch tip it read (a register landed meanwhile).
    That is no rewrite: no version is reported renumbered, and the numbering is what a
    rebuild from history gives."""
    assert run("register", "greet", "-t", "hi")[0] == 0
    stop = tmp_path / "stop"
    context = multiprocessing.get_context("spawn")
    with context.Pool(WORKERS) as pool:
        loading = pool.starmap_async(_load_until_worker, [(str(repo_path), str(stop))] * WORKERS)
        time.sleep(1)  # the workers start and load
        with Registry(repo_path) as reg:
            for step in range(30):
                if step % 3 == 0:
                    (repo_path / "prompts" / "greet.yaml").write_text(f"template: |\n  {step}\n")
                    git(repo_path, "commit", "-qam", f"edit {step} by hand")
                else:
                    reg.register_prompt("greet", f"step {step}\n", f"step {step}")
        stop.touch()
        assert min(loading.get(timeout=120)) > 0
    with Registry(repo_path) as reg:
        assert reg.load_prompt("greet", cache_ttl_seconds=0).version == 31
        assert reg.findings() == []
    _numbering_checked_by_a_rebuild(repo_path)


# -- item 4: writes that fail after committing ------------------------------------------------


def test_register_with_a_held_index_lock_is_refused_and_commits_nothing(run: Run,
                                                                         repo_path: Path) -> None:
    run("register", "greet", "-t", "hi")
    prompt = repo_path / "prompts" / "greet.yaml"
    content = prompt.read_bytes()
    before = snapshot(repo_path)
    (repo_path / ".git" / "index.lock").touch()
    tick()
    assert_refused(*run("register", "greet", "-t", "v3"), 4, "index.lock")
    assert snapshot(repo_path) == before
    assert prompt.read_bytes() == content
    (repo_path / ".git" / "index.lock").unlink()
    assert versions(repo_path, "greet") == 1
    assert git(repo_path, "status", "--porcelain") == ""


def test_register_whose_file_cannot_be_written_leaves_nothing(run: Run, repo_path: Path) -> None:
    # As root chmod cannot make a folder unwritable, so the OS failures come from the
    # shape of the tree: the target file is a folder, the target folder is a file.
    run("register", "greet", "-t", "hi")
    (repo_path / "prompts" / "new.yaml").mkdir()
    (repo_path / "prompts" / "sub").write_text("not a folder\n")
    before = snapshot(repo_path)
    for name in ("new", "sub/new"):
        tick()
        code, out, err = run("register", name, "-t", "hello")
        assert code in (1, 4), (name, code, err)
        assert_refused(code, out, err, code)
        assert snapshot(repo_path) == before, name
        assert versions(repo_path, name) == 0
    assert stray_files(repo_path) == []


# -- item 5: symlinks out of the repository -------------------------------------------------


def test_register_through_a_symlinked_subfolder_is_refused(run: Run, repo_path: Path) -> None:
    outside = repo_path.parent / "outside"
    outside.mkdir()
    (repo_path / "prompts" / "team").symlink_to("../../outside")
    before = snapshot(repo_path)
    assert_refused(*run("register", "team/x", "-t", "hi"), 4)
    assert list(outside.iterdir()) == []
    assert snapshot(repo_path) == before


def test_register_with_prompts_itself_a_symlink_is_refused(run: Run, repo_path: Path) -> None:
    run("register", "greet", "-t", "hi")
    outside = repo_path.parent / "outside"
    outside.mkdir()
    prompts = repo_path / "prompts"
    (prompts / "greet.yaml").unlink()
    prompts.rmdir()
    prompts.symlink_to("../outside")
    before = snapshot(repo_path)
    assert_refused(*run("register", "x", "-t", "hi"), 4)
    assert list(outside.iterdir()) == []
    assert snapshot(repo_path) == before


def test_check_does_not_print_a_symlinked_files_content(run: Run, repo_path: Path) -> None:
    (repo_path / "prompts" / "pw.yaml").symlink_to("/etc/passwd")
    code, out, err = run("check")
    assert code == 1
    assert "Traceback" not in err
    assert "root:" not in out + err


# -- item 6: commands while the first index build runs -----------------------------------------


def _fast_import_history(repo: Path, commits: int, prompts: int) -> None:
    parent = git(repo, "rev-parse", "HEAD").strip()
    chunks = []
    for i in range(commits):
        name = f"p{i % prompts:05d}"
        body = f"template: |-\n  {name} version {i // prompts + 1}\n".encode()
        message = f"Edit {name}\n".encode()
        chunks.append(
            b"commit refs/heads/main\n"
            + f"committer T <t@example.com> {1_700_000_000 + i} +0000\n".encode()
            + b"data %d\n%s" % (len(message), message)
            + (f"from {parent}\n".encode() if i == 0 else b"")
            + f"M 100644 inline prompts/{name}.yaml\n".encode()
            + b"data %d\n%s\n" % (len(body), body)
        )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(chunks),
                   check=True, capture_output=True)
    git(repo, "reset", "--hard", "-q", "main")


def test_list_and_load_during_the_first_index_build(repo_path: Path) -> None:
    git(repo_path, "branch", "-M", "main")
    _fast_import_history(repo_path, 4000, 200)
    shutil_rm_index(repo_path)
    command = [sys.executable, "-m", "promptctl", "-r", str(repo_path)]
    procs = [subprocess.Popen(command + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for args in (["list"], ["load", "p00001"], ["list", "--json"], ["load", "p00002/3"])]
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    for code, _out, err in results:
        assert "Traceback" not in err, err
        assert code == 0, err
    assert results[1][1] == "p00001 version 20\n"
    assert results[3][1] == "p00002 version 3\n"
    assert "p00199" in results[0][1]


def shutil_rm_index(repo: Path) -> None:
    for path in (repo / ".git" / "promptctl").glob("index-*"):
        path.unlink()


# -- item 7: the index recovers -----------------------------------------------------------------


def test_index_recovers_after_history_is_rewritten_and_pruned(run: Run, repo_path: Path) -> None:
    run("register", "greet", "-t", "one")
    tick()
    run("register", "greet", "-t", "two")
    assert run("load", "greet")[1] == "two\n"
    git(repo_path, "reset", "--hard", "-q", "HEAD~1")
    git(repo_path, "reflog", "expire", "--expire=now", "--all")
    git(repo_path, "gc", "--prune=now", "--quiet")
    code, out, err = run("load", "greet")
    assert (code, out) == (0, "one\n"), err
    assert "Traceback" not in err and "error:" not in err
    code, out, err = run("--json", "history", "greet")
    assert code == 0 and out.count('"version"') == 1, err
    tick()
    assert run("register", "greet", "-t", "three")[0] == 0
    code, out, err = run("load", "greet/2")
    assert (code, out) == (0, "three\n"), err


def test_rewrite_warning_is_not_stale_after_the_number_is_reused(run: Run,
                                                                 repo_path: Path) -> None:
    run("register", "greet", "-t", "one")
    tick()
    run("register", "greet", "-t", "two")
    run("load", "greet")
    git(repo_path, "reset", "--hard", "-q", "HEAD~1")
    run("load", "greet")
    tick()
    run("register", "greet", "-t", "three")
    code, out, err = run("load", "greet/2")
    assert (code, out) == (0, "three\n"), err
    assert "is now nothing" not in err, err


def test_corrupted_or_truncated_index_is_rebuilt(run: Run, repo_path: Path) -> None:
    run("register", "greet", "-t", "one")
    tick()
    run("register", "greet", "-t", "two")
    (index,) = (repo_path / ".git" / "promptctl").glob("index-*.sqlite")
    for damage in (b"garbage " * 4096, b""):
        index.write_bytes(damage)
        assert run("load", "greet/1") == (0, "one\n", "")
        assert run("load", "greet") == (0, "two\n", "")
        code, out, err = run("list")
        assert code == 0 and "greet" in out and "Traceback" not in err
        assert index.read_bytes()[:16] == b"SQLite format 3\x00", "the index was not repaired"


@pytest.mark.parametrize("spoilt_from", [3, 6])
def test_spoilt_index_pages_are_reset_at_open_or_by_the_read_that_meets_them(
        registry: Registry, repo_path: Path, capsys: pytest.CaptureFixture[str],
        spoilt_from: int) -> None:
    for i in range(30):  # long notes: the rows span many pages
        registry.register_prompt(f"p{i:02d}", f"text {i}", "note " + "x" * 2000)
    registry.close()
    (index,) = (repo_path / ".git" / "promptctl").glob("index-*.sqlite")
    db = sqlite3.connect(index)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = index.stat().st_size
    assert size > (spoilt_from + 4) * 4096
    with index.open("r+b") as handle:
        handle.seek(spoilt_from * 4096)
        handle.write(b"\xff" * (size - spoilt_from * 4096))
    run = Run(repo_path, capsys)
    # The open finds a spoilt first page of the rows and rebuilds in silence; a page
    # further in is met by the read that needs it: one line, exit 4, and it is reset.
    code, out, err = run("load", "p20")
    if code:
        assert (code, out) == (4, "")
        assert err.startswith("error: the version index was unreadable") and err.count("\n") == 1
    assert run("load", "p20") == (0, "text 20\n", "")
    code, out, _ = run("list")
    assert code == 0 and all(f"p{i:02d}" in out for i in range(30))


# -- item 8: stale lock files ------------------------------------------------------------------


def test_stale_alias_log_lock_is_named_quickly_and_removable(run: Run, repo_path: Path) -> None:
    run("register", "greet", "-t", "hi")
    lock = repo_path / ".git" / "refs" / "promptctl" / "alias-log.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.touch()
    before = snapshot(repo_path)
    started = time.monotonic()
    line = assert_refused(*run("alias", "set", "greet", "production", "1"), 4,
                          "alias-log.lock", "remove")
    assert time.monotonic() - started < 8, line
    assert snapshot(repo_path) == before
    lock.unlink()
    assert run("alias", "set", "greet", "production", "1")[0] == 0
    assert run("load", "greet@production")[1] == "hi\n"


def test_stale_tag_lock_is_named_quickly_and_removable(run: Run, repo_path: Path) -> None:
    run("register", "greet", "-t", "hi")
    lock = repo_path / ".git" / "refs" / "tags" / "prompts" / "greet@production.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.touch()
    before = snapshot(repo_path)
    started = time.monotonic()
    line = assert_refused(*run("alias", "set", "greet", "production", "1"), 4,
                          "greet@production.lock", "remove")
    assert time.monotonic() - started < 8, line
    assert snapshot(repo_path) == before
    lock.unlink()
    assert run("alias", "set", "greet", "production", "1")[0] == 0


# -- item 9: one Registry shared by threads ----------------------------------------------------


def test_one_registry_shared_by_threads_while_another_registers(registry: Registry) -> None:
    registry.register_prompt("greet", "v1 {{x}}")
    registry.register_prompt("other", "other {{x}}", tags={"team": "a"})
    errors: list[BaseException] = []
    wrong: list[str] = []
    done = threading.Event()

    def reader() -> None:
        try:
            for i in range(50):
                kind = i % 5
                if kind == 0:
                    got = registry.load_prompt("greet", cache_ttl_seconds=0)
                    if not got.template.startswith("v"):
                        wrong.append(f"newest greet: {got.template!r}")
                elif kind == 1:
                    got = registry.load_prompt("greet")
                    if not got.template.startswith("v"):
                        wrong.append(f"cached greet: {got.template!r}")
                elif kind == 2:
                    first = registry.load_prompt("greet", 1)
                    if (first.version, first.template) != (1, "v1 {{x}}"):
                        wrong.append(f"greet/1: {first.template!r}")
                elif kind == 3:
                    found = [p.name for p in registry.search_prompts("tags.team = 'a'")]
                    if found != ["other"]:
                        wrong.append(f"search: {found}")
                else:
                    numbers = [v.version for v in registry.history("greet")]
                    if numbers != list(range(1, len(numbers) + 1)):
                        wrong.append(f"history: {numbers}")
        except BaseException as exc:  # noqa: BLE001 - any exception is the failure we report
            errors.append(exc)

    def writer() -> None:
        try:
            for n in range(2, 12):
                if done.is_set():
                    return
                registry.register_prompt("greet", f"v{n} {{{{x}}}}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    write = threading.Thread(target=writer)
    write.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    done.set()
    write.join(60)
    assert errors == [], [f"{type(e).__name__}: {e}" for e in errors[:5]]
    assert wrong == []
    newest = registry.load_prompt("greet", cache_ttl_seconds=0)
    assert newest.template == f"v{newest.version} {{{{x}}}}"


# -- item 12: smaller losses ---------------------------------------------------------------------


def test_register_from_the_prompt_file_with_staged_and_unstaged_edits_is_refused(
        run: Run, repo_path: Path) -> None:
    run("register", "a", "-t", "original")
    prompt = repo_path / "prompts" / "a.yaml"
    prompt.write_text("template: |-\n  edit one\n")
    git(repo_path, "add", "prompts/a.yaml")
    prompt.write_text("template: |-\n  edit two\n")
    before = snapshot(repo_path)
    tick()
    result = cli(repo_path, "register", "a", "-f", "prompts/a.yaml", cwd=repo_path)
    assert_refused(result.returncode, result.stdout, result.stderr, 4, "a.yaml")
    assert snapshot(repo_path) == before
    assert "edit one" in git(repo_path, "show", ":prompts/a.yaml")
    assert "edit two" in prompt.read_text()


def test_executable_bit_of_a_prompt_file_survives_a_new_version(run: Run,
                                                                  repo_path: Path) -> None:
    run("register", "a", "-t", "one")
    (repo_path / "prompts" / "a.yaml").chmod(0o755)
    git(repo_path, "commit", "-q", "-am", "make it executable")
    tick()
    assert run("register", "a", "-t", "two")[0] == 0
    assert git(repo_path, "ls-tree", "HEAD", "prompts/a.yaml").split()[0] == "100755"
    assert git(repo_path, "status", "--porcelain") == ""


def test_first_clone_removes_the_scratch_folder_of_a_killed_clone(repo_path: Path, tmp_path: Path,
                                                                   run: Run) -> None:
    run("register", "greet", "-t", "hi")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo_path), str(bare))
    url = f"file://{bare}"
    cache = tmp_path / "cache"
    key = hashlib.sha256(url.encode()).hexdigest()[:24]
    leftover = cache / "promptctl" / f"{key}.tmp-killed"
    (leftover / "clone").mkdir(parents=True)
    (leftover / "clone" / "pack").write_bytes(b"x" * 1024)
    result = cli(url, "load", "greet", env={"XDG_CACHE_HOME": str(cache)})
    assert (result.returncode, result.stdout) == (0, "hi\n"), result.stderr
    assert not leftover.exists()
    assert list((cache / "promptctl").glob("*.tmp-*")) == []


def test_ext_transport_registry_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    allow_ext = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "protocol.ext.allow",
                 "GIT_CONFIG_VALUE_0": "always", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = cli(f"ext::sh -c touch% {pwned}", "list", env=allow_ext, cwd=tmp_path)
    assert not pwned.exists(), "the ext:: command ran"
    assert_refused(result.returncode, result.stdout, result.stderr, 2)


def test_a_message_holding_nul_and_a_fake_entry_cannot_forge_a_commit(run: Run,
                                                                       repo_path: Path) -> None:
    """The index walk reads every commit from one rev-list whose entries end in a random
    marker: a message written with NUL bytes and fields of a made-up commit stays a message."""
    run("register", "greet", "-t", "hi")
    head = git(repo_path, "rev-parse", "HEAD").strip()
    tree = git(repo_path, "rev-parse", "HEAD^{tree}").strip()
    fake = "f" * 40
    message = (f"docs\0\n{fake}\0{tree}\0{head}\0123\0Eve\0eve@x\0"
               f"Promptctl-Version: greet 7 {'e' * 40} {tree}\n")
    body = (f"tree {tree}\nparent {head}\nauthor A <a@x> 1700000000 +0000\n"
            f"committer A <a@x> 1700000000 +0000\n\n{message}").encode()
    forged = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--literally", "--stdin"],
                            cwd=repo_path, input=body, capture_output=True, check=True
                            ).stdout.decode().strip()
    git(repo_path, "update-ref", "HEAD", forged, head)
    shutil_rm_index(repo_path)
    code, out, err = run("--json", "history", "greet")
    assert code == 0, err
    assert '"version": 7' not in out and fake not in out
    assert run("load", "greet") == (0, "hi\n", "")


def test_a_version_number_past_what_sqlite_holds_is_one_that_does_not_exist(
        run: Run, repo_path: Path) -> None:
    """A version given as a number (``alias set``'s argument, ``load_prompt(name,
    version)``) may be any size: past 64 bits SQLite cannot compare it, and it was an
    internal error. It is a version that does not exist, as 0 is; nothing changes."""
    assert run("register", "greet", "-t", "hi")[0] == 0
    before = snapshot(repo_path)
    for number in ("0", "9" * 19, "9" * 40):
        code, out, err = run("alias", "set", "greet", "production", "--", number)
        assert (code, out) == (3, "") and f"has no version {number}" in err, err
    assert snapshot(repo_path) == before
    with Registry(repo_path) as reg, pytest.raises(VersionNotFound):
        reg.load_prompt("greet", 10**20)


def test_an_index_another_process_holds_locked_is_never_thrown_away(
        registry: Registry, repo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock held past the busy timeout is no corruption: the index and its rows stay
    (a reader that took it for one deleted a live index under the process holding it)."""
    from promptctl import index as index_module

    registry.register_prompt("greet", "one", "v1")
    registry.close()
    (path,) = (repo_path / ".git" / "promptctl").glob("index-*.sqlite")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE meta SET value = value WHERE key = 'tip'")
    inode = path.stat().st_ino
    monkeypatch.setattr(index_module, "_BUSY_TIMEOUT_MS", 50)
    try:
        with Registry(repo_path) as reg:  # built in memory meanwhile: right, just slower
            assert reg.load_prompt("greet", cache_ttl_seconds=0).template == "one"
        assert path.stat().st_ino == inode
        holder.execute("COMMIT")
        assert holder.execute("SELECT count(*) FROM versions").fetchone() == (1,)
    finally:
        holder.close()
