"""The version index: every prompt version numbered once, kept in SQLite, grown incrementally.

One database per registry folder and branch, in ``<git-common-dir>/promptctl/``. Each
row is a version (name, number, commit, blob, author, date, note); a second table holds
every prompt's newest version and its parsed metadata for ``list`` and ``search``, parsed
the first time one of them asks (a ``load`` never needs the metadata of 10,000 other
prompts, so a first index build does not parse them); a third, the findings of the last
rebuild (numbers that changed meaning, records that lost a clash), which ``check`` and
loads report.

How versions are numbered, walking the branch's line oldest first. The line is the
first-parent line, except through a merge git made by pulling this branch from a remote
(its own message, "Merge branch 'main' of …" or "Merge remote-tracking branch
'origin/main'", says so): there the line goes on through the branch pulled, the second
parent, which is the line the remote had. Pushed as it is, such a merge leaves every
number the remote gave as it was; the local commits it brings in are its side.

* A commit carrying a valid version record (``formats.records``: the trailer's tree is
  the commit's own) changed the file the record names. A *final* record claims its
  number; a *draft* (made off the registry branch) only says which file changed.
* Final records on commits a merge brings in from the side claim their numbers at the
  merge. A number the line gave earlier is kept, and the record's version is numbered
  anew, still a version of the branch's history (a ``clash``): no number ever changes
  because of what a later commit says, so a pull request merged by a merge commit
  cannot take a number the branch had pushed.
* Every other change of a prompt file (a hand edit, a merge, a rebased or squashed
  commit, a draft) is the next number. A merge that brings in a recorded version
  unchanged makes no new version: that version is in force.

Before any read the caller passes the current tip. If the branch only grew, the new
commits are numbered on top of the stored rows (what the line gave is never renumbered,
so that is what a rebuild would store); if it was rewritten (reset, rebase, force-push,
a pull merge that puts the remote's line where local commits were), the index is
rebuilt and every number whose content changed is kept as a finding. The database is a
cache of what history says: a corrupt or unreadable one is thrown away and rebuilt.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import coldload, indexfile
from .errors import Conflict, InvalidName, PromptctlError, ShallowHistory
from .formats.records import VersionRecord, split_records
from .formats.references import MAX_VERSION, validate_name

if TYPE_CHECKING:
    from .git import Repo
    from .git.history import Commit


# The findings ``_renumbered`` makes, whose detail says what the number names now.
_RENUMBERINGS = "kind IN ('renumbered', 'unpushed')"

Progress = Callable[[int, int], None]
"""Called with (commits of the line numbered, how many there are) while the index is
built from scratch: ``(0, n)`` before a long walk is numbered, ``(n, n)`` when done."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS versions (
    name TEXT NOT NULL, number INTEGER NOT NULL, commit_id TEXT NOT NULL, blob TEXT NOT NULL,
    author TEXT, email TEXT, timestamp INTEGER, message TEXT, kind TEXT,
    PRIMARY KEY (name, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (
    name TEXT PRIMARY KEY, number INTEGER, commit_id TEXT, blob TEXT,
    description TEXT, tags TEXT, model_config TEXT, template_text TEXT, problem TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS findings (kind TEXT, name TEXT, number INTEGER, detail TEXT);
"""
_BUSY_TIMEOUT_MS = 30_000  # another process writing its rows: they are written in one go
_UPDATE_ATTEMPTS = 10  # walks overtaken by another process's update before giving up


class VersionRow(NamedTuple):
    """One indexed version of a prompt (a named tuple: a first build makes 100,000).

    ``kind`` says how it got its number: ``final`` (a record made on the registry
    branch), ``draft`` (a record made on another branch, or one whose number the line
    held, numbered here) or ``derived`` (a hand edit, merge, rebased or squashed commit).
    """

    name: str
    number: int
    commit: str
    blob: str
    author: str
    email: str
    timestamp: int
    message: str
    kind: str = "derived"


class LatestRow(NamedTuple):
    """The newest version of a prompt with the metadata ``list`` and ``search`` need (a
    named tuple: they make one per prompt, 10,000 in ~3 ms where a frozen dataclass took
    ~16 ms)."""

    name: str
    number: int
    commit: str
    description: str | None
    tags: dict[str, str]
    model_config: dict[str, Any]
    template_text: str
    problem: str | None


class Finding(NamedTuple):
    """Something the last rebuild found wrong with the numbering: ``kind`` is ``renumbered``
    (a number now names other content), ``unpushed`` (the same, for a version never
    pushed) or ``clash`` (two records claim one number)."""

    kind: str
    name: str
    number: int
    detail: str

    @property
    def failing(self) -> bool:
        """Whether ``check`` fails on it and loads warn of it. Not for a ``clash`` (the
        losing record was numbered anew, no number changed its meaning, and history keeps
        it in every clone for good) nor for an ``unpushed`` one (a number only this clone
        had): ``check`` notes those."""
        return self.kind not in indexfile.NOTED_FINDINGS


Summarize = Callable[["VersionRow"], tuple[Any, ...]]
"""``row -> (description, tags json, model_config json, template text, problem)``."""


class VersionIndex:
    """The index of one registry folder on one branch of a repository.

    ``summarize`` parses a newest version's file for the ``latest`` table. Not safe for
    concurrent use by threads: the caller (``Registry``) serializes.
    """

    def __init__(self, repo: Repo, prefix: str, branch: str | None,
                 summarize: Summarize) -> None:
        self._repo = repo
        self._summarize = summarize
        self._branch = branch
        self.branch_name = branch.removeprefix("refs/heads/") if branch else None
        """The indexed branch's short name (``None``: a detached HEAD)."""
        self.prompts_dir = f"{prefix}prompts/"
        self.folder = prefix.rstrip("/")
        """The registry's folder in the repository (``""`` at its root), as records name it."""
        self._path = Path(indexfile.path(str(repo.common_dir), prefix, branch))
        self._tip: str | None = None
        self._latest_cache: list[LatestRow] | None = None
        self._db = self._open()

    @property
    def tip(self) -> str | None:
        """The commit the index was last brought up to date with."""
        return self._tip

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- the database ----------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        for attempt in range(2):
            try:
                self._path.parent.mkdir(exist_ok=True)
                db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False,
                                     timeout=_BUSY_TIMEOUT_MS / 1000)
            except (OSError, sqlite3.Error):
                break  # a read-only repository: keep the index in memory for this process
            try:
                db.execute("PRAGMA journal_mode=WAL")
                # No fsync per commit (WAL stays consistent; a power cut may lose the
                # last few): the index is a cache of history, and catches up on the next
                # refresh. An fsync cost a register ~2 ms.
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(_SCHEMA)
                if _meta(db, "schema") != indexfile.SCHEMA_VERSION:
                    db.executescript("DELETE FROM meta; DELETE FROM versions; "
                                     "DELETE FROM latest; DELETE FROM findings; "
                                     # Kept before schema 4; lookups by name suffice.
                                     "DROP INDEX IF EXISTS versions_by_commit; "
                                     "DROP INDEX IF EXISTS versions_by_blob;")
                    db.execute("INSERT INTO meta VALUES ('schema', ?)", (indexfile.SCHEMA_VERSION,))
                # A truncated or overwritten file fails here; not a count(*), which reads
                # every row (5 ms of each command at 100,000 versions). A page spoilt
                # further in is met by a read, which resets the index (``_reading``).
                db.execute("SELECT * FROM versions LIMIT 1").fetchone()
                return db
            except sqlite3.DatabaseError as exc:
                db.close()
                if indexfile.locked(exc):
                    break  # held by another process: this one numbers in memory
                if attempt == 0:  # corrupt or not a database: it is only a cache
                    self._discard_file()
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        db.executescript(_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('schema', ?)", (indexfile.SCHEMA_VERSION,))
        return db

    def _discard_file(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{self._path}{suffix}").unlink()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The database for a read; a corrupt one is rebuilt from history on the next refresh."""
        try:
            yield self._db
        except sqlite3.DatabaseError as exc:
            if indexfile.locked(exc):
                raise _held_elsewhere(exc) from exc
            self._db.close()
            self._discard_file()
            self._db = self._open()
            self._tip = None
            raise Conflict(f"the version index was unreadable ({exc}) and has been reset; "
                           "try again") from exc

    # -- keeping it current ---------------------------------------------------------------

    def refresh(self, tip: str | None, progress: Progress | None = None, *,
                made: tuple[str, str] | None = None) -> None:
        """Bring the index up to date with ``tip``, the branch's newest commit.

        ``made`` is ``(commit, parent)`` of a commit the caller just made on the indexed
        tip: its place in history is known, so no walk is needed to find it.
        """
        if tip == self._tip and tip is not None:
            return
        for _ in range(_UPDATE_ATTEMPTS):
            try:
                stored = _meta(self._db, "tip")
            except sqlite3.DatabaseError as exc:
                if indexfile.locked(exc):
                    raise _held_elsewhere(exc) from exc
                self._reset_database()
                stored = None
            if stored == tip:
                break
            if tip is not None and self._repo.refs.is_shallow():
                raise ShallowHistory()
            self._latest_cache = None
            try:
                updated = self._update(stored, tip, progress, made)
            except sqlite3.OperationalError as exc:
                if not indexfile.locked(exc):
                    raise
                raise _held_elsewhere(exc) from exc
            if updated:
                break
        else:
            raise Conflict("the version index kept being updated by other processes while "
                           "this one read history; try again")
        self._tip = tip

    def _reset_database(self) -> None:
        self._db.close()
        coldload.forget(str(self._repo.git_dir))
        self._discard_file()
        self._db = self._open()

    def _update(self, stored: str | None, tip: str | None, progress: Progress | None,
                made: tuple[str, str] | None = None) -> bool:
        """Store the numbering from ``stored`` to ``tip``; ``False`` when another process
        stored an update while this one walked (nothing was written: walk again)."""
        with _without_gc():
            return self._update_rows(stored, tip, progress, made)

    def _update_rows(self, stored: str | None, tip: str | None, progress: Progress | None,
                     made: tuple[str, str] | None) -> bool:
        if tip is None:
            return self._write(_Plan(rebuild=True), None, stored)
        plan = None
        if stored is not None:
            known: list[tuple[str, tuple[str, ...]]] | None = (
                [(tip, (stored,))] if made == (tip, stored) else None)
            plan = self._plan(tip, stored, None, known)
            if plan is None and self._moved_on(tip):
                # Another process indexed the branch past the tip this caller read (a
                # register landed meanwhile): no rewrite, and nothing to store. The
                # caller's next look at the branch finds the index current.
                return True
        if plan is None:
            previous = self._all_rows() if stored is not None else {}
            plan = self._plan(tip, None, progress)
            assert plan is not None
            plan.findings.extend(self._renumbered(previous, plan.rows, tip, stored))
        return self._write(plan, tip, stored)

    def _renumbered(self, previous: dict[tuple[str, int], VersionRow],
                    rows: list[VersionRow], tip: str, stored: str | None) -> list[Finding]:
        """Every number whose content a rebuild changed: loud, never silent.

        One whose number was this clone's alone is ``unpushed``, and ``check`` notes it
        without failing. That is judged by what the remote-tracking branch has pointed at
        here (its value and reflog):
        - a version whose commit ``tip`` still reaches, renumbered by how a merge brought
          it in (a register on a branch merged as a pull request, local commits on the
          side of a ``git pull`` merge), had its old number from the remote only if a
          value the branch had, which the old indexed tip ``stored`` also reached, reached
          it; a merge pushed with the local commits first and a message of its own
          renumbers such versions, and that is loud;
        - a version whose commit history dropped was the clone's alone if the branch never
          reached it (rebased by ``git pull --rebase``, or reset away, before it was
          pushed). A dropped commit the remote had (a forced push), or any when the
          reflog cannot tell, is ``renumbered``; a kept one when the reflog cannot tell
          is ``unpushed``, as the ordinary pull merge's are."""
        now = {(r.name, r.number): r for r in rows}
        changed = [(old, now.get(key)) for key, old in sorted(previous.items())
                   if key not in now or now[key].blob != old.blob]
        history = self._repo.history
        olds = {old.commit for old, _ in changed}
        dropped = history.unreachable(olds, [tip])
        if dropped is None:  # a commit pruned away: dropped, and nothing else is known
            dropped, unpushed = olds, set()
        else:
            tracking = f"refs/remotes/origin/{self.branch_name}"  # promptctl's remote
            shared = (self._repo.refs.logged_values(tracking)
                      if olds and self.branch_name is not None
                      and self._repo.ref_updates.keeps_reflog(tracking) else set())
            unpushed = (history.unreachable(dropped, shared) if shared and dropped
                        else None) or set()
            kept = olds - dropped
            if kept:
                # The values the old numbering stood on (the old tip reached them): what
                # they reached was numbered as the remote numbered it.
                off = history.unreachable(shared, [stored]) if shared and stored else None
                held = shared - off if off is not None else set()
                unpushed |= (history.unreachable(kept, held) or set()) if held else kept
        found = []
        for old, new in changed:
            what = f"commit {new.commit[:10]}" if new else "nothing"
            was = f"{old.name}/{old.number} was commit {old.commit[:10]} here"
            if old.commit in unpushed:
                found.append(Finding("unpushed", old.name, old.number,
                                     f"{was}, never pushed, and is now {what}"))
            else:
                found.append(Finding("renumbered", old.name, old.number,
                                     f"{was} and is now {what}: history was rewritten "
                                     "(a reset, a forced push or a merge)"))
        return found

    def _moved_on(self, tip: str) -> bool:
        """Whether the branch has moved from ``tip`` since the caller read it."""
        return self._branch is not None and self._repo.refs.resolve(self._branch) != tip

    def _plan(self, tip: str, stored: str | None, progress: Progress | None,
              known: list[tuple[str, tuple[str, ...]]] | None = None) -> _Plan | None:
        """What numbering the commits from ``stored`` (exclusive) to ``tip`` adds; ``None``
        when history was rewritten. ``known`` is that graph when the caller already has
        it."""
        history = self._repo.history
        numbering = _Numbering(self, incremental=stored is not None)
        try:
            if known is None:
                walked = history.walk(tip, since=stored)
            else:
                walked = history.read_commits([commit for commit, _ in known])
            for commit in walked:  # records read as git writes, while git reads on
                numbering.add(commit)
        except PromptctlError:
            if stored is None:
                raise
            return None  # the stored tip is gone (reset and garbage-collected)
        commits = numbering.commits
        chain: list[str] = []
        at: str | None = tip
        while at is not None and at in commits:
            chain.append(at)
            at = line_parent(commits[at], self.branch_name)
        if at != stored:
            return None  # the line does not lead back to what we indexed
        chain.reverse()
        if progress and len(chain) >= 1000:
            progress(0, len(chain))  # a long walk: say so before numbering it
        plan = numbering.run(chain, progress)
        if progress:
            progress(len(chain), len(chain))
        return plan

    def _write(self, plan: _Plan, tip: str | None, stored: str | None) -> bool:
        """Store a plan in one short transaction (the walk itself ran outside it, so other
        processes reading or building meanwhile never wait for a long one).

        A plan made from the index as it stood at ``stored`` is stored only if the index
        still stands there (compare and swap): had another process stored its update
        meanwhile, this walk may have read some of its rows, and would number its versions
        a second time or, rebuilding, store no findings over the ones it found. ``False``
        then, and nothing is written.
        """
        if plan.rebuild or plan.findings:  # an old tip may now load with a warning
            coldload.forget(str(self._repo.git_dir))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if _meta(db, "tip") != stored:
                db.execute("ROLLBACK")
                return False
            if plan.rebuild:
                for table in ("versions", "latest", "findings"):
                    db.execute(f"DELETE FROM {table}")
            # In key order: a hundred thousand rows go into the table's B-tree in a run.
            rows: list[VersionRow] = sorted(plan.rows, key=lambda r: (r.name, r.number))
            db.executemany("INSERT OR REPLACE INTO versions VALUES (?,?,?,?,?,?,?,?,?)", rows)
            db.executemany("DELETE FROM latest WHERE name = ?",
                           [(name,) for name, row in plan.latest.items() if row is None])
            db.executemany(  # the metadata columns are filled when first asked for
                "INSERT OR REPLACE INTO latest (name, number, commit_id, blob) VALUES (?,?,?,?)",
                [(name, row.number, row.commit, row.blob)
                 for name, row in plan.latest.items() if row is not None])
            db.executemany("INSERT INTO findings VALUES (?,?,?,?)",
                           [(f.kind, f.name, f.number, f.detail) for f in plan.findings])
            # A number a rewrite left empty may be given again: say what it names now.
            empty = set(db.execute(f"SELECT name, number FROM findings WHERE {_RENUMBERINGS}"
                                   " AND detail LIKE '%is now nothing%'").fetchall())
            if empty:
                db.executemany(
                    "UPDATE findings SET detail = replace(detail, 'is now nothing', ?)"
                    f" WHERE {_RENUMBERINGS} AND name = ? AND number = ?",
                    [(f"is now commit {r.commit[:10]}", r.name, r.number)
                     for r in plan.rows if (r.name, r.number) in empty])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('tip', ?)", (tip,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return True

    def _all_rows(self) -> dict[tuple[str, int], VersionRow]:
        rows = self._db.execute("SELECT * FROM versions").fetchall()
        return {(r[0], r[1]): VersionRow(*r) for r in rows}

    # -- reading ---------------------------------------------------------------------------

    def name_of(self, path: str) -> str | None:
        """The prompt a repository path holds, or ``None`` when it is not a prompt file."""
        if not (path.startswith(self.prompts_dir) and path.endswith(".yaml")):
            return None
        try:
            return validate_name(path[len(self.prompts_dir):-len(".yaml")])
        except InvalidName:
            return None  # a file promptctl could never address is not a prompt

    def path_of(self, name: str) -> str:
        """The prompt file's path from the repository root."""
        return f"{self.prompts_dir}{name}.yaml"

    def count(self, name: str) -> int:
        """The highest version number ``name`` has had (0 for an unknown prompt)."""
        with self._reading() as db:
            row = db.execute("SELECT max(number) FROM versions WHERE name = ?", (name,)).fetchone()
        return int(row[0] or 0)

    def version(self, name: str, number: int) -> VersionRow | None:
        """Version ``number`` of ``name`` (``None`` too for a number no version can have)."""
        if not 0 < number <= MAX_VERSION:
            return None  # a huge one given as an int, which SQLite could not even compare
        with self._reading() as db:
            row = db.execute(indexfile.VERSION_BY_NUMBER, (name, number)).fetchone()
        return VersionRow(*row) if row else None

    def newest(self, name: str) -> VersionRow | None:
        """The version of ``name`` in force at the tip while its file exists, else ``None``."""
        with self._reading() as db:
            row = db.execute(indexfile.NEWEST_VERSION, (name,)).fetchone()
        return VersionRow(*row) if row else None

    def made_by(self, name: str, commit: str) -> VersionRow | None:
        """The version ``commit`` created for ``name``, if it created one."""
        with self._reading() as db:
            row = db.execute(indexfile.VERSION_MADE_BY, (name, commit)).fetchone()
        return VersionRow(*row) if row else None

    def numbers_made_by(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """For each ``(name, commit)`` whose commit created a version of ``name``, its
        number: :meth:`made_by` for thousands of pairs at once (``list`` resolves every
        alias), reading only the number."""
        found: dict[tuple[str, str], int] = {}
        with self._reading() as db:
            for pair in pairs:
                row = db.execute("SELECT number FROM versions WHERE name = ? AND commit_id = ?",
                                 pair).fetchone()
                if row is not None:
                    found[pair] = row[0]
        return found

    def holding(self, name: str, blob: str) -> list[VersionRow]:
        """The versions of ``name`` whose file is ``blob``, oldest first."""
        with self._reading() as db:
            rows = db.execute("SELECT * FROM versions WHERE name = ? AND blob = ? ORDER BY number",
                              (name, blob)).fetchall()
        return [VersionRow(*row) for row in rows]

    def history_rows(self, name: str) -> list[tuple[str, int, str, str, str, int, str]]:
        """Every version of ``name``, by number, as ``(name, number, commit, author, email,
        timestamp, note)``: what a history shows and no more (1,000 versions in ~2.2 ms
        where whole rows took ~3 ms)."""
        with self._reading() as db:
            return db.execute("SELECT name, number, commit_id, author, email, timestamp, message"
                              " FROM versions WHERE name = ? ORDER BY number", (name,)).fetchall()

    def names(self) -> list[str]:
        """Every prompt that ever had a version, sorted."""
        with self._reading() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT name FROM versions ORDER BY name")]

    def latest_rows(self) -> list[LatestRow]:
        """Every prompt that exists now, with its newest metadata, sorted by name."""
        if self._latest_cache is None:
            self._summarize_pending()
            with self._reading() as db:
                rows = db.execute(
                    "SELECT name, number, commit_id, description, tags, model_config,"
                    " template_text, problem FROM latest ORDER BY name").fetchall()
            # The tags and model configs of every row parsed in one call: half the time
            # of one json.loads per value.
            dicts = iter(json.loads("[" + ",".join([
                value or "{}" for row in rows for value in (row[4], row[5])]) + "]"))
            self._latest_cache = [
                LatestRow(n, num, c, d, next(dicts), next(dicts), text or "", p)
                for n, num, c, d, _, _, text, p in rows
            ]
        return self._latest_cache

    def _summarize_pending(self) -> None:
        """Parse the newest versions whose metadata is not stored yet, and store it."""
        with self._reading() as db:
            # CROSS JOIN keeps SQLite to this order: the few rows of `latest` still to
            # parse, then their versions. Left to choose, it walked all of `versions`
            # (~60 ms at 100,000 versions, on every list and search).
            pending = [VersionRow(*row) for row in db.execute(
                "SELECT v.* FROM latest l CROSS JOIN versions v ON v.name = l.name"
                " AND v.number = l.number WHERE l.template_text IS NULL").fetchall()]
        if not pending:
            return
        summaries = [(*self._summarize(row), row.name, row.number) for row in pending]
        with self._reading() as db:
            # Another process may have stored the same rows meanwhile: the values agree.
            db.executemany(
                "UPDATE latest SET description = ?, tags = ?, model_config = ?,"
                " template_text = ?, problem = ? WHERE name = ? AND number = ?", summaries)

    def refused(self) -> list[tuple[str, str]]:
        """Prompt files at the tip whose names promptctl refuses (``a..b.yaml``,
        ``x.yaml.yaml`` …), each with the reason: never versions, so never listed, and
        said so rather than dropped silently. Listed from the tip's tree once per tip."""
        tip = self._tip
        if tip is None:
            return []
        with self._reading() as db:
            if _meta(db, "refused_tip") == tip:
                return [(p, r) for p, r in json.loads(_meta(db, "refused") or "[]")]
        out = self._repo.runner.run_bytes("ls-tree", "-r", "-z", "--name-only", tip, "--",
                                          f":(literal){self.prompts_dir}")
        found = []
        for raw in out.split(b"\0"):
            path = raw.decode("utf-8", "surrogateescape")
            if path.endswith(".yaml") and self.name_of(path) is None:
                try:
                    validate_name(path[len(self.prompts_dir):-len(".yaml")])
                    reason = "not a name promptctl can use"
                except InvalidName as exc:
                    reason = exc.reason
                found.append((path, reason))
        with self._reading() as db:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [("refused", json.dumps(found)), ("refused_tip", tip)])
        return found

    def findings(self, name: str | None = None) -> list[Finding]:
        """What the last rebuild found wrong with the numbering (of ``name``, or all)."""
        with self._reading() as db:
            if name is None:
                rows = db.execute("SELECT * FROM findings ORDER BY name, number").fetchall()
            else:
                rows = db.execute("SELECT * FROM findings WHERE name = ? ORDER BY number",
                                  (name,)).fetchall()
        return [Finding(*row) for row in rows]


class _Plan:
    """What a walk decided: rows to add, the newest version of each prompt it touched
    (``None``: deleted), findings, and whether the stored rows are replaced."""

    __slots__ = ("findings", "latest", "rebuild", "rows")

    def __init__(self, *, rebuild: bool) -> None:
        self.rebuild = rebuild
        self.rows: list[VersionRow] = []
        self.latest: dict[str, VersionRow | None] = {}
        self.findings: list[Finding] = []


class _Numbering:
    """One walk of new commits: the rules of the module docstring, applied in order."""

    def __init__(self, index: VersionIndex, *, incremental: bool) -> None:
        self.index = index
        self.incremental = incremental
        self.commits: dict[str, Commit] = {}
        self.plan = _Plan(rebuild=not incremental)
        self._records: dict[str, list[VersionRecord]] = {}  # commit -> its valid records
        self._added: dict[str, dict[int, VersionRow]] = {}  # name -> number -> row
        self._top: dict[str, int] = {}  # name -> highest number stored or added
        self._addressable: dict[str, bool] = {}  # record name -> a prompt promptctl can name

    def add(self, commit: Commit) -> None:
        """Take one commit of the walk (in any order), reading its records.

        The commit is kept with its note (the message without the records) as its
        message: that is what a version's row holds, and a long walk keeps no more."""
        found, note = split_records(commit.message)
        if found:
            valid = self._valid(commit, found)
            if valid:
                self._records[commit.id] = valid
            # Numbering needs no tree once the records are checked against it.
            commit = commit._replace(message=note, tree="")
        self.commits[commit.id] = commit

    def run(self, chain: Sequence[str], progress: Progress | None = None) -> _Plan:
        """Number the commits taken, along ``chain``, the line oldest first."""
        records = self._records
        # Every chain commit counts as seen from the start: a merge's side history can
        # reach only chain commits older than the merge, never newer ones.
        seen = set(chain)
        changes = self._diffs([c for c in chain if c not in records])
        commits, latest, version_at = self.commits, self.plan.latest, self._version_at
        for done, commit in enumerate(chain):
            if progress and done and done % 1000 == 0:
                progress(done, len(chain))
            brought: dict[str, VersionRow] = {}
            c = commits[commit]
            if len(c.parents) > 1:
                for side in self._brought_in(commit, seen):
                    for record in records.get(side, ()):
                        if record.final:
                            row = self._claim(record.name, record.number, record.blob, side)
                            if row is None:  # the line holds that number: numbered anew
                                row = self._add(record.name, self._next_free(record.name),
                                                record.blob, side, "draft")
                            brought[record.name] = row
            mine = records.get(commit)
            if mine is None:
                for name, blob in changes.get(commit, {}).items():
                    latest[name] = version_at(commit, name, blob, None, brought)
            else:  # a squash may hold several: the last record of a name speaks for it
                for name, record in {r.name: r for r in mine}.items():
                    latest[name] = version_at(commit, name, record.blob, record, brought)
        return self.plan

    # -- the rules -------------------------------------------------------------------------

    def _version_at(self, commit: str, name: str, blob: str | None,
                    record: VersionRecord | None,
                    brought: dict[str, VersionRow]) -> VersionRow | None:
        if blob is None:
            return None  # the file was deleted
        if record is not None and record.final:
            row = self._claim(name, record.number, blob, commit)
            if row is not None:
                return row
        if name in brought and brought[name].blob == blob:
            return brought[name]  # the merge brought a recorded version in unchanged
        number = self._next_free(name)
        kind = "draft" if record is not None else "derived"
        return self._add(name, number, blob, commit, kind)

    def _claim(self, name: str, number: int, blob: str, commit: str) -> VersionRow | None:
        """Give ``number`` to a final record, unless another version holds it."""
        held = self._held(name, number)
        if held is None:
            return self._add(name, number, blob, commit, "final")
        if held.blob == blob:
            return held
        self.plan.findings.append(Finding(
            "clash", name, number,
            f"{name}/{number} is claimed by commit {commit[:10]} and held by commit "
            f"{held.commit[:10]}; the claim of {commit[:10]} was numbered anew"))
        return None

    def _next_free(self, name: str) -> int:
        return self._highest(name) + 1

    def _add(self, name: str, number: int, blob: str, commit: str, kind: str) -> VersionRow:
        c = self.commits[commit]
        row = VersionRow(name, number, commit, blob, c.author, c.email, c.timestamp, c.message,
                         kind)
        self._added.setdefault(name, {})[number] = row
        self._top[name] = max(self._highest(name), number)
        self.plan.rows.append(row)
        return row

    # The stored numbering is read a row at a time: a register of a prompt with thousands
    # of versions reads the one number it claims and the highest, not every version.

    def _held(self, name: str, number: int) -> VersionRow | None:
        """The version holding ``number`` of ``name``: added by this walk, else stored."""
        added = self._added.get(name, {}).get(number)
        if added is not None or not self.incremental:
            return added
        return self.index.version(name, number)

    def _highest(self, name: str) -> int:
        """The highest number ``name`` has, stored or added by this walk (0: none)."""
        top = self._top.get(name)
        if top is None:
            top = self._top[name] = self.index.count(name) if self.incremental else 0
        return top

    # -- reading the commits ---------------------------------------------------------------

    def _valid(self, commit: Commit, found: list[VersionRecord]) -> list[VersionRecord]:
        """The records ``found`` in ``commit`` that describe it: its own tree, a prompt's name,
        this registry's folder."""
        valid = []
        folder = self.index.folder
        for record in found:
            if record.tree != commit.tree or record.folder not in (folder, ""):
                continue  # copied, rebased, cherry-picked or squashed, or another registry's
            ok = self._addressable.get(record.name)
            if ok is None:
                path = self.index.path_of(record.name)
                ok = self._addressable[record.name] = self.index.name_of(path) == record.name
            if ok and folder and not record.folder and not self._holds(commit.id, record):
                continue  # written before records named their folder: another registry's
            if ok:
                valid.append(record)
        return valid

    def _holds(self, commit: str, record: VersionRecord) -> bool:
        """Whether ``commit`` holds ``record``'s blob at this registry's path (one lookup:
        only records from before folders were named need it, in a registry in a folder)."""
        objects = self.index._repo.objects
        return objects.entry_id(commit, self.index.path_of(record.name)) == record.blob

    def _brought_in(self, commit: str, seen: set[str]) -> list[str]:
        """The new commits a merge brings in from its other parents, parents first.

        The order is a depth-first walk of the graph from each other parent in turn, so
        it is the same in every clone: it decides which of two claims of one number wins.
        """
        commits = self.commits
        found: list[str] = []
        line = line_parent(commits[commit], self.index.branch_name)
        for start in (p for p in commits[commit].parents if p != line):
            stack = [(start, False)]
            while stack:
                at, expanded = stack.pop()
                if expanded:  # every parent of ``at`` is in ``found`` by now
                    found.append(at)
                    continue
                if at in seen or at not in commits:
                    continue
                seen.add(at)
                stack.append((at, True))
                stack.extend((parent, False) for parent in reversed(commits[at].parents))
        return found

    def _diffs(self, commits: list[str]) -> dict[str, dict[str, str | None]]:
        """For commits without records: each prompt they change and its new blob."""
        branch = self.index.branch_name
        pairs = [(c, line_parent(self.commits[c], branch)) for c in commits]
        found: dict[str, dict[str, str | None]] = {}
        history = self.index._repo.history
        for commit, files in history.first_parent_changes(pairs, self.index.prompts_dir).items():
            for change in files:
                name = self.index.name_of(change.path)
                if name is not None:
                    found.setdefault(commit, {})[name] = change.blob
        return found


@contextlib.contextmanager
def _without_gc() -> Iterator[None]:
    """No cyclic garbage collection while the index is built: a first build makes a few
    hundred thousand tuples, none in a cycle, and the collector's passes over them cost
    a quarter of the build's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def line_parent(commit: Commit, branch: str | None) -> str | None:
    """The parent the registry line continues through: the first, except through a merge
    git made by pulling this branch from a remote, where the line is the branch pulled
    (the second parent), as it was on the remote before the merge was pushed.

    Versions are numbered along this line (and the pre-push check walks it): a number
    the remote gave stays on it whichever way a clone pulled."""
    parents = commit.parents
    if len(parents) == 2 and branch is not None and _pulls(commit.message, branch):
        return parents[1]
    return parents[0] if parents else None


def _held_elsewhere(exc: sqlite3.Error) -> Conflict:
    return Conflict(f"the version index is held by another process ({exc}); try again")


def _pulls(message: str, branch: str) -> bool:
    """Whether a merge's message is git's own for pulling ``branch`` from a remote
    (``git pull``: "Merge branch 'main' of URL"; ``git merge origin/main``: "Merge
    remote-tracking branch 'origin/main'"), possibly followed by " into BRANCH"."""
    first = message.split("\n", 1)[0]
    if first.startswith(f"Merge branch '{branch}' of "):
        return True
    tracking = "Merge remote-tracking branch '"
    if not first.startswith(tracking):
        return False
    merged, quote, rest = first[len(tracking):].partition("'")
    return (bool(quote) and merged.endswith(f"/{branch}")
            and (not rest or rest.startswith(" into ")))


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None
