"""Commit and tag objects, written in Python byte for byte as ``git commit-tree`` writes them.

A commit is ``tree``, ``parent`` lines, ``author`` and ``committer`` (see ``identity``
for who and when), a blank line and the message as given: a small, frozen format, so it
is written here as a loose object like blobs and trees (``objects``) and a write spawns
no ``commit-tree``. What ``commit-tree`` would do differently is left to it: an
``encoding`` header (``i18n.commitEncoding``), and messages it would alter or refuse (a
NUL byte; a Unicode non-character, which its UTF-8 check rewrites as Latin-1). It never
signs unless told to (``-S``; ``commit.gpgSign`` is ``git commit``'s), and neither do we.
"""

from __future__ import annotations

import re

from .identity import Identity
from .objects import Objects
from .runner import Runner, identity_env

# What git's verify_utf8() calls invalid although Python encodes it: U+FDD0..U+FDEF and
# U+xxFFFE / U+xxFFFF in every plane. Surrogates never reach here (strict encoding).
_ODD_TEXT = re.compile("[\0\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)) + "]")


class Commits:
    """Making commits and tag objects in one repository (no ref moves: see ``refs``)."""

    def __init__(self, runner: Runner, objects: Objects, identity: Identity) -> None:
        self._runner = runner
        self._objects = objects
        self.identity = identity

    def create(self, tree: str, parents: tuple[str, ...], message: str,
               author: tuple[str, str] | None = None) -> str:
        """Write a commit of ``tree`` on ``parents`` and return its id."""
        profile = self.identity.profile(author)
        encoding = profile.config.get("i18n.commitencoding")
        if (_ODD_TEXT.search(message)
                or (encoding is not None and encoding.lower() not in ("utf-8", "utf8"))):
            return self.create_with_git(tree, parents, message, author)
        now, zone = self.identity.now()  # one instant for both, as git stamps them
        who = self.identity.ident
        body = "".join((f"tree {tree}\n", *(f"parent {p}\n" for p in parents),
                        f"author {who('author', author, now, zone, profile)}\n",
                        f"committer {who('committer', author, now, zone, profile)}\n",
                        "\n", message))
        return self._objects.write("commit", body.encode())

    def create_with_git(self, tree: str, parents: tuple[str, ...], message: str,
                        author: tuple[str, str] | None = None) -> str:
        """The same commit made by ``git commit-tree`` itself (what ``create`` matches)."""
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
        now, zone = self.identity.now()
        tagger = self.identity.ident("committer", author, now, zone)
        body = f"object {commit}\ntype commit\ntag {name}\ntagger {tagger}\n\n{message.rstrip()}\n"
        return self._objects.write("tag", body.encode())
