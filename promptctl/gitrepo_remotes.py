"""Talking to remotes: fetch, push, ls-remote, and the blobs a partial clone lacks.

Every command here runs as a plain process that fails rather than wait for a password
(``GIT_TERMINAL_PROMPT=0``); an unreachable remote is a :class:`RemoteUnreachable`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import RemoteUnreachable
from .gitrepo_commands import GitCommands, first_error, run_network


class GitRemotes(GitCommands):
    """A repository's remotes, and reading trees without downloading blobs."""

    def remote_url(self, remote: str) -> str | None:
        """The URL of ``remote``, or ``None`` when there is no such remote."""
        out = self._git("config", "--get", f"remote.{remote}.url", check=False)
        return out.strip() or None if out else None

    def fetch(self, remote: str, refspecs: Sequence[str] = (), *, prune: bool = False) -> None:
        """Fetch ``refspecs`` (default: the configured ones); :class:`RemoteUnreachable` on failure."""
        args = ["git", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
                *(["--prune"] if prune else []), remote, *refspecs]
        result = run_network(args, cwd=self.root)
        if result.returncode:
            raise RemoteUnreachable(remote, first_error(result.stderr))

    def push(
        self, remote: str, refspecs: Sequence[str], *, leases: Sequence[tuple[str, str | None]] = ()
    ) -> dict[str, str]:
        """Push ``refspecs`` all or nothing (``--atomic``); return each refused ref and why.

        A lease ``(ref, value)`` lets ``ref`` be overwritten only if the remote still has
        ``value`` there (``None``: no such ref), else it is refused as ``stale info``.
        An empty result means everything landed; :class:`RemoteUnreachable` when the
        remote could not be asked at all.
        """
        args = ["git", "push", "--porcelain", "--atomic",
                *[f"--force-with-lease={ref}:{value or ''}" for ref, value in leases],
                remote, *refspecs]
        result = run_network(args, cwd=self.root)
        refused = {}
        for line in result.stdout.splitlines():
            flag, _, rest = line.partition("\t")
            if flag == "!":
                spec, _, why = rest.partition("\t")
                refused[spec.rpartition(":")[2]] = why
        if result.returncode and not refused:
            raise RemoteUnreachable(remote, first_error(result.stderr))
        return refused

    def ls_remote(self, remote: str, refname: str) -> str | None:
        """What ``refname`` points at on ``remote`` now (``None``: no such ref there)."""
        result = run_network(["git", "ls-remote", remote, refname], cwd=self.root)
        if result.returncode:
            raise RemoteUnreachable(remote, first_error(result.stderr))
        for line in result.stdout.splitlines():
            oid, _, name = line.partition("\t")
            if name == refname:
                return oid
        return None

    def prefetch_blobs(self, commit: str, folder: str) -> None:
        """In a partial clone, download in one go the blobs under ``folder`` at ``commit``.

        Otherwise each would be fetched on its own when first read (a round trip per
        prompt). Best effort: what fails here is fetched when read.
        """
        if (self._git("config", "--get", "remote.origin.promisor", check=False) or "").strip() != "true":
            return
        listing = self._git("rev-list", "--objects", "--no-walk", "--missing=print", commit,
                            check=False) or ""
        missing = {line[1:] for line in listing.splitlines() if line.startswith("?")}
        entries = (self._git("ls-tree", "-r", commit, "--", folder, check=False) or "").splitlines()
        wanted = [f[2] for f in (e.split() for e in entries) if len(f) > 2 and f[2] in missing]
        if wanted:
            run_network(["git", "-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet",
                          "--no-tags", "--no-write-fetch-head", "--recurse-submodules=no",
                          "--filter=blob:none", "--stdin", "origin"],
                         cwd=self.root, input="\n".join(wanted) + "\n")

    def tree_entry(self, commit: str | None, path: str) -> str | None:
        """The id of what ``path`` names in ``commit``, read from trees (downloads no blob)."""
        if commit is None:
            return None
        fields = (self._git("ls-tree", "--full-tree", commit, "--", path, check=False) or "").split()
        return fields[2] if len(fields) > 2 else None
