"""Remotes: fetch, push, ask what a remote has, and fill in a partial clone's blobs.

Every command here talks to another repository and fails rather than wait for a
password; an unreachable remote is a :class:`RemoteUnreachable`. A push's refusals are
read from ``--porcelain`` output and sorted into the few kinds a caller acts on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import Conflict, RemoteUnreachable
from .runner import Runner, first_line


@dataclass(frozen=True)
class Refusal:
    """Why a remote refused one ref of a push.

    ``kind`` is ``lease`` (the ref moved since it was read), ``behind`` (the remote holds
    commits we lack), ``race`` (another push was updating the ref at the same moment),
    ``atomic`` (refused only because another ref of the same atomic push was), or
    ``rejected`` (anything else, such as a hook: ``detail`` says what).
    """

    ref: str
    kind: str
    detail: str


class Remotes:
    """The remotes of one repository."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def url(self, remote: str) -> str | None:
        """The URL of ``remote``, or ``None`` when there is no such remote."""
        out = self._runner.try_run("config", "--get", f"remote.{remote}.url")
        return out.strip() or None if out else None

    def fetch(self, remote: str, refspecs: Sequence[str] = (), *, prune: bool = False) -> None:
        """Fetch ``refspecs`` (default: the configured ones); :class:`RemoteUnreachable` if not."""
        result = self._runner.network("fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
                                      *(["--prune"] if prune else []), remote, *refspecs)
        if result.returncode:
            raise RemoteUnreachable(remote, first_line(result.stderr))

    def push(self, remote: str, refspecs: Sequence[str], *,
             leases: Sequence[tuple[str, str | None]] = ()) -> dict[str, Refusal]:
        """Push ``refspecs`` all or nothing (``--atomic``); return each refused ref's reason.

        A lease ``(ref, value)`` lets ``ref`` be overwritten only if the remote still has
        ``value`` there (``None``: no such ref). An empty result means everything landed;
        :class:`RemoteUnreachable` when the remote could not be asked at all.
        """
        result = self._runner.network(
            "push", "--porcelain", "--atomic",
            *[f"--force-with-lease={ref}:{value or ''}" for ref, value in leases],
            remote, *refspecs)
        refused = {}
        for line in result.stdout.splitlines():
            flag, _, rest = line.partition("\t")
            if flag == "!":
                spec, _, why = rest.partition("\t")
                ref = spec.rpartition(":")[2]
                refused[ref] = Refusal(ref, _refusal_kind(why), why)
        if result.returncode and not refused:
            if "failed to push some refs" in result.stderr and "fatal:" not in result.stderr:
                # Nothing was sent: a pre-push hook here said no, and printed why first.
                why = first_line(result.stderr).removeprefix("error: ")
                raise Conflict(f"the push to {remote} was declined before it was sent (a "
                               f"pre-push hook?): {why}")
            raise RemoteUnreachable(remote, first_line(result.stderr))
        return refused

    def ls_remote(self, remote: str, refname: str) -> str | None:
        """What ``refname`` points at on ``remote`` now (``None``: no such ref there)."""
        return self._ls_remote(remote, refname).get(refname)

    def ls_remote_commit(self, remote: str, refname: str) -> str | None:
        """The commit ``refname`` names on ``remote`` now, an annotated tag peeled (``None``:
        no such ref there). The remote peels it: its tag object need not be here."""
        peeled = f"{refname}^{{}}"
        found = self._ls_remote(remote, refname, peeled)
        return found.get(peeled, found.get(refname))

    def _ls_remote(self, remote: str, *patterns: str) -> dict[str, str]:
        """Refs of ``remote`` matching ``patterns``, by name (``NAME^{}``: a tag peeled)."""
        result = self._runner.network("ls-remote", remote, *patterns)
        if result.returncode:
            raise RemoteUnreachable(remote, first_line(result.stderr))
        found: dict[str, str] = {}
        for line in result.stdout.splitlines():
            oid, _, name = line.partition("\t")
            found[name] = oid
        return found

    def clone_bare(self, url: str, dest: Path) -> None:
        """Clone ``url`` bare into ``dest`` (absent): partial (``--filter=blob:none``, blobs
        come when read) where the server allows it, else in full."""
        detail = ""
        for extra in (["--filter=blob:none"], []):
            result = self._runner.network("clone", "--bare", "--quiet", *extra, "--", url,
                                          str(dest))
            if result.returncode == 0:
                return
            detail = first_line(result.stderr)
            import shutil

            shutil.rmtree(dest, ignore_errors=True)
            if "filter" not in result.stderr:
                break
        raise RemoteUnreachable(url, detail)

    def prefetch_blobs(self, commit: str, folder: str) -> None:
        """In a partial clone, download in one go the blobs under ``folder`` at ``commit``.

        Otherwise each would be fetched on its own when first read (a round trip per
        prompt). Best effort: what fails here is fetched when read.
        """
        promisor = self._runner.try_run("config", "--get", "remote.origin.promisor") or ""
        if promisor.strip() != "true":
            return
        listing = self._runner.try_run("rev-list", "--objects", "--no-walk", "--missing=print",
                                       commit) or ""
        missing = {line[1:] for line in listing.splitlines() if line.startswith("?")}
        entries = (self._runner.try_run("ls-tree", "-r", commit, "--", folder) or "").splitlines()
        wanted = [f[2] for f in (e.split() for e in entries) if len(f) > 2 and f[2] in missing]
        if wanted:
            self._runner.network("-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet",
                                 "--no-tags", "--no-write-fetch-head", "--recurse-submodules=no",
                                 "--filter=blob:none", "--stdin", "origin",
                                 input="\n".join(wanted) + "\n")

    def tree_entry(self, commit: str | None, path: str) -> str | None:
        """The id of what ``path`` names in ``commit``, read from trees (downloads no blob)."""
        if commit is None:
            return None
        out = self._runner.try_run("ls-tree", "--full-tree", commit, "--", path) or ""
        fields = out.split()
        return fields[2] if len(fields) > 2 else None


def _refusal_kind(why: str) -> str:
    if "stale info" in why:
        return "lease"
    if "non-fast-forward" in why or "fetch first" in why:
        return "behind"
    if any(words in why for words in ("cannot lock", "failed to lock", "failed to update",
                                      "incorrect old value", "unable to update")):
        return "race"
    if "atomic" in why:
        return "atomic"
    return "rejected"
