"""The alias log read through its cache gives what reading it whole from Git gives.

Random runs of what happens to alias logs (appends here and on the fetched remote log,
merges of the two, a log moved back or rewritten, records dated in the same second or
earlier than the ones before, the process's memory dropped, the database corrupted),
each followed by a read through ``alias_moves`` compared with a full read from Git.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from promptctl import Registry, alias_moves
from promptctl.formats.aliaslog import ALIAS_LOG_REF, decode_move, encode_move
from promptctl.git import Repo
from promptctl.models import AliasMove
from promptctl.remote import REMOTE_LOG

from .helpers import git


def _from_git(repo: Repo, *refs: str) -> list[AliasMove]:
    entries = repo.records.read(*refs)
    moves = (decode_move(c.id, c.message, c.author, c.email, c.timestamp) for c in entries)
    return [m for m in moves if m is not None]


def _chain(path: Path, ref: str) -> list[str]:
    return git(path, "rev-list", "--first-parent", ref).split()


@pytest.mark.parametrize("seed", range(6))
def test_cached_reads_match_a_full_read(registry: Registry, repo_path: Path, seed: int,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    repo = registry.repo
    database = repo.common_dir / "promptctl" / "alias-log.sqlite"
    stamp = 1_700_000_000
    monkeypatch.setattr(alias_moves, "_SAVE_AFTER", rng.choice([1, 3, 32]))
    for step in range(40):
        op = rng.choice(["local"] * 4 + ["remote"] * 2 + ["merge", "rewind", "forget",
                                                           "corrupt"])
        stamp += rng.choice([-120, 0, 0, 1, 60])  # the same second, or dated earlier
        monkeypatch.setenv("GIT_AUTHOR_DATE", f"@{stamp} +0000")
        monkeypatch.setenv("GIT_COMMITTER_DATE", f"@{stamp} +0000")
        move = encode_move(f"p{rng.randrange(3)}", rng.choice(["staging", "production"]),
                           (None, None), (f"{step:040x}", step), f"step {step}", False)
        if op == "local":
            repo.records.append(ALIAS_LOG_REF, move)
        elif op == "remote":
            repo.records.append(REMOTE_LOG, move)
        elif op == "merge" and repo.refs.resolve(REMOTE_LOG):
            repo.records.merge(ALIAS_LOG_REF, REMOTE_LOG)
        elif op == "rewind" and repo.refs.resolve(ALIAS_LOG_REF):
            ref = rng.choice([r for r in (ALIAS_LOG_REF, REMOTE_LOG) if repo.refs.resolve(r)])
            git(repo_path, "update-ref", ref, rng.choice(_chain(repo_path, ref)))
        elif op == "forget":
            alias_moves._memo.clear()  # as a new process finds it
        elif op == "corrupt" and database.exists():
            alias_moves._memo.clear()
            database.write_bytes(os.urandom(4096))
        for refs in ((ALIAS_LOG_REF, REMOTE_LOG), (REMOTE_LOG,), (ALIAS_LOG_REF,)):
            assert alias_moves.read_moves(repo, *refs) == _from_git(repo, *refs), (step, op)
    assert alias_moves.read_moves(repo, ALIAS_LOG_REF, REMOTE_LOG)  # something was read


def test_a_read_only_database_location_still_reads(registry: Registry) -> None:
    repo = registry.repo
    for step in range(3):
        repo.records.append(ALIAS_LOG_REF, encode_move("p", "staging", (None, None),
                                                       (f"{step:040x}", step), None, False))
    alias_moves._memo.clear()
    database = repo.common_dir / "promptctl" / "alias-log.sqlite"
    database.parent.mkdir(exist_ok=True)
    database.mkdir()  # no database can be made there
    try:
        assert alias_moves.read_moves(repo, ALIAS_LOG_REF) == _from_git(repo, ALIAS_LOG_REF)
        assert len(alias_moves.read_moves(repo, ALIAS_LOG_REF)) == 3
    finally:
        database.rmdir()


def test_appends_and_new_processes_read_only_what_is_new(
        registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = registry.repo
    whole: list[object] = []
    read_whole = alias_moves._read_whole
    monkeypatch.setattr(alias_moves, "_read_whole",
                        lambda *a: whole.append(a) or read_whole(*a))
    monkeypatch.setattr(alias_moves, "_SAVE_AFTER", 4)
    for step in range(20):  # all in the same second: ordered by descent, not by date
        repo.records.append(ALIAS_LOG_REF, encode_move("p", "staging", (None, None),
                                                       (f"{step:040x}", step), None, False))
        assert len(alias_moves.read_moves(repo, ALIAS_LOG_REF, REMOTE_LOG)) == step + 1
        if step % 5 == 0:
            alias_moves._memo.clear()  # a new process: starts from the database
    assert len(whole) == 1
    assert alias_moves.read_moves(repo, ALIAS_LOG_REF, REMOTE_LOG) == _from_git(
        repo, ALIAS_LOG_REF, REMOTE_LOG)
