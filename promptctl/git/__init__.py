"""The Git layer: the only code that runs git or reads ``.git``.

A :class:`Repo` is assembled from parts held as attributes, each a module of its own:

* ``refs`` (:class:`~.refs.Refs`): HEAD and refs, read from the files;
* ``objects`` (:class:`~.objects.Objects`): objects read through one ``cat-file``
  process, blobs and trees written in Python;
* ``runner`` (:class:`~.runner.Runner`): runs git; the one place git's words are read;
* ``ref_updates`` (:class:`~.refs.RefUpdates`): refs moved by compare-and-swap;
* ``commits`` (:class:`~.commits.Commits`): commit and tag objects, written in Python;
* ``identity`` (:class:`~.identity.Identity`): who writes and the config a write obeys;
* ``history`` (:class:`~.history.History`): walks, diffs, ancestry, deepening a shallow clone;
* ``worktree`` (:class:`~.worktree.Worktree`): the user's index and files, one path at a time;
* ``remotes`` (:class:`~.remotes.Remotes`): fetch, push, ls-remote, partial clones;
* ``records`` (:class:`~.records.Records`): append-only chains of record commits.

``refs`` and ``objects`` start no process of their own beyond the one ``cat-file``: a
load is handed those two (and the version index) and nothing else. The other parts are
made when first used.
"""

from __future__ import annotations

import functools
import os

from . import files

# Importing the package imports nothing else: the cold ``load`` (``promptctl.coldload``)
# reads ``files`` alone. The parts are imported when first made, and those a load does
# not use never are (~4 ms of every cold load). ``typing`` itself would cost ~3 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from .commits import Commits
    from .history import History
    from .identity import Identity
    from .records import Records
    from .refs import RefUpdates
    from .remotes import Remotes
    from .runner import Runner
    from .worktree import Worktree

_LOOSE_TAGS = 256  # alias tags read one file each past this: pack them
_GC_AUTO = 6700  # git's gc.auto default
_HEX = "0123456789abcdef"


class Repo:
    """A Git repository (or a linked worktree of one) seen from promptctl."""

    def __init__(self, root: Path, git_dir: Path, common_dir: Path) -> None:
        from .objects import Objects  # here, not above: see the imports there
        from .refs import Refs

        self.root = root
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.refs = Refs(git_dir, common_dir)
        self.objects = Objects(root, common_dir)

    # -- finding and making repositories --------------------------------------------------

    @classmethod
    def find(cls, start: Path) -> Repo | None:
        """The repository whose working tree contains ``start`` (absolute), or ``None``."""
        from pathlib import Path

        found = files.find_repository(str(start))
        return None if found is None else cls(*(Path(path) for path in found))

    @classmethod
    def open_bare(cls, path: Path) -> Repo:
        """A bare repository (promptctl's own clone of a remote registry): no working tree."""
        return cls(path, path, path)

    @classmethod
    def init(cls, path: Path) -> Repo:
        """Run ``git init`` in ``path`` (made if missing) and return the repository."""
        path.mkdir(parents=True, exist_ok=True)
        from .runner import Runner

        Runner(path).run("init", "--quiet", str(path))
        repo = cls.find(path)
        assert repo is not None
        return repo

    @classmethod
    def clone_bare(cls, url: str, dest: Path, refspecs: tuple[str, ...]) -> Repo:
        """Clone ``url`` bare into ``dest`` (absent), fetching ``refspecs`` from then on."""
        from .remotes import Remotes
        from .runner import Runner

        Remotes(Runner(dest.parent)).clone_bare(url, dest)
        repo = cls.open_bare(dest)
        for spec in refspecs:
            repo.runner.run("config", "--add", "remote.origin.fetch", spec)
        return repo

    @property
    def bare(self) -> bool:
        """True for a repository without a working tree."""
        return self.root == self.git_dir

    def close(self) -> None:
        """Stop the helper processes; the repository stays usable and restarts them on demand."""
        self.objects.close()
        if "ref_updates" in self.__dict__:
            self.ref_updates.close()
        if "identity" in self.__dict__:
            self.identity.close()

    def keep_packed(self, config: Callable[[], Mapping[str, str | None]]) -> None:
        """After a write: pack loose refs and objects once they pile up, as git's own
        ``gc --auto`` does after a commit (promptctl's writes bypass ``git commit``).

        Loose alias tags are read one file each, so a registry grown by promptctl would
        slow down until someone ran ``git gc``. ``config`` gives git's configuration
        (``git var -l``), for ``gc.auto``. Cheap when there is nothing to do: one folder
        listing each. Best effort: a failure here changes nothing and is not reported
        (the write itself landed).
        """
        from ..errors import PromptctlError

        try:
            loose_tags = len(_listing(os.path.join(self.common_dir, "refs", "tags", "prompts")))
            gc_due = self._gc_due(config)
        except (OSError, PromptctlError):
            return
        if loose_tags > _LOOSE_TAGS:
            self.runner.try_run("pack-refs", "--all")
        if gc_due:
            # Not detached: a gc left running after the command would surprise more.
            self.runner.try_run("-c", "gc.autoDetach=false", "gc", "--auto", "--quiet")

    def _gc_due(self, config: Callable[[], Mapping[str, str | None]]) -> bool:
        """Whether ``git gc --auto`` would find too many loose objects, judged as git
        judges it: more than ``gc.auto`` / 256 (rounded up) objects in ``objects/17``.
        One more or less than git's count would start a gc that does nothing on every
        write until that folder gains or loses an object (~2 ms each)."""
        names = _listing(os.path.join(self.common_dir, "objects", "17"))
        loose = sum(1 for name in names if len(name) == 38 and not name.strip(_HEX))
        if not loose:
            return False  # whatever gc.auto says (a packed registry: no need to ask)
        try:
            threshold = int(config().get("gc.auto") or _GC_AUTO)
        except ValueError:
            threshold = _GC_AUTO  # git itself refuses such a value
        if threshold <= 0:
            return False  # gc.auto=0: the user turned it off
        return loose > -(-threshold // 256)

    # -- the parts that run git, made on first use -----------------------------------------

    @functools.cached_property
    def runner(self) -> Runner:
        """Runs git in this repository."""
        from .runner import Runner

        return Runner(self.root)

    @functools.cached_property
    def ref_updates(self) -> RefUpdates:
        """Moves refs by compare-and-swap."""
        from .refs import RefUpdates

        return RefUpdates(self.runner, self.refs, self.identity, bare=self.bare)

    @functools.cached_property
    def identity(self) -> Identity:
        """Who writes, and the configuration, read once per environment."""
        from .identity import Identity

        return Identity(self.runner, self.git_dir, self.common_dir)

    @functools.cached_property
    def commits(self) -> Commits:
        """Writes commit and tag objects."""
        from .commits import Commits

        return Commits(self.runner, self.objects, self.identity)

    @functools.cached_property
    def history(self) -> History:
        """Walks and compares commits."""
        from .history import History

        return History(self.runner, self.refs, self.objects, self.root)

    @functools.cached_property
    def worktree(self) -> Worktree:
        """The user's index and files (a bare repository has none: do not ask)."""
        from .worktree import Worktree

        return Worktree(self.runner, self.root, self.git_dir)

    @functools.cached_property
    def remotes(self) -> Remotes:
        """Fetch, push and friends."""
        from .remotes import Remotes

        return Remotes(self.runner)

    @functools.cached_property
    def records(self) -> Records:
        """Append-only record chains (the alias log)."""
        from .records import Records

        return Records(self.refs, self.ref_updates, self.commits, self.history)


def _listing(folder: str) -> list[str]:
    """The names in ``folder``; none when it does not exist."""
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []
