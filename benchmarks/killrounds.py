"""Kill -9 rounds: writes killed at random moments, then what the next command finds.

For each kind of write (``alias set``, ``register``, ``tag set``) this runs ROUNDS
``promptctl`` processes on a throwaway registry, each in its own process group, and
SIGKILLs the group (promptctl and the git processes it started) at a random moment of
its run, drawn with a fixed seed. After every kill it checks:

* ``git fsck --strict`` is clean;
* the next commands recover: a read (``list``) and the same write again exit 0, with no
  traceback and no hang; a lock file the kill left (a stale ``….lock``) is reported
  with exit 4 naming that lock file (the time it took is kept), then removed as the
  message says, and the write run again;
* afterwards ``check`` exits 0 (no half-done register, no alias moved without its
  record), ``git status`` is clean, the versions are numbered 1..n without a gap, and
  the alias log is one unbroken chain: each record starts where the one before it
  ended and the last ends where the tag is (a move lost or recorded twice breaks it).

Not part of CI (a round takes about a second); run it by hand::

    python benchmarks/killrounds.py 100 --seed 1
    python benchmarks/killrounds.py 100 --seed 2 --aim   # kills aimed at the landing

It prints a summary per kind and exits 1 when any check failed.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("alias", "register", "tag")
TIMEOUT = 60.0  # a command slower than this counts as a hang
_LOCK = re.compile(r"(/\S+?\.lock)\b")


@dataclass
class Tally:
    """What the rounds of one kind found."""

    kind: str
    rounds: int = 0
    killed: int = 0  # still running when the kill came
    half_states: int = 0  # a journal or an unrecorded move was left for the next command
    recovered_notes: int = 0  # the next write said it put something back or recorded it
    stale_locks: list[tuple[str, float]] = field(default_factory=list)
    tracebacks: int = 0
    hangs: int = 0
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One summary line."""
        locks = (f"{len(self.stale_locks)} (slowest report "
                 f"{max(t for _, t in self.stale_locks):.1f} s; "
                 f"{', '.join(sorted({Path(n).name for n, _ in self.stale_locks}))})"
                 if self.stale_locks else "0")
        return (f"{self.kind:8} rounds {self.rounds}, killed mid-run {self.killed}, half states "
                f"{self.half_states}, put back/recorded by the next write "
                f"{self.recovered_notes}, stale locks {locks}, tracebacks {self.tracebacks}, "
                f"hangs {self.hangs}, failed checks {len(self.failures)}")


class Registry:
    """A throwaway registry and the promptctl / git commands run on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {**os.environ, "NO_COLOR": "1", "GIT_AUTHOR_NAME": "Killer",
                    "GIT_AUTHOR_EMAIL": "k@example.com", "GIT_COMMITTER_NAME": "Killer",
                    "GIT_COMMITTER_EMAIL": "k@example.com"}

    def argv(self, *args: str) -> list[str]:
        """The command line of ``promptctl ARGS`` on this registry."""
        return [sys.executable, "-m", "promptctl", "--registry", str(self.root), *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``promptctl ARGS`` to its end (a hang raises ``TimeoutExpired``)."""
        return subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env,
                              timeout=TIMEOUT, check=False)

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``git ARGS`` in the registry."""
        return subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True,
                              env=self.env, check=False)

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start ``promptctl ARGS`` in a process group of its own."""
        return subprocess.Popen(self.argv(*args), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=self.env,
                                start_new_session=True)

    def json(self, *args: str) -> object:
        """``promptctl --json ARGS``, parsed."""
        result = self.run("--json", *args)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {result.stderr.strip()}")
        return json.loads(result.stdout)


def make_registry(folder: Path) -> Registry:
    """A registry with greet v1..v3, production on v1, and a user's own staged work."""
    reg = Registry(folder / "registry")
    subprocess.run([sys.executable, "-m", "promptctl", "init", str(reg.root)], env=reg.env,
                   capture_output=True, check=True)
    for i in (1, 2, 3):
        assert reg.run("register", "greet", "-t", f"Hello {i} {{{{ name }}}}\n").returncode == 0
    assert reg.run("alias", "set", "greet", "production", "1").returncode == 0
    (reg.root / "notes.txt").write_text("the user's own staged work\n")
    reg.git("add", "notes.txt")
    return reg


def write_args(kind: str, i: int) -> tuple[str, ...]:
    """The write of round ``i``."""
    if kind == "alias":
        return ("alias", "set", "greet", "production", str(1 + (i + 1) % 3), "-m", f"round {i}")
    if kind == "register":
        return ("register", "greet", "-t", f"Hello from round {i} {{{{ name }}}}\n")
    return ("tag", "set", "greet", f"round{i % 7}=value {i}")


def median_seconds(reg: Registry, kind: str) -> float:
    """How long one write of ``kind`` takes, unkilled (the kills are drawn within it)."""
    times = []
    for i in range(5):
        start = time.perf_counter()
        result = reg.run(*write_args(kind, 1000 + i))
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise RuntimeError(f"{kind}: {result.stderr.strip()}")
    return statistics.median(times)


def next_write(reg: Registry, args: tuple[str, ...], tally: Tally) -> str:
    """Run the write again until it succeeds, removing a stale lock it names; its stderr."""
    for _ in range(4):
        start = time.perf_counter()
        try:
            result = reg.run(*args)
        except subprocess.TimeoutExpired:
            tally.hangs += 1
            raise
        seconds = time.perf_counter() - start
        if "Traceback" in result.stderr:
            tally.tracebacks += 1
        if result.returncode == 0:
            return result.stderr
        found = _LOCK.search(result.stderr)
        if result.returncode == 4 and found and os.path.exists(found.group(1)):
            tally.stale_locks.append((found.group(1), seconds))
            os.unlink(found.group(1))  # what the message tells the user to do
            continue
        raise RuntimeError(f"next {' '.join(args[:2])}: exit {result.returncode}: "
                           f"{result.stderr.strip()}")
    raise RuntimeError("stale locks kept coming back")


def check_state(reg: Registry) -> list[str]:
    """Every invariant that must hold once the next write recovered; what broke."""
    broken = []
    fsck = reg.git("fsck", "--strict", "--no-dangling")
    if fsck.returncode != 0 or fsck.stdout.strip():
        broken.append(f"fsck: {fsck.stdout.strip() or fsck.stderr.strip()}")
    check = reg.run("check")
    if check.returncode != 0:
        broken.append(f"check: {check.stdout.strip()} {check.stderr.strip()}")
    status = reg.git("status", "--porcelain")
    if status.stdout != "A  notes.txt\n":
        broken.append(f"status: {status.stdout!r}")
    versions = reg.json("history", "greet")
    assert isinstance(versions, list)
    numbers = [v["version"] for v in versions]
    if numbers != list(range(1, len(numbers) + 1)):
        broken.append(f"versions not gap-free: {numbers}")
    moves = reg.json("alias", "history", "greet", "production")
    assert isinstance(moves, list)
    for before, after in itertools.pairwise(moves):
        if after["from_commit"] != before["to_commit"]:
            broken.append(f"alias log broken between {before['record'][:10]} and "
                          f"{after['record'][:10]}")
    tag = reg.git("rev-parse", "--verify", "-q", "refs/tags/prompts/greet@production^{commit}")
    if moves and moves[-1]["to_commit"] != (tag.stdout.strip() or None):
        broken.append("the last alias-log record is not where the tag is")
    return broken


def run_kind(kind: str, rounds: int, rng: random.Random, folder: Path, aim: bool) -> Tally:
    """ROUNDS killed writes of ``kind`` on a fresh registry, each checked; ``aim``: each
    kill a few ms after the write's journal appears, instead of at a random moment."""
    reg = make_registry(folder / kind)
    tally = Tally(kind)
    median = median_seconds(reg, kind)
    journals = [reg.root / ".git" / "promptctl" / name
                for name in ("landing.json", "alias-move.json")]
    for i in range(rounds):
        args = write_args(kind, i)
        proc = reg.start(*args)
        if aim:
            # Wait for the write's journal to appear, then kill within a few ms: inside
            # the landing, or the tag-and-record transaction.
            while proc.poll() is None and not any(p.exists() for p in journals):
                time.sleep(0.00005)
            time.sleep(rng.uniform(0, 0.004))
        else:
            time.sleep(rng.uniform(0.4, 1.1) * median)
        if proc.poll() is None:
            tally.killed += 1
        with contextlib.suppress(ProcessLookupError):  # the group may have ended already
            os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        if "Traceback" in stderr:
            tally.tracebacks += 1
        tally.rounds += 1
        half = any(p.exists() for p in journals)
        try:
            listed = reg.run("list")
            if "Traceback" in listed.stderr or listed.returncode != 0:
                tally.tracebacks += "Traceback" in listed.stderr
                tally.failures.append(f"round {i}: list exit {listed.returncode}: "
                                      f"{listed.stderr.strip()}")
            half = half or "interrupted" in listed.stderr
            stderr = next_write(reg, args, tally)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            tally.failures.append(f"round {i}: {exc}")
            continue
        tally.half_states += half
        tally.recovered_notes += ("put back" in stderr or "recorded the alias move" in stderr)
        tally.failures += [f"round {i}: {problem}" for problem in check_state(reg)]
    return tally


def main(argv: list[str] | None = None) -> int:
    """Command line: ``killrounds.py [ROUNDS] [--seed N] [--kinds alias,register,tag]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rounds", type=int, nargs="?", default=100, help="rounds per kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--aim", action="store_true",
                        help="kill a few ms after the write's journal appears (the landing "
                             "or the tag-and-record transaction), not at a random moment")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="comma-separated, of: " + ", ".join(KINDS))
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    tallies = []
    with tempfile.TemporaryDirectory(prefix="killrounds-") as folder:
        for kind in args.kinds.split(","):
            start = time.perf_counter()
            tally = run_kind(kind, args.rounds, rng, Path(folder), args.aim)
            tallies.append(tally)
            print(f"{tally.line()} ({time.perf_counter() - start:.0f} s)", flush=True)
            for failure in tally.failures[:10]:
                print(f"  {failure}", flush=True)
    bad = any(t.failures or t.tracebacks or t.hangs for t in tallies)
    print("FAILED" if bad else "all checks held")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
