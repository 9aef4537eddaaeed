"""Build the benchmark registry: P prompts with V versions each, plus ``deep`` with D versions.

The history is written with ``git fast-import`` (one commit per version, thousands of
commits per second) instead of through promptctl, so that a P=10000, V=10 registry takes
seconds to make. What the benchmark measures then goes through promptctl's public API and
CLI. The layout is the one promptctl reads:

* ``promptctl.yaml`` at the repository root (``version: 1``), in the first commit;
* ``prompts/<name>.yaml``, one commit per version, its message the version note;
* aliases as annotated tags ``prompts/<name>@production`` (version V-1) and
  ``prompts/<name>@staging`` (version V);
* with ``records`` (the default), each version's commit message ends with the version
  record ``register`` writes (``Promptctl-Version: NAME N BLOB TREE``), as in a registry
  grown by promptctl; without, every version looks like a hand edit made with plain git.

Versions are written round by round (version 1 of every prompt, then version 2 …) and the
commits of ``deep`` are spread evenly through that history, so no prompt's versions sit
together at the tip. Authors and dates are fixed: the same parameters give the same
commit ids on every machine.

Only the standard library is used, so the MLflow side (another interpreter) can import
the workload definition (:func:`prompt_fields`) from here too.

Usage: ``python benchmarks/generate.py DEST [--prompts P] [--versions V] [--deep D]
[--no-records]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

BRANCH = "main"
DEEP = "deep"
AUTHOR = "Bench Generator <bench@example.com>"
BASE_TIME = 1_700_000_000
CONFIG_TEXT = "version: 1\n"
MODEL_CONFIG: dict[str, Any] = {"model_name": "gpt-4o-mini", "temperature": 0.2, "max_tokens": 400}
VARIABLES = {"role": "support engineer", "question": "How do I reset my password?",
             "language": "English"}
"""The values every benchmark passes to ``format`` (and ``--var`` on the command line)."""


@dataclass(frozen=True)
class Spec:
    """The size of a benchmark registry."""

    prompts: int
    versions: int
    deep: int

    def __post_init__(self) -> None:
        if self.prompts < 2 or self.versions < 2 or self.deep < 2:
            raise ValueError("prompts, versions and deep must each be at least 2")

    @property
    def names(self) -> list[str]:
        """The regular prompts, ``p0000`` …"""
        return [prompt_name(i) for i in range(self.prompts)]

    @property
    def commits(self) -> int:
        """How many commits the history holds (the config commit included)."""
        return 1 + self.prompts * self.versions + self.deep

    def team_count(self, team: str) -> int:
        """How many prompts (``deep`` included) carry ``tags.team = team``."""
        return sum(1 for i in range(self.prompts) if team_of(i) == team) + (team == team_of(0))


def prompt_name(index: int) -> str:
    """The name of regular prompt number ``index``."""
    return f"p{index:04d}"


def team_of(index: int) -> str:
    """The ``team`` tag of prompt ``index`` (``deep`` counts as index 0)."""
    return f"team{index % 10}"


def task_of(index: int) -> str:
    """The ``task`` tag of prompt ``index``."""
    return f"task{index % 20:02d}"


def template_text(name: str, revision: object) -> str:
    """A ~400-character template with the variables role, question and language.

    ``revision`` makes every version's text differ (any printable value will do).
    """
    return (
        f"You are a {{{{role}}}} helping the users of the {name} service. Answer the "
        "question below in {{language}}. Be accurate, brief and kind; when you are not sure, "
        "say so plainly and suggest where the answer might be found. Prefer short paragraphs, "
        "and numbered steps for procedures. Never invent facts, links or numbers, and keep "
        "private data out of the answer.\n"
        "Question: {{question}}\n"
        f"(revision {revision} of {name})\n"
    )


def prompt_fields(name: str, revision: object) -> dict[str, Any]:
    """Every field of one version: description, model_config, tags and template."""
    index = 0 if name == DEEP else int(name[1:])
    return {
        "description": f"Benchmark prompt {name}",
        "model_config": dict(MODEL_CONFIG),
        "tags": {"team": team_of(index), "task": task_of(index)},
        "template": template_text(name, revision),
    }


def prompt_yaml(name: str, revision: object) -> str:
    """The prompt file of one version, as promptctl stores it (block-style YAML)."""
    fields = prompt_fields(name, revision)
    lines = [f"description: {fields['description']}", "model_config:"]
    lines += [f"  {key}: {value}" for key, value in fields["model_config"].items()]
    lines.append("tags:")
    lines += [f"  {key}: {value}" for key, value in fields["tags"].items()]
    lines.append("template: |")
    lines += [f"  {line}" for line in fields["template"].splitlines()]
    return "\n".join(lines) + "\n"


def version_order(spec: Spec) -> Iterator[tuple[str, int]]:
    """Every (prompt, version) in commit order, ``deep``'s versions spread evenly."""
    regular = spec.prompts * spec.versions
    deep_done = 0
    for i in range(regular):
        version, index = divmod(i, spec.prompts)
        yield prompt_name(index), version + 1
        while deep_done < (i + 1) * spec.deep // regular:
            deep_done += 1
            yield DEEP, deep_done


def blob_id(content: bytes) -> str:
    """The object id git gives a blob of ``content``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class _Trees:
    """The root tree id of each commit, worked out the way git does, so a version record
    can name its commit's tree before fast-import has written it.

    The layout is fixed: ``promptctl.yaml`` and the flat folder ``prompts/``. A tree is
    its entries (``mode name\0`` and the binary id) sorted by name, with a folder sorted
    as if its name ended in ``/``.
    """

    def __init__(self) -> None:
        self._config = b""
        self._prompts: dict[bytes, bytes] = {}  # file name -> its entry
        self._order: list[bytes] = []

    @staticmethod
    def _id(entries: list[bytes]) -> bytes:
        body = b"".join(entries)
        return hashlib.sha1(b"tree %d\0" % len(body) + body).digest()

    def put(self, path: str, content: bytes) -> str:
        """Store ``content`` at ``path`` and return the new root tree id."""
        entry_name = path.rpartition("/")[2].encode()
        entry = b"100644 " + entry_name + b"\0" + bytes.fromhex(blob_id(content))
        if path.startswith("prompts/"):
            if entry_name not in self._prompts:
                self._order.append(entry_name)
                self._order.sort()
            self._prompts[entry_name] = entry
        else:
            self._config = entry
        root = [self._config] if self._config else []
        if self._prompts:  # "promptctl.yaml" sorts before "prompts/"
            folder = self._id([self._prompts[n] for n in self._order])
            root.append(b"40000 prompts\0" + folder)
        return self._id(root).hex()


def _data(out: IO[bytes], payload: bytes) -> None:
    out.write(b"data %d\n" % len(payload))
    out.write(payload)
    out.write(b"\n")


def _write_stream(spec: Spec, out: IO[bytes],
                  progress: Callable[[int], None] | None = None, *, records: bool = True) -> str:
    """Write the fast-import stream: the config commit, every version, then the alias tags.
    Returns the tip's root tree id as worked out for the records ("" without them).

    ``progress`` is called with the number of commits written every 10,000 commits (the
    pipe to fast-import keeps this in step with what it has stored).
    """
    ident = AUTHOR.encode()
    tick = 0
    trees = _Trees()
    tip_tree = ""

    def commit(mark: int, message: str, path: str, content: str,
               version: tuple[str, int] | None = None) -> None:
        nonlocal tick, tip_tree
        if records:
            tip_tree = trees.put(path, content.encode())
            if version is not None:
                message = (f"{message}\n\nPromptctl-Version: {version[0]} {version[1]} "
                           f"{blob_id(content.encode())} {tip_tree}")
        stamp = b"%s %d +0000\n" % (ident, BASE_TIME + tick)
        tick += 1
        out.write(b"commit refs/heads/%s\nmark :%d\n" % (BRANCH.encode(), mark))
        out.write(b"author " + stamp + b"committer " + stamp)
        _data(out, f"{message}\n".encode())
        out.write(b"M 100644 inline %s\n" % path.encode())
        _data(out, content.encode())

    commit(1, "Initialize promptctl registry", "promptctl.yaml", CONFIG_TEXT)
    marks: dict[tuple[str, int], int] = {}
    wanted = {spec.versions - 1, spec.versions}
    deep_wanted = {spec.deep - 1, spec.deep}
    for mark, (name, version) in enumerate(version_order(spec), start=2):
        note = f"{name}: version {version}" if version > 1 else f"Create {name}"
        commit(mark, note, f"prompts/{name}.yaml", prompt_yaml(name, version), (name, version))
        if version in (deep_wanted if name == DEEP else wanted):
            marks[(name, version)] = mark
        if progress is not None and mark % 10_000 == 0:
            progress(mark)
    for name in [*spec.names, DEEP]:
        newest = spec.deep if name == DEEP else spec.versions
        for alias, version in (("production", newest - 1), ("staging", newest)):
            message = f"Point {alias} at version {version}\n".encode()
            out.write(b"tag prompts/%s@%s\nfrom :%d\n" % (name.encode(), alias.encode(),
                                                          marks[(name, version)]))
            out.write(b"tagger %s %d +0000\n" % (ident, BASE_TIME + tick))
            _data(out, message)
    out.write(b"done\n")
    return tip_tree


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, stdout=subprocess.DEVNULL)


def generate(dest: Path, spec: Spec, progress: Callable[[int], None] | None = None, *,
             records: bool = True) -> Path:
    """Create the registry in ``dest`` (a new or empty folder) and return its path;
    ``records`` says whether version commits carry version records.

    Each commit stores a new ``prompts/`` tree of P entries, so the cost grows with P×V:
    about a second for P=1000, V=5 and several minutes for P=10000, V=10 on a 2-core
    machine (fast-import deltas every ~400 KB tree against the previous one).
    """
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE")}
    subprocess.run(["git", "init", "--quiet", f"--initial-branch={BRANCH}", str(dest)],
                   check=True, env=env)
    _git(dest, "config", "user.name", "Bench User")
    _git(dest, "config", "user.email", "bench@example.com")
    proc = subprocess.Popen(["git", "-C", str(dest), "fast-import", "--quiet", "--done"],
                            stdin=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    try:
        with proc.stdin:
            tip_tree = _write_stream(spec, proc.stdin, progress, records=records)
    finally:
        if proc.wait() != 0:
            raise RuntimeError(f"git fast-import failed with exit code {proc.returncode}")
    written = subprocess.run(["git", "-C", str(dest), "rev-parse", f"{BRANCH}^{{tree}}"],
                             check=True, capture_output=True, text=True).stdout.strip()
    if records and written != tip_tree:  # every record would be refused as a copy
        raise RuntimeError(f"the records name tree {tip_tree}, git wrote {written}")
    _git(dest, "pack-refs", "--all")
    _git(dest, "reset", "--quiet", "--hard", BRANCH)  # the work tree and index match the tip
    return dest


def main(argv: list[str] | None = None) -> int:
    """Command line: generate a registry and say how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="new or empty folder for the repository")
    parser.add_argument("--prompts", "-P", type=int, default=1000)
    parser.add_argument("--versions", "-V", type=int, default=5)
    parser.add_argument("--deep", "-D", type=int, default=1000)
    parser.add_argument("--no-records", action="store_true",
                        help="no version records: every version looks like a hand edit")
    args = parser.parse_args(argv)
    spec = Spec(args.prompts, args.versions, args.deep)
    start = time.perf_counter()
    generate(args.dest, spec, lambda done: print(f"{done}/{spec.commits} commits",
                                                 file=sys.stderr, flush=True),
             records=not args.no_records)
    print(f"{args.dest}: {spec.commits} commits, {2 * (spec.prompts + 1)} aliases "
          f"in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
