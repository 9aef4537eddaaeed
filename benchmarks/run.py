"""Run the whole benchmark: promptctl beside MLflow's Prompt Registry, one command.

    python benchmarks/run.py [--prompts P --versions V --deep D] [--mlflow-python PATH]
                             [--quick] [--out FILE] [--json FILE]

Steps: generate a registry into a temporary folder (``generate.py``); time the first
index build, the cold ``promptctl load`` command next to ``python -c pass``, and the
peak memory of the largest commands; run the in-process workload (``bench_promptctl.py``)
in a child process; then, if an interpreter with MLflow is at hand, the same workload
on MLflow (``bench_mlflow.py``) and its cold start. Prints one table (figure, target,
promptctl, MLflow, ratio MLflow/promptctl) and writes it with the machine and the exact
command to ``--out`` as Markdown.

``--quick`` runs tiny sizes with few repetitions and no MLflow (well under 30 s) so CI
can run it; it checks that the harness works, and its figures mean little.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import generate
from measure import Stats, run_process, time_process

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
MB = 1_000_000


@dataclass(frozen=True)
class Settings:
    """Sizes and repetition counts for one run."""

    spec: generate.Spec
    mlflow_spec: generate.Spec
    reps: int = 200
    write_reps: int = 50
    fast_samples: int = 50
    batch: int = 1000
    cold_reps: int = 20
    build_reps: int = 3

    def child_args(self) -> list[str]:
        """The repetition options both workload children take."""
        return ["--reps", str(self.reps), "--write-reps", str(self.write_reps),
                "--fast-samples", str(self.fast_samples), "--batch", str(self.batch)]


@dataclass
class Side:
    """What one side measured: timings (seconds), peak memory (bytes) and notes."""

    times: dict[str, Stats] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failures: int = 0

    def time_command(self, key: str, command: list[str], repetitions: int,
                     env: dict[str, str], *, warmup: int = 2, timed: bool = True) -> None:
        """Time a whole command into ``key``; a failure becomes a note, not an abort."""
        try:
            stats, peak = time_process(command, repetitions, env=env, warmup=warmup)
        except RuntimeError as exc:
            last = str(exc).strip().splitlines()[-1]
            self.notes.append(f"FAILED: the `{key}` command ({shlex.join(command)}), so its "
                              f"figures are n/a: {last}")
            self.failures += 1
            return
        if timed:
            self.times[key] = stats
        self.memory[key] = peak


# -- environment -------------------------------------------------------------------------

def child_env(workdir: Path, *, with_repo: bool) -> dict[str, str]:
    """The environment of every child: our own HOME and Git identity, no stray GIT_*.

    A HOME of our own keeps the developer's ``~/.gitconfig`` (hooks, fsmonitor, aliases)
    and MLflow's user files out of the figures.
    """
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Bench User\n\temail = bench@example.com\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "PROMPTCTL_REGISTRY")}
    env["HOME"] = str(home)
    if with_repo:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                          env.get("PYTHONPATH")]))
    return env


def promptctl_command() -> list[str]:
    """The ``promptctl`` console script of this interpreter, else ``python -m promptctl``."""
    script = Path(sys.executable).with_name("promptctl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "promptctl"]


def find_mlflow_python(requested: str | None) -> tuple[str | None, str]:
    """The interpreter to run MLflow with, and a note saying why (or why none)."""
    if requested:
        try:
            probe = subprocess.run([requested, "-c", "import mlflow"], capture_output=True,
                                   text=True, check=False)
        except OSError as exc:
            return None, f"FAILED: MLflow skipped, {requested} does not run: {exc}"
        if probe.returncode != 0:
            last = (probe.stderr.strip().splitlines() or ["?"])[-1]
            return None, f"FAILED: MLflow skipped, {requested} cannot import it: {last}"
        return requested, f"MLflow run with {requested}"
    if importlib.util.find_spec("mlflow") is not None:
        return sys.executable, "MLflow run with this interpreter"
    return None, ("MLflow skipped: not importable here and no --mlflow-python given "
                  "(python3 -m venv /tmp/vml && /tmp/vml/bin/pip install mlflow)")


def log(message: str) -> None:
    """Progress on stderr, so stdout holds only the table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class ChildFailed(RuntimeError):
    """A workload child exited with an error (its stderr has gone to ours)."""


def run_child(command: list[str], env: dict[str, str], json_out: Path) -> tuple[dict[str, Any], int]:
    """Run a workload child; return its JSON report and its peak RSS."""
    run = run_process(command, env=env, pass_stderr=True)
    if run.returncode != 0:
        raise ChildFailed(f"{shlex.join(command)} failed with exit code {run.returncode}")
    return json.loads(json_out.read_text()), run.max_rss_bytes


def stats_of(report: dict[str, Any]) -> dict[str, Stats]:
    """The figures of a child's report as :class:`Stats`."""
    return {key: Stats(**value) for key, value in report["figures"].items()}


# -- the promptctl side ------------------------------------------------------------------

def run_promptctl(settings: Settings, workdir: Path) -> Side:
    """Generate the registry and measure every promptctl figure."""
    side = Side()
    env = child_env(workdir, with_repo=True)
    check = subprocess.run([sys.executable, "-c", "import promptctl"], env=env,
                           capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise SystemExit(f"promptctl does not import:\n{check.stderr}")
    spec = settings.spec
    registry = workdir / "registry"
    log(f"generating P={spec.prompts} V={spec.versions} D={spec.deep} "
        f"({spec.commits} commits) with git fast-import")
    start = time.perf_counter()
    generate.generate(registry, spec, lambda done: log(f"{done}/{spec.commits} commits"))
    side.info["generate_seconds"] = time.perf_counter() - start

    bench = [sys.executable, str(HERE / "bench_promptctl.py")]
    report_file = workdir / "promptctl.json"
    builds = []
    for _ in range(settings.build_reps):
        # The index lives in <git dir>/promptctl/ (promptctl/index.py); removing it makes
        # the next call build it again from scratch.
        shutil.rmtree(registry / ".git" / "promptctl", ignore_errors=True)
        log("first index build")
        report, rss = run_child([*bench, "index-build", "--registry", str(registry),
                                 "--json-out", str(report_file)], env, report_file)
        builds.append(report["figures"]["index_build"]["median"])
        if not (registry / ".git" / "promptctl").is_dir():
            side.notes.append("No index found in .git/promptctl/ after a build: later "
                              "index-build repetitions may not have started from scratch.")
        side.memory["index_build"] = max(side.memory.get("index_build", 0), rss)
    side.times["index_build"] = Stats.of(builds)

    values = [f"--var={k}={v}" for k, v in generate.VARIABLES.items()]
    cold = [*promptctl_command(), "--registry", str(registry), "load", "p0001@production",
            *values]
    side.info["cold_command"] = shlex.join(cold)
    log(f"cold start x{settings.cold_reps}: {shlex.join(cold)}")
    side.time_command("cold", cold, settings.cold_reps, env)
    side.time_command("python_pass", [sys.executable, "-c", "pass"], settings.cold_reps, env)
    for key, args in (("cli_list", ["list"]), ("cli_search", ["search", bench_filter()]),
                      ("cli_history", ["history", generate.DEEP])):
        log(f"peak memory of promptctl {' '.join(args)}")
        side.time_command(key, [*promptctl_command(), "--registry", str(registry), *args], 1,
                          env, warmup=0, timed=False)

    log("in-process workload (a)-(h), index update")
    report, side.memory["workload"] = run_child(
        [*bench, "workload", "--registry", str(registry), "--json-out", str(report_file),
         "--prompts", str(spec.prompts), "--versions", str(spec.versions),
         "--deep", str(spec.deep), *settings.child_args()], env, report_file)
    side.times.update(stats_of(report))
    side.info.update(report["info"])
    return side


def bench_filter() -> str:
    """The search filter of figure (g)."""
    return "tags.team = 'team3'"


# -- the MLflow side ---------------------------------------------------------------------

def run_mlflow(settings: Settings, workdir: Path, python: str) -> Side:
    """Build the same workload in MLflow (SQLite) and measure it."""
    side = Side()
    env = child_env(workdir, with_repo=False)
    store = workdir / "mlflow"
    store.mkdir()
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{store / 'mlflow.db'}",
               MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    spec = settings.mlflow_spec
    report_file = workdir / "mlflow.json"
    log(f"MLflow: registering {spec.prompts * spec.versions + spec.deep} versions through "
        "its API, then the workload (minutes at the default size)")
    report, side.memory["workload"] = run_child(
        [python, str(HERE / "bench_mlflow.py"), "--json-out", str(report_file),
         "--prompts", str(spec.prompts), "--versions", str(spec.versions),
         "--deep", str(spec.deep), *settings.child_args()], env, report_file)
    side.times.update(stats_of(report))
    side.info.update(report["info"])
    args = ", ".join(f"{k}={json.dumps(v)}" for k, v in generate.VARIABLES.items())
    code = ('import mlflow; p = mlflow.genai.load_prompt("prompts:/p0001@production"); '
            f"print(p.format({args}))")
    cold = [python, "-c", code]
    side.info["cold_command"] = f"MLFLOW_TRACKING_URI=sqlite:///… {shlex.join(cold)}"
    log(f"MLflow cold start x{settings.cold_reps}")
    side.time_command("cold", cold, settings.cold_reps, env)
    side.time_command("python_pass", [python, "-c", "pass"], settings.cold_reps, env)
    return side


# -- the table ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One line of the table: a timed figure, or a peak-memory one (``memory=True``)."""

    key: str
    label: str
    target: Callable[[generate.Spec], float | None]
    target_text: str
    memory: bool = False


def _fixed(value: float | None) -> Callable[[generate.Spec], float | None]:
    return lambda spec: value


def _by_size(small: float, large: float) -> Callable[[generate.Spec], float | None]:
    return lambda spec: small if spec.prompts <= 1000 else large


ROWS = [
    Row("register", "(a) register a new version (V-version prompt)", _fixed(0.015), "≤ 15 ms"),
    Row("register_deep", "(a) register a new version of `deep`", _fixed(0.015), "≤ 15 ms"),
    Row("load_version", "(b) load by version, cache bypassed", _by_size(1e-3, 2e-3),
        "≤ 1 ms (P≤1000), ≤ 2 ms (P=10000)"),
    Row("load_alias", "(c) load by alias, cache bypassed", _by_size(1e-3, 2e-3),
        "≤ 1 ms (P≤1000), ≤ 2 ms (P=10000)"),
    Row("load_cached", "(d) cached load", _fixed(5e-6), "≤ 5 µs"),
    Row("format", "(e) format", _fixed(None), "—"),
    Row("set_alias", "(f) move an alias", _fixed(0.010), "≤ 10 ms"),
    Row("search", "(g) search `tags.team = 'team3'`, full list", _by_size(5e-3, 30e-3),
        "≤ 5 ms (P≤1000), ≤ 30 ms (P=10000)"),
    Row("history_deep", "(h) history of `deep`", _fixed(0.030), "≤ 30 ms (1000 versions)"),
    Row("cold", "(i) cold `load NAME@production --var …`", _fixed(0.150), "≤ 150 ms"),
    Row("python_pass", "(i) `python -c pass`, for scale", _fixed(None), "—"),
    Row("index_build", "(j) first index build", _fixed(15.0), "≤ 15 s (P=10000, V=10)"),
    Row("index_update", "(j) index update after one plain-git commit", _fixed(0.050),
        "≤ 50 ms"),
]
MEMORY_ROWS = [
    Row("index_build", "peak RSS: first index build", _fixed(150 * MB), "≤ 150 MB", True),
    Row("cold", "peak RSS: cold `load`", _fixed(150 * MB), "≤ 150 MB", True),
    Row("cli_list", "peak RSS: `promptctl list`", _fixed(150 * MB), "≤ 150 MB", True),
    Row("cli_search", "peak RSS: `promptctl search`", _fixed(150 * MB), "≤ 150 MB", True),
    Row("cli_history", "peak RSS: `promptctl history deep`", _fixed(150 * MB), "≤ 150 MB", True),
    Row("workload", "peak RSS: whole in-process workload (harness included)", _fixed(None),
        "—", True),
]


def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps three significant digits or so."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def cell(side: Side | None, row: Row) -> str:
    """One side's value for a row: median (p95), or peak MB; ``n/a`` when not measured."""
    if side is None:
        return "n/a"
    if row.memory:
        value = side.memory.get(row.key)
        return f"{value / MB:.0f} MB" if value is not None else "n/a"
    stats = side.times.get(row.key)
    return f"{fmt_time(stats.median)} (p95 {fmt_time(stats.p95)})" if stats else "n/a"


def value_of(side: Side | None, row: Row) -> float | None:
    """The number a row compares: the median, or the peak memory."""
    if side is None:
        return None
    if row.memory:
        memory = side.memory.get(row.key)
        return float(memory) if memory is not None else None
    stats = side.times.get(row.key)
    return stats.median if stats else None


def register_ratio_line(ours: Side, mlflow: Side | None) -> str:
    """The row comparing a registration on ``deep`` with one on a V-version prompt."""

    def ratio(side: Side | None) -> float | None:
        if side is None or "register" not in side.times or "register_deep" not in side.times:
            return None
        return side.times["register_deep"].median / side.times["register"].median

    mine, theirs = ratio(ours), ratio(mlflow)
    met = "—" if mine is None else ("yes" if mine <= 1.5 else "**no**")
    return (f"| (a) register: `deep` ÷ V-version prompt | ≤ 1.5× "
            f"| {'n/a' if mine is None else f'{mine:.2f}×'} "
            f"| {'n/a' if theirs is None else f'{theirs:.2f}×'} | — | {met} |")


def table(settings: Settings, ours: Side, mlflow: Side | None) -> list[str]:
    """The results as Markdown table lines."""
    header = ("| figure | target | promptctl median (p95) | MLflow median (p95) "
              "| MLflow / promptctl | target met |")
    lines = [header, "|---|---|---|---|---|---|"]
    for row in [*ROWS, *MEMORY_ROWS]:
        mine, theirs = value_of(ours, row), value_of(mlflow, row)
        ratio = f"{theirs / mine:.3g}×" if mine and theirs else "—"
        target = row.target(settings.spec)
        met = "—" if target is None or mine is None else ("yes" if mine <= target else "**no**")
        lines.append(f"| {row.label} | {row.target_text} | {cell(ours, row)} "
                     f"| {cell(mlflow, row)} | {ratio} | {met} |")
        if row.key == "register_deep":
            lines.append(register_ratio_line(ours, mlflow))
    return lines


# -- the report ----------------------------------------------------------------------------

def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine() -> list[str]:
    """What the figures were measured on."""
    cpu = platform.processor() or "?"
    memory = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    commit = _output(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _output(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "promptctl"])
    if dirty and dirty != "?":
        commit += " with uncommitted changes"
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {memory}",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        f"- Git: {_output(['git', '--version'])}",
        f"- promptctl source: commit {commit}",
    ]


def report(settings: Settings, ours: Side, mlflow: Side | None, notes: list[str],
           command: str) -> str:
    """The Markdown report written to ``--out``."""
    spec, mspec = settings.spec, settings.mlflow_spec
    lines = ["# promptctl benchmark", "", f"Run on {time.strftime('%Y-%m-%d %H:%M %Z')} with:",
             "", "```", command, "```", "", "## Machine", "", *machine()]
    if mlflow:
        lines.append(f"- MLflow: {mlflow.info.get('mlflow')} on Python "
                     f"{mlflow.info.get('python')}, local SQLite store")
    generated = ours.info.get("generate_seconds", 0)
    lines += ["", "## Workload", "",
              (f"- promptctl: P={spec.prompts}, V={spec.versions}, D={spec.deep} "
               f"({spec.commits} commits, generated in {generated:.1f} s with git fast-import)"),
              (f"- repetitions: {settings.reps} per read figure, {settings.write_reps} per "
               f"write, {settings.fast_samples} batches of {settings.batch} calls for cached "
               f"load and format, {settings.cold_reps} cold starts, {settings.build_reps} "
               "index build(s)"),
              f"- cold command: `{ours.info.get('cold_command')}`"]
    if mlflow:
        built = mlflow.info.get("build_seconds", 0)
        lines += [(f"- MLflow: P={mspec.prompts}, V={mspec.versions}, D={mspec.deep}, built "
                   f"through its API in {built:.0f} s"),
                  f"- MLflow cold command: `{mlflow.info.get('cold_command')}`"]
    lines += ["", "## Results", "", *table(settings, ours, mlflow), ""]
    if notes:
        lines += ["## Notes", "", *[f"- {note}" for note in notes], ""]
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_argument_group("sizes (default P=1000 V=5 D=1000; --quick: 20, 3, 30)")
    size.add_argument("--prompts", "-P", type=int)
    size.add_argument("--versions", "-V", type=int)
    size.add_argument("--deep", "-D", type=int)
    size.add_argument("--mlflow-prompts", type=int, help="default: min(P, 1000)")
    size.add_argument("--mlflow-versions", type=int, help="default: min(V, 5)")
    size.add_argument("--mlflow-deep", type=int, help="default: min(D, 1000)")
    parser.add_argument("--mlflow-python", help="an interpreter with MLflow installed")
    parser.add_argument("--no-mlflow", action="store_true", help="promptctl only")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, few repetitions, no MLflow (for CI)")
    parser.add_argument("--reps", type=int, help="samples per read figure (default 200)")
    parser.add_argument("--cold-reps", type=int, help="cold starts (default 20)")
    parser.add_argument("--build-reps", type=int,
                        help="first index builds (default 3; 1 past 20,000 commits)")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument("--workdir", type=Path, help="keep the registries here (must not exist)")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    """Sizes and repetitions from the command line."""
    quick = args.quick
    spec = generate.Spec(args.prompts or (20 if quick else 1000),
                         args.versions or (3 if quick else 5),
                         args.deep or (30 if quick else 1000))
    mlflow_spec = generate.Spec(args.mlflow_prompts or min(spec.prompts, 1000),
                                args.mlflow_versions or min(spec.versions, 5),
                                args.mlflow_deep or min(spec.deep, 1000))
    if quick:
        return Settings(spec, mlflow_spec, reps=args.reps or 20, write_reps=10,
                        fast_samples=10, batch=100, cold_reps=args.cold_reps or 3,
                        build_reps=1)
    return Settings(spec, mlflow_spec, reps=args.reps or 200, cold_reps=args.cold_reps or 20,
                    build_reps=args.build_reps or (3 if spec.commits <= 20_000 else 1))


METHOD_NOTES = [
    "Cached load and format are timed in batches (one sample = the mean of a batch).",
    ("Cold figures are whole processes, spawn to exit, after two untimed warm-up runs "
     "(so the OS file cache is warm); peak RSS is what wait4 reports for each command."),
    ("The index build is timed inside a fresh process (opening the registry plus the "
     "first load); the index update is the first load after a commit made with plain git."),
    "The MLflow side has no version index: its (j) rows are n/a.",
]


def plan_mlflow(args: argparse.Namespace, settings: Settings) -> tuple[str | None, list[str]]:
    """Whether and with which interpreter MLflow runs, and the notes that say so."""
    if args.quick or args.no_mlflow:
        return None, ["MLflow skipped (--quick or --no-mlflow)."]
    python, note = find_mlflow_python(args.mlflow_python)
    notes = [note + "."]
    if python and settings.mlflow_spec != settings.spec:
        notes.append(
            "MLflow ran at a smaller size than promptctl "
            f"(P={settings.mlflow_spec.prompts}, V={settings.mlflow_spec.versions}, "
            f"D={settings.mlflow_spec.deep}): building it through MLflow's API costs tens "
            "of ms a version; its per-call figures grow with size, so the ratios flatter "
            "MLflow.")
    return python, notes


def main(argv: list[str] | None = None) -> int:
    """Run everything, print the table, write the reports; 1 if anything failed."""
    args = parse_args(argv)
    settings = settings_from(args)
    command = shlex.join([sys.executable, *sys.argv] if argv is None
                         else ["python", "benchmarks/run.py", *argv])
    python, notes = plan_mlflow(args, settings)
    failures = int(python is None and bool(args.mlflow_python))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="promptctl-bench-"))
    workdir.mkdir(parents=True, exist_ok=args.workdir is None)
    mlflow = None
    try:
        try:
            ours = run_promptctl(settings, workdir)
        except ChildFailed as exc:
            raise SystemExit(str(exc)) from exc
        if python:
            try:
                mlflow = run_mlflow(settings, workdir, python)
            except ChildFailed as exc:  # MLflow is an optional extra: keep our figures
                notes.append(f"FAILED: the MLflow side, so its figures are n/a: {exc}")
                failures += 1
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    notes += ours.notes + (mlflow.notes if mlflow else [])
    failures += ours.failures + (mlflow.failures if mlflow else 0)

    print("\n".join(table(settings, ours, mlflow)))
    for note in notes:
        print(f"note: {note}")
    if args.out:
        args.out.write_text(report(settings, ours, mlflow, notes + METHOD_NOTES, command))
        log(f"report written to {args.out}")
    if args.json:
        raw = {name: {"times": {k: v.to_json() for k, v in side.times.items()},
                      "memory": side.memory, "info": side.info}
               for name, side in (("promptctl", ours), ("mlflow", mlflow)) if side}
        args.json.write_text(json.dumps(raw, indent=1))
    if failures:
        log(f"{failures} failure(s): see the notes above")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
