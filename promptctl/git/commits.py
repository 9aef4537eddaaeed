"""Commit and tag objects: the two object kinds whose identity line git works out.

Blobs and trees are written in Python (``objects``); a commit and an annotated tag name
who made them, and git's own rules for that (``user.name``, ``GIT_COMMITTER_*``, the
system's fallbacks) are git's to apply, so ``commit-tree`` and ``git var`` do it.
"""

from __future__ import annotations

from .objects import Objects
from .runner import Runner, identity_env


class Commits:
    """Making commits and tag objects in one repository (no ref moves: see ``refs``)."""

    def __init__(self, runner: Runner, objects: Objects) -> None:
        self._runner = runner
        self._objects = objects

    def create(self, tree: str, parents: tuple[str, ...], message: str,
               author: tuple[str, str] | None = None) -> str:
        """Write a commit of ``tree`` on ``parents`` and return its id."""
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self._runner.run(*args, input=message, env=identity_env(author)).strip()

    def record(self, parents: tuple[str, ...], message: str,
               author: tuple[str, str] | None = None) -> str:
        """A record commit: the empty tree (one small object), ``message``, on ``parents``."""
        return self.create(self._objects.empty_tree(), parents, message, author)

    def tag(self, name: str, commit: str, message: str,
            author: tuple[str, str] | None = None) -> str:
        """Write an annotated tag object ``name`` for ``commit`` (no ref yet); return its id."""
        tagger = self._runner.run("var", "GIT_COMMITTER_IDENT", env=identity_env(author)).strip()
        body = f"object {commit}\ntype commit\ntag {name}\ntagger {tagger}\n\n{message.rstrip()}\n"
        return self._objects.write("tag", body.encode())
