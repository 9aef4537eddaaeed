"""Timing helpers shared by both sides of the benchmark (standard library only).

Every figure is a list of samples in seconds, summarized as median and p95. Calls that
take microseconds are timed in batches (one sample = a batch's time / its size), so the
clock's own cost does not swamp them. Whole commands run as child processes, timed from
spawn to exit; their peak memory is read from ``wait4`` on untimed runs, through a
launcher that keeps the harness's own memory out of it.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Stats:
    """The summary of one figure: median and p95 of ``n`` samples, in seconds."""

    median: float
    p95: float
    n: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        """Summarize samples (nearest-rank p95)."""
        if not samples:
            raise ValueError("no samples")
        ordered = sorted(samples)
        rank = max(1, math.ceil(0.95 * len(ordered)))
        return cls(statistics.median(ordered), ordered[rank - 1], len(ordered))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def time_calls(call: Callable[[int], object], repetitions: int, *, warmup: int = 3,
               batch: int = 1) -> Stats:
    """Time ``call(i)`` for ``i`` in ``range(repetitions)`` (after ``warmup`` untimed calls).

    With ``batch > 1`` each sample is the mean of ``batch`` consecutive calls.
    """
    for i in range(warmup):
        call(-1 - i)
    samples = []
    clock = time.perf_counter
    for i in range(repetitions):
        if batch == 1:
            start = clock()
            call(i)
            samples.append(clock() - start)
        else:
            start = clock()
            for _ in range(batch):
                call(i)
            samples.append((clock() - start) / batch)
    return Stats.of(samples)


@dataclass(frozen=True)
class ProcessRun:
    """One finished child process: wall time, peak resident memory, exit code and output.

    ``max_rss_bytes`` is ``None`` unless the run was asked to measure it (``peak_memory``).
    """

    seconds: float
    max_rss_bytes: int | None
    returncode: int
    stdout: bytes
    stderr: bytes


# Linux counts the memory of the process that spawned a command in the command's own
# ru_maxrss (exec records the old address space's high-water mark, and a vfork/fork child
# starts with ours), so a command spawned from a harness that holds 200 MB reports at
# least 200 MB, `true` included. This launcher, a bare interpreter of a few MB, forks the
# command itself and writes the command's ru_maxrss to the file named by its first
# argument; its exit code is the command's.
_LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_process(command: Sequence[str], *, env: Mapping[str, str] | None = None,
                cwd: str | None = None, pass_stderr: bool = False,
                peak_memory: bool = False) -> ProcessRun:
    """Run ``command`` to completion and time it; with ``peak_memory``, its peak RSS too.

    The peak is read through :data:`_LAUNCHER` (so the harness's own size does not leak
    into it), which adds the launcher's start-up to the wall time: time such runs only
    where the time does not count (warm-up runs, children that time themselves).
    ``os.wait4`` gives the resource usage of exactly one child (``RUSAGE_CHILDREN`` would
    give the maximum over every child so far). Output is collected in temporary files so
    a chatty child cannot block on a full pipe; with ``pass_stderr`` the child's stderr
    goes straight to ours instead (progress of long runs).
    """
    argv = list(command)
    with tempfile.TemporaryDirectory() as folder:
        rss_file = os.path.join(folder, "maxrss")
        if peak_memory:
            argv = [sys.executable, "-I", "-S", "-c", _LAUNCHER, rss_file, *argv]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=None if pass_stderr else err,
                                    stdin=subprocess.DEVNULL,
                                    env=dict(env) if env is not None else None, cwd=cwd)
            _, status, _ = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits again
            out.seek(0)
            err.seek(0)
            peak = None
            if peak_memory and os.path.exists(rss_file):
                with open(rss_file) as found:
                    peak = int(found.read()) * 1024
            return ProcessRun(seconds, peak, proc.returncode, out.read(), err.read())


def time_process(command: Sequence[str] | Callable[[int], Sequence[str]], repetitions: int, *,
                 env: Mapping[str, str] | None = None, warmup: int = 2,
                 check: Callable[[ProcessRun], str | None] | None = None) -> tuple[Stats, int]:
    """Run a command ``warmup + repetitions`` times; return its timing and its peak RSS.

    The warm-up runs are untimed and measure the peak memory (see :func:`run_process`);
    the timed runs are spawned directly. ``warmup`` is therefore at least 1.
    ``command`` may be a function of the run's number (warm-up runs included, from 0), for
    commands that must differ from run to run (a write that would otherwise be a no-op).
    ``check`` reads each run's output and returns what is wrong with it, or ``None``.
    Raises ``RuntimeError`` with the child's stderr if any run fails, or with ``check``'s
    complaint if its answer is wrong.
    """
    warmup = max(1, warmup)
    samples = []
    peak = 0
    for i in range(warmup + repetitions):
        argv = command(i) if callable(command) else command
        run = run_process(argv, env=env, peak_memory=i < warmup)
        if run.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} exited with {run.returncode}:\n"
                f"{run.stderr.decode(errors='replace')[-2000:]}"
            )
        wrong = check(run) if check is not None else None
        if wrong:
            raise RuntimeError(f"{' '.join(argv)}: wrong result: {wrong}")
        peak = max(peak, run.max_rss_bytes or 0)
        if i >= warmup:
            samples.append(run.seconds)
    return Stats.of(samples), peak
