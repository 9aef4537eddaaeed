"""Everything promptctl asks of Git: :class:`GitRepo`, and the only modules that run git.

Only ``gitrepo.py`` and the ``gitrepo_*.py`` modules it is made of run git or import
GitPython; everything else asks a :class:`GitRepo`. Two paths, on purpose:

* Reads that sit on the hot path of ``load`` (HEAD, refs, objects) go straight to the
  ref files and to one long-lived ``git cat-file --batch`` process (``gitrepo_files``).
  Importing GitPython costs ~50 ms, a third of the cold ``promptctl load`` budget, and a
  load needs none of it.
* Everything else runs through GitPython's command layer, imported on first use, which
  gives us one place where ``GitCommandError`` is turned into our own errors
  (``gitrepo_commands``): history (``gitrepo_history``), writes (``gitrepo_writes``),
  append-only record logs (``gitrepo_records``) and remotes (``gitrepo_remotes``).

Writes never touch the user's index or working tree beyond the one prompt file written:
a commit's tree is built from objects and the branch is moved with ``update-ref NEW OLD``,
a compare-and-swap that fails if anyone moved it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .errors import RemoteUnreachable
from .gitrepo_commands import IdentityMissing, first_error, run_network, run_plain
from .gitrepo_files import ZERO_OID, Head, Ref
from .gitrepo_history import FileChange, LogEntry
from .gitrepo_records import GitRecords
from .gitrepo_remotes import GitRemotes
from .gitrepo_writes import RefUpdate

__all__ = [
    "ZERO_OID",
    "FileChange",
    "GitRepo",
    "Head",
    "IdentityMissing",
    "LogEntry",
    "Ref",
    "RefUpdate",
]


class GitRepo(GitRecords, GitRemotes):
    """A Git repository (or a worktree of one) seen from promptctl.

    Reading (``gitrepo_files``), history (``gitrepo_history``), writes
    (``gitrepo_writes``), record logs (``gitrepo_records``) and remotes
    (``gitrepo_remotes``) each live in a module of their own; this class joins them
    and makes or clones repositories.
    """

    @classmethod
    def init(cls, path: Path) -> GitRepo:
        """Run ``git init`` in ``path`` (made if missing) and return the repository."""
        path.mkdir(parents=True, exist_ok=True)
        run_plain(["git", "init", "--quiet", str(path)], "init")
        repo = cls.find(path)
        assert repo is not None
        return repo

    @classmethod
    def clone_bare(cls, url: str, dest: Path, refspecs: Sequence[str]) -> GitRepo:
        """Clone ``url`` bare into ``dest`` (absent), fetching ``refspecs`` from then on.

        Partial (``--filter=blob:none``: blobs come when read) where the server allows
        it; git itself falls back to a full clone where it does not.
        """
        import shutil

        detail = ""
        for extra in (["--filter=blob:none"], []):
            result = run_network(["git", "clone", "--bare", "--quiet", *extra, "--", url,
                                   str(dest)])
            if result.returncode == 0:
                break
            detail = first_error(result.stderr)
            shutil.rmtree(dest, ignore_errors=True)
            if "filter" not in detail:
                raise RemoteUnreachable(url, detail)
        else:
            raise RemoteUnreachable(url, detail)
        repo = cls.open_bare(dest)
        for spec in refspecs:
            repo._git("config", "--add", "remote.origin.fetch", spec)
        return repo
