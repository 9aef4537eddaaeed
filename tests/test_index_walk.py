"""The version index's walk of history: records parsed in one pass, and numbering that
depends on the commit graph only, never on commit dates (clocks skew, and git lists
commits by date)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptctl import Registry
from promptctl.formats import records
from promptctl.formats.records import VersionRecord, format_record, split_records
from promptctl.index import _pulls

from .helpers import git

_HEX = st.text("0123456789abcdef", min_size=40, max_size=40)
_FOLDERS = st.one_of(st.just(""), st.text(st.characters(blacklist_categories=("Cs",)),
                                           max_size=12).filter(records.fits))
_RECORDS = st.builds(VersionRecord, st.from_regex(r"[a-z][a-z0-9/_-]{0,12}", fullmatch=True),
                     st.integers(1, records.MAX_NUMBER), _HEX, _HEX, st.booleans(), _FOLDERS)
_RECORD_LINES = st.builds(
    lambda name, number, blob, tree, final, folder: format_record(
        VersionRecord(name, number, blob, tree, final, folder)),
    st.from_regex(r"[a-z][a-z0-9/_-]{0,12}", fullmatch=True),
    st.integers(1, 10**10), _HEX, _HEX, st.booleans(), _FOLDERS)
_OTHER_LINES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).map(
    lambda text: text.replace("\n", " "))


@given(st.lists(st.one_of(_RECORD_LINES, _OTHER_LINES), max_size=8))
def test_split_records_finds_what_the_record_pattern_finds_and_strips_it(
        lines: list[str]) -> None:
    message = "\n".join(lines)
    found, note = split_records(message)
    pattern = records._LINE
    expected = [VersionRecord(m.group(2), int(m.group(3)), m.group(4), m.group(5),
                              m.group(1) == records.FINAL_KEY, m.group(6) or "")
                for m in pattern.finditer(message) if int(m.group(3)) <= records.MAX_NUMBER]
    assert found == expected
    assert note == pattern.sub("", message).strip()
    assert not any(line.startswith(records.FINAL_KEY) and re.fullmatch(pattern, line)
                   for line in note.splitlines())


@given(_RECORDS, st.text(max_size=20).map(lambda text: text.replace("\n", " ")))
def test_a_record_reads_back_as_written_folder_included(record: VersionRecord,
                                                       note: str) -> None:
    assert split_records(records.with_record(note, record)) == ([record], note.strip())


def _commit(repo: Path, parents: list[str], content: str | None, when: int,
            note: str, number: int | None = None) -> str:
    """A commit of prompt ``p`` holding ``content`` (``None``: the first parent's tree),
    with a final record for version ``number``, made with git's plumbing at date ``when``."""
    env = {**os.environ, "GIT_AUTHOR_DATE": f"@{when} +0000",
           "GIT_COMMITTER_DATE": f"@{when} +0000"}
    if content is None:
        tree = git(repo, "rev-parse", f"{parents[0]}^{{tree}}").strip()
        message = note
    else:
        git(repo, "read-tree", parents[0])
        (repo / "prompts" / "p.yaml").write_text(f"template: {content}\n")
        git(repo, "add", "prompts/p.yaml")
        tree = git(repo, "write-tree").strip()
        blob = git(repo, "rev-parse", f"{tree}:prompts/p.yaml").strip()
        message = note
        if number is not None:
            message += "\n\n" + format_record(VersionRecord("p", number, blob, tree, True))
    args = ["commit-tree", tree, "-m", message]
    for parent in parents:
        args += ["-p", parent]
    return git(repo, *args, env=env).strip()


def _two_claims_of_one_number(repo: Path, x_when: int, y_when: int) -> None:
    """Main gets a ``git pull`` merge bringing in a side merge of two commits X and Y that
    both claim ``p/2`` with different content, X as the side merge's first parent."""
    base = git(repo, "rev-parse", "HEAD").strip()
    x = _commit(repo, [base], "from x", x_when, "x", 2)
    y = _commit(repo, [base], "from y", y_when, "y", 2)
    side = _commit(repo, [x, y], None, max(x_when, y_when) + 10, "merge y into x")
    local = _commit(repo, [base], "local", 1_800_000_000, "local edit")
    merge = _commit(repo, [local, side], "from y", 1_800_000_100,
                    "Merge branch 'main' of https://example.com/prompts")
    git(repo, "update-ref", "refs/heads/main", merge)
    git(repo, "reset", "-q", "--hard", merge)


def test_which_claim_of_one_number_wins_depends_on_the_graph_not_on_dates(
        tmp_path: Path, repo_path: Path) -> None:
    with Registry(repo_path) as reg:
        reg.register_prompt("p", "one", "v1")
    winners = []
    for x_when, y_when in ((1_750_000_000, 1_750_000_100), (1_750_000_100, 1_750_000_000)):
        repo = tmp_path / f"r{x_when}"
        git(tmp_path, "clone", "-q", str(repo_path), str(repo))
        _two_claims_of_one_number(repo, x_when, y_when)
        with Registry(repo) as reg:
            winners.append(reg.load_prompt("p", 2).template)
            clashes = [f for f in reg.findings() if f.kind == "clash"]
        assert [(f.name, f.number) for f in clashes] == [("p", 2)]
    assert winners == ["from x", "from x"]


def test_a_register_reads_as_much_of_the_index_for_a_long_history_as_a_short_one(
        repo_path: Path) -> None:
    """Numbering a new version reads the number it claims and the highest one, not every
    version of the prompt: the SQLite work of a register (counted in virtual-machine steps,
    not timed) is the same for a prompt with 120 versions as for one with 2."""
    with Registry(repo_path) as reg:
        for i in range(120):
            reg.register_prompt("long", f"long {i}\n", f"v{i}")
        for i in range(2):
            reg.register_prompt("short", f"short {i}\n", f"v{i}")
        db = reg._index._db  # type: ignore[union-attr]
        steps = [0]

        def step() -> int:
            steps[0] += 1
            return 0

        db.set_progress_handler(step, 1)
        counted = {}
        for turn, name in enumerate(("short", "long", "short", "long")):
            steps[0] = 0
            result = reg.register_prompt(name, f"{name} new {turn}\n", "next")
            counted[name] = steps[0]
        db.set_progress_handler(None, 1)
        assert result.version == 122
        assert reg.load_prompt("long/122").template == "long new 3\n"
        assert counted["long"] <= counted["short"] * 1.1 + 50, counted


def _meanwhile(registry: Registry, step: str, other: Callable[[], object]) -> None:
    """Make ``other`` (another process's work) run once, just before ``registry``'s index
    next takes ``step`` of an update: the interleaving of a race, forced."""
    index = registry._index
    assert index is not None
    original = getattr(index, step)

    def overtaken(*args: object, **kwargs: object) -> object:
        setattr(index, step, original)
        other()
        return original(*args, **kwargs)

    setattr(index, step, overtaken)


def _two_processes_after_a_hand_edit(repo_path: Path) -> tuple[Registry, Registry]:
    """Two registries on one repository (two processes), both with the index at version 1
    of ``p``, and a hand edit of ``p`` committed since."""
    first, second = Registry(repo_path), Registry(repo_path)
    first.register_prompt("p", "one\n", "v1")
    assert second.load_prompt("p", cache_ttl_seconds=0).version == 1
    (repo_path / "prompts" / "p.yaml").write_text("template: |\n  two\n")
    git(repo_path, "commit", "-qam", "edited by hand")
    return first, second


def test_an_index_update_that_lost_a_race_is_done_again_not_stored_twice(
        repo_path: Path) -> None:
    """Two processes bring one index up to date at once: the one whose walk started from
    a tip the other has since moved on stores nothing from that walk, so a hand edit is
    numbered once, not once by each."""
    first, second = _two_processes_after_a_hand_edit(repo_path)
    with first, second:
        _meanwhile(second, "_plan", lambda: first.load_prompt("p", cache_ttl_seconds=0))
        assert second.load_prompt("p", cache_ttl_seconds=0).version == 2
        assert [v.version for v in second.history("p")] == [1, 2]
        assert first.load_prompt("p", cache_ttl_seconds=0).version == 2


def test_a_walk_overtaken_by_a_register_does_not_rebuild_the_index_back(
        repo_path: Path) -> None:
    """A process brings the index up to date while another registers a version on top:
    the index now stands past what the first process read as the branch tip. That is no
    rewrite of history: nothing is reported renumbered, and the new version stays."""
    first, second = _two_processes_after_a_hand_edit(repo_path)
    with first, second:
        _meanwhile(second, "_plan", lambda: first.register_prompt("p", "three\n", "v3"))
        second.load_prompt("p", cache_ttl_seconds=0)
        assert second.findings() == [] and second.warnings == []
        assert second.load_prompt("p/3", cache_ttl_seconds=0).template == "three\n"
        assert [v.version for v in second.history("p")] == [1, 2, 3]


def test_a_rebuild_that_lost_a_race_keeps_the_other_processes_findings(
        repo_path: Path) -> None:
    """After a reset that renumbers, two processes rebuild at once: the one whose rebuild
    read the other's rows must not store its own over them, or the warning that a
    number changed meaning is lost."""
    with Registry(repo_path) as first, Registry(repo_path) as second:
        first.register_prompt("p", "one\n", "v1")
        first.register_prompt("p", "two\n", "v2")
        assert second.load_prompt("p/2", cache_ttl_seconds=0).template == "two\n"
        git(repo_path, "reset", "-q", "--hard", "HEAD~1")
        (repo_path / "prompts" / "p.yaml").write_text("template: |\n  other two\n")
        git(repo_path, "commit", "-qam", "another second version")
        _meanwhile(second, "_all_rows", lambda: first.load_prompt("p/2", cache_ttl_seconds=0))
        assert second.load_prompt("p/2", cache_ttl_seconds=0).template == "other two\n"
        assert [f.number for f in second.findings()] == [2]
        assert any("p/2 was commit" in w for w in first.warnings)


@pytest.mark.parametrize(("message", "pulls"), [
    ("Merge branch 'main' of https://example.com/prompts", True),
    ("Merge branch 'main' of /srv/prompts.git into main", True),
    ("Merge remote-tracking branch 'origin/main'\n\n# Conflicts:\n#\tprompts/p.yaml", True),
    ("Merge remote-tracking branch 'upstream/main' into main", True),
    ("Merge branch 'feature' of https://example.com/prompts", False),
    ("Merge remote-tracking branch 'origin/mainline'", False),
    ("Merge remote-tracking branch 'origin/main", False),
    ("Merge pull request #7 from alice/main", False),
    ("Merge branch 'main' into feature", False),
    ("merge", False),
])
def test_only_gits_own_pull_messages_let_the_side_claim_first(message: str,
                                                              pulls: bool) -> None:
    assert _pulls(message, "main") is pulls
