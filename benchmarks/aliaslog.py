"""Reading a long alias log: ``alias history``, ``alias list``, ``check`` and a promotion check.

Builds a throwaway registry with P prompts of three versions each and an alias log of N
records (written with ``git fast-import``: empty-tree commits whose messages are the
records ``alias set`` writes, the tags then set where the last record of each alias left
them), then times, in-process and as whole processes, what reads the whole log:

* ``Registry.alias_history(name)`` / ``promptctl alias history NAME``;
* ``Registry.list_aliases()`` / ``promptctl alias list`` (it looks for unrecorded moves);
* ``Registry.findings()`` / ``promptctl check``;
* ``Registry.set_alias`` of a protected alias whose ``promote_from`` is checked against
  the log (moved back and forth between two versions staging has held).

Each in-process figure is taken on a fresh ``Registry`` with nothing of the log kept in
the process (as a new process finds it) and, separately, on one kept open. Run by hand,
not in CI::

    python benchmarks/aliaslog.py            # N=5000, P=50
    python benchmarks/aliaslog.py -N 20000 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_ROOT / "benchmarks"))
sys.path.insert(0, str(_ROOT))

from measure import Stats, time_calls  # noqa: E402

from promptctl import Registry  # noqa: E402
from promptctl.formats.aliaslog import encode_move  # noqa: E402

_ALIASES = ("staging", "production")


def _git(repo: Path, *args: str, data: bytes | None = None) -> str:
    return subprocess.run(["git", *args], cwd=repo, input=data, capture_output=True,
                          check=True).stdout.decode()


def build(dest: Path, records: int, prompts: int) -> None:
    """A registry with ``prompts`` prompts (v1..v3) and ``records`` alias-log records."""
    with Registry.init(dest) as reg:
        for i in range(prompts):
            for v in range(1, 4):
                reg.register_prompt(f"p{i:03d}", f"prompt {i} version {v} {{{{x}}}}\n", f"v{v}")
        commits = {(f"p{i:03d}", row.version): row.commit
                   for i in range(prompts) for row in reg.history(f"p{i:03d}")}
    (dest / "promptctl.yaml").write_text(
        "version: 1\nprotected_aliases:\n  production:\n    promote_from: staging\n")
    _git(dest, "add", "promptctl.yaml")
    _git(dest, "commit", "-qm", "protect production")
    where: dict[tuple[str, str], int | None] = {}
    stream = bytearray()
    stamp = 1_700_000_000
    for n in range(records):
        name, alias = f"p{n % prompts:03d}", _ALIASES[(n // prompts) % 2]
        before = where.get((name, alias))
        # staging visits 1, 2, 3 in turn; production goes back and forth between 1 and 2
        after = 1 + (n // (2 * prompts)) % 3 if alias == "staging" else (before or 2) % 2 + 1
        where[(name, alias)] = after
        message = encode_move(name, alias, (commits.get((name, before)) if before else None,
                                            before), (commits[(name, after)], after),
                              None, False).encode()
        stream += (f"commit refs/promptctl/alias-log\nmark :{n + 1}\n"
                   f"author Bench <bench@example.com> {stamp + n} +0000\n"
                   f"committer Bench <bench@example.com> {stamp + n} +0000\n"
                   f"data {len(message)}\n").encode() + message + b"\n"
        stream += (f"from :{n}\n" if n else "").encode()
        stream += b"deleteall\n\n"  # the empty tree
    _git(dest, "fast-import", "--quiet", data=bytes(stream))
    for (name, alias), version in where.items():
        _git(dest, "tag", "-f", "-a", "-m", "bench", f"prompts/{name}@{alias}",
             commits[(name, version)])


def _cli(dest: Path, *args: str) -> float:
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}  # the promptctl beside this script
    result = subprocess.run([sys.executable, "-m", "promptctl", "-r", str(dest), *args],
                            capture_output=True, check=False, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0 or b"Traceback" in result.stderr:
        raise SystemExit(f"promptctl {' '.join(args)}: exit {result.returncode}: "
                         f"{result.stderr.decode()[-300:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-N", "--records", type=int, default=5000)
    parser.add_argument("-P", "--prompts", type=int, default=50)
    parser.add_argument("-r", "--repetitions", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="build here (reused when it exists)")
    parser.add_argument("--profile", action="store_true", help="cProfile alias history")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="promptctl-aliaslog-") as scratch:
        dest = args.keep or Path(scratch) / "r"
        if not (dest / ".git").exists():
            started = time.perf_counter()
            build(dest, args.records, args.prompts)
            print(f"built {dest}: {args.records} records, {args.prompts} prompts "
                  f"({time.perf_counter() - started:.1f} s)")
        reps = args.repetitions
        fresh = {
            "alias_history(name)": lambda reg: reg.alias_history("p007"),
            "list_aliases()": lambda reg: reg.list_aliases(),
            "findings()": lambda reg: reg.findings(),
        }
        rows: list[tuple[str, Stats]] = []
        with Registry(dest) as warm:
            warm.list_prompts()
            for label, call in fresh.items():
                rows.append((f"{label}, new Registry", time_calls(
                    lambda _i, call=call: _fresh(dest, call), reps)))
                rows.append((f"{label}, open Registry", time_calls(
                    lambda _i, call=call: call(warm), reps)))
            moves = iter(range(10**6))

            def promote(_i: int) -> None:
                # staging has held v1..v3 of p007: production may go to either
                warm.set_alias("p007", "production", 1 + next(moves) % 2, "bench")

            rows.append(("set_alias (promote_from checked), open Registry",
                         time_calls(promote, reps)))
        for label, argv in (("promptctl alias history p007", ("alias", "history", "p007")),
                            ("promptctl alias list", ("alias", "list")),
                            ("promptctl check", ("check",))):
            rows.append((label, Stats.of([_cli(dest, *argv) for _ in range(reps)])))
        print(f"\n| N={args.records} records | median | p95 |\n|---|---|---|")
        for label, stats in rows:
            print(f"| {label} | {stats.median * 1000:.1f} ms | {stats.p95 * 1000:.1f} ms |")
        if args.profile:
            with Registry(dest) as reg:
                profile = cProfile.Profile()
                profile.runcall(reg.alias_history, "p007")
                pstats.Stats(profile).sort_stats("cumulative").print_stats(18)


def _fresh(dest: Path, call: object) -> None:
    try:  # what this process kept of the log goes too: as a new process finds it
        from promptctl import alias_moves

        alias_moves._memo.clear()
    except ImportError:
        pass  # a promptctl that keeps nothing
    with Registry(dest) as reg:
        call(reg)  # type: ignore[operator]


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    main()
