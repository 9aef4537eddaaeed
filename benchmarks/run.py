"""Run the whole benchmark: promptctl beside MLflow's Prompt Registry, one command.

    python benchmarks/run.py [--prompts P --versions V --deep D] [--grown-prompts P …]
                             [--mlflow-python PATH] [--quick] [--out FILE] [--json FILE]

promptctl is measured on two shapes of the same workload:

packed
    the registry ``generate.py`` writes with ``git fast-import``: objects in one pack,
    refs in ``packed-refs``. The most favourable shape, as after a ``git gc``.
grown (loose)
    the registry ``grow.py`` builds through promptctl's public API, one write per version
    and alias: loose objects, loose tags and an alias log, as users have it until a
    ``git gc``. It costs a write per version, so its size is an option of its own.

On each shape: the first index build, the cold ``promptctl load`` next to ``python -c
pass`` (the same reference again, answered from what the first load kept, and references
loaded for the first time), whole-process ``list`` and ``search`` (text and ``--json``),
the in-process workload (``bench_promptctl.py``) in a child process, then whole-process
``register`` and ``alias set``. If an interpreter with MLflow is at hand, the same workload runs on
MLflow (``bench_mlflow.py``) with its whole-process counterparts. Prints one table
(figure, goal, packed, grown, MLflow, ratios, goal met) and writes it with the machine
and the exact command to ``--out`` as Markdown.

``--quick`` runs tiny sizes with few repetitions and no MLflow (well under 30 s) so CI
can run it; it checks that the harness works on both shapes, and its figures mean little.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import generate
from measure import ProcessRun, Stats, run_process, time_process

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
MB = 1_000_000
TEAM_FILTER = "tags.team = 'team3'"
"""The search filter of figure (g) and of the ``search`` commands."""

SHAPES = {"packed": "packed", "grown": "grown (loose)"}
"""The promptctl registry shapes, by key, with their column titles."""


# Seconds to wait after building a registry and before measuring it. Growing one through
# promptctl makes ~8,000 writes in ~35 s (objects, refs, packs written and removed); for
# about 45 s after, this machine's writes run slower: alias moves on a just-grown registry
# took 3.1-3.3 ms in the benchmark's workload, and 1.8 ms after 45 s idle (and on a copy).
# Users' registries are not measured straight after such a burst; every side waits alike.
SETTLE_SECONDS = 60.0


def settle(settings: Settings, what: str) -> None:
    """Let the machine finish what building ``what`` left it doing (see SETTLE_SECONDS)."""
    if settings.settle > 0:
        log(f"{what}: letting the machine settle for {settings.settle:g} s")
        os.sync()
        time.sleep(settings.settle)


@dataclass(frozen=True)
class Settings:
    """Sizes and repetition counts for one run."""

    spec: generate.Spec
    grown_spec: generate.Spec
    mlflow_spec: generate.Spec
    reps: int = 200
    write_reps: int = 50
    fast_samples: int = 50
    batch: int = 1000
    cold_reps: int = 20
    cli_reps: int = 10
    build_reps: int = 3
    packed_cache: Path | None = None
    settle: float = SETTLE_SECONDS

    def child_args(self) -> list[str]:
        """The repetition options both workload children take."""
        return ["--reps", str(self.reps), "--write-reps", str(self.write_reps),
                "--fast-samples", str(self.fast_samples), "--batch", str(self.batch)]

    def spec_of(self, shape: str) -> generate.Spec:
        """The size of one promptctl shape."""
        return self.spec if shape == "packed" else self.grown_spec


Check = Callable[[ProcessRun], "str | None"]


@dataclass
class Side:
    """What one side measured: timings (seconds), peak memory (bytes) and notes."""

    spec: generate.Spec
    times: dict[str, Stats] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failures: int = 0

    def time_command(self, key: str, command: Sequence[str] | Callable[[int], Sequence[str]],
                     repetitions: int, env: dict[str, str], *, warmup: int = 2,
                     timed: bool = True, check: Check | None = None) -> bool:
        """Time a whole command into ``key``; a failure becomes a note, not an abort.

        Returns whether it ran (and answered right, when there is a ``check``).
        """
        try:
            stats, peak = time_process(command, repetitions, env=env, warmup=warmup,
                                       check=check)
        except RuntimeError as exc:
            shown = command(0) if callable(command) else command
            self.fail(key, f"the `{key}` command ({shlex.join(shown)[:300]})",
                      str(exc).strip().splitlines()[-1])
            return False
        if timed:
            self.times[key] = stats
        self.memory[key] = peak
        return True

    def fail(self, key: str, what: str, why: str) -> None:
        """Record that ``key`` could not be measured (its figures become n/a)."""
        self.times.pop(key, None)
        self.memory.pop(key, None)
        self.notes.append(f"FAILED: {what}, so its figures are n/a: {why}")
        self.failures += 1


# -- environment -------------------------------------------------------------------------

def child_env(workdir: Path, *, with_repo: bool) -> dict[str, str]:
    """The environment of every child: our own HOME and Git identity, no stray GIT_*.

    A HOME of our own keeps the developer's ``~/.gitconfig`` (hooks, fsmonitor, aliases)
    and MLflow's user files out of the figures.
    """
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    (home / ".gitconfig").write_text("[user]\n\tname = Bench User\n\temail = bench@example.com\n")
    # PYTHONDONTWRITEBYTECODE too: an installed package has its bytecode compiled at
    # install, so children importing the source tree must be able to keep theirs, or
    # every cold command would compile promptctl anew (~60 ms on this machine).
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "PROMPTCTL_REGISTRY",
                        "PYTHONDONTWRITEBYTECODE")}
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


def run_child(command: list[str], env: dict[str, str],
              json_out: Path) -> tuple[dict[str, Any], int]:
    """Run a workload child; return its JSON report and its peak RSS."""
    run = run_process(command, env=env, pass_stderr=True, peak_memory=True)
    if run.returncode != 0:
        raise ChildFailed(f"{shlex.join(command)} failed with exit code {run.returncode}")
    return json.loads(json_out.read_text()), run.max_rss_bytes or 0


def stats_of(report: dict[str, Any]) -> dict[str, Stats]:
    """The figures of a child's report as :class:`Stats`."""
    return {key: Stats(**value) for key, value in report["figures"].items()}


# -- building the two shapes ---------------------------------------------------------------

def build_packed(spec: generate.Spec, registry: Path, cache: Path | None = None) -> str:
    """Generate the packed registry with ``git fast-import``; say how it was made.

    With ``cache``, a registry generated earlier at the same size by the same
    ``generate.py`` is copied from there (its output is the same, commit ids included:
    fixed authors and dates), and one generated now is kept there.
    """
    source = HERE / "generate.py"
    key = hashlib.sha1(source.read_bytes()).hexdigest()[:12]
    kept = cache / f"P{spec.prompts}-V{spec.versions}-D{spec.deep}-{key}" if cache else None
    if kept is not None and kept.is_dir():
        log(f"packed: copying {kept}")
        shutil.copytree(kept, registry, symlinks=True)
        return (f"generated with git fast-import by this generate.py (sha1 {key}…) in an "
                f"earlier run and copied from {kept}; version records in every version's "
                "commit as register writes them")
    log(f"packed: generating P={spec.prompts} V={spec.versions} D={spec.deep} "
        f"({spec.commits} commits) with git fast-import")
    start = time.perf_counter()
    generate.generate(registry, spec, lambda done: log(f"{done}/{spec.commits} commits"))
    seconds = time.perf_counter() - start
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        scratch = kept.with_name(f"{kept.name}.tmp-{os.getpid()}")
        shutil.copytree(registry, scratch, symlinks=True)
        scratch.rename(kept)
    return (f"generated with git fast-import, version records in every version's commit as "
            f"register writes them, in {seconds:.1f} s")


def build_grown(spec: generate.Spec, registry: Path, env: dict[str, str]) -> str:
    """Grow the loose registry through promptctl's API (``grow.py``); say how it was made."""
    writes = spec.prompts * spec.versions + spec.deep + 2 * (spec.prompts + 1)
    log(f"grown: P={spec.prompts} V={spec.versions} D={spec.deep}, {writes} writes through "
        "promptctl's API (register_prompt, set_alias)")
    run = run_process([sys.executable, str(HERE / "grow.py"), str(registry),
                       "--prompts", str(spec.prompts), "--versions", str(spec.versions),
                       "--deep", str(spec.deep)], env=env, pass_stderr=True)
    if run.returncode != 0:
        raise ChildFailed(f"grow.py failed with exit code {run.returncode}")
    return (f"grown through promptctl's API in {run.seconds:.1f} s "
            f"({writes} writes, {run.seconds / writes * 1e3:.1f} ms each)")


def shape_of(registry: Path) -> dict[str, int]:
    """How the repository stores its objects and refs (what tells the two shapes apart)."""
    counts = {}
    for line in _output(["git", "-C", str(registry), "count-objects", "-v"]).splitlines():
        key, _, value = line.partition(":")
        counts[key.strip()] = int(value) if value.strip().isdigit() else 0
    git_dir = registry / ".git"
    loose_refs = sum(len(files) for _, _, files in os.walk(git_dir / "refs"))
    packed_refs = 0
    if (git_dir / "packed-refs").exists():
        packed_refs = sum(1 for line in (git_dir / "packed-refs").read_text().splitlines()
                          if line and line[0] not in "#^")
    return {"loose_objects": counts.get("count", 0), "packed_objects": counts.get("in-pack", 0),
            "packs": counts.get("packs", 0), "loose_refs": loose_refs,
            "packed_refs": packed_refs}


def describe_shape(shape: dict[str, int]) -> str:
    """The shape of a repository in words."""
    return (f"{shape['loose_objects']} loose objects, {shape['packed_objects']} in "
            f"{shape['packs']} pack(s); {shape['loose_refs']} loose refs, "
            f"{shape['packed_refs']} packed")


# -- the promptctl side ------------------------------------------------------------------

NAME_LINE = re.compile(r"\W*(?:p\d+|deep)\b")
"""A line of ``list``/``search`` text output that shows one prompt (a table row)."""


def listing(expected: int, *, as_json: bool) -> Check:
    """A check that ``list``/``search`` output shows exactly ``expected`` prompts."""

    def check(run: ProcessRun) -> str | None:
        text = run.stdout.decode(errors="replace")
        if as_json:
            try:
                found = len(json.loads(text))
            except ValueError as exc:
                return f"output is not JSON: {exc}"
        else:
            found = sum(1 for line in text.splitlines() if NAME_LINE.match(line))
        return None if found == expected else f"{found} prompts shown, not {expected}"

    return check


def cli_json(cli: list[str], env: dict[str, str], *args: str) -> Any:
    """Run ``promptctl --json ARGS`` (to check what a timed command did) and parse it."""
    run = run_process([*cli, "--json", *args], env=env)
    if run.returncode != 0:
        raise RuntimeError(f"promptctl --json {shlex.join(args)} exited with {run.returncode}: "
                           f"{run.stderr.decode(errors='replace').strip()[-300:]}")
    return json.loads(run.stdout)


def run_promptctl(settings: Settings, workdir: Path) -> dict[str, Side]:
    """Build both shapes and measure every promptctl figure on each."""
    env = child_env(workdir, with_repo=True)
    check = subprocess.run([sys.executable, "-c", "import promptctl"], env=env,
                           capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise SystemExit(f"promptctl does not import:\n{check.stderr}")
    # As pip does at install: the first cold command must not pay for compiling.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO_ROOT / "promptctl")],
                   env=env, capture_output=True, check=False)
    sides = {}
    for shape in SHAPES:
        spec = settings.spec_of(shape)
        registry = workdir / shape
        side = Side(spec)
        side.info["built"] = (build_packed(spec, registry, settings.packed_cache)
                              if shape == "packed"
                              else build_grown(spec, registry, env))
        side.info["shape"] = shape_of(registry)
        log(f"{shape}: {describe_shape(side.info['shape'])}")
        settle(settings, shape)
        measure_shape(side, shape, registry, settings, env, workdir)
        sides[shape] = side
    return sides


def measure_shape(side: Side, shape: str, registry: Path, settings: Settings,
                  env: dict[str, str], workdir: Path) -> None:
    """Every promptctl figure on one registry: reads first, then the writes."""
    spec = side.spec
    bench = [sys.executable, str(HERE / "bench_promptctl.py")]
    report_file = workdir / f"promptctl-{shape}.json"
    builds = []
    for _ in range(settings.build_reps):
        # The index lives in <git dir>/promptctl/ (promptctl/index.py); removing it makes
        # the next call build it again from scratch.
        shutil.rmtree(registry / ".git" / "promptctl", ignore_errors=True)
        log(f"{shape}: first index build")
        report, rss = run_child([*bench, "index-build", "--registry", str(registry),
                                 "--json-out", str(report_file)], env, report_file)
        builds.append(report["figures"]["index_build"]["median"])
        if not (registry / ".git" / "promptctl").is_dir():
            side.notes.append(f"{shape}: no index found in .git/promptctl/ after a build: "
                              "later index-build repetitions may not have started from scratch.")
        side.memory["index_build"] = max(side.memory.get("index_build", 0), rss)
    side.times["index_build"] = Stats.of(builds)

    cli = [*promptctl_command(), "--registry", str(registry)]
    values = [f"--var={k}={v}" for k, v in generate.VARIABLES.items()]
    cold = [*cli, "load", "p0001@production", *values]
    side.info["cold_command"] = shlex.join(cold)
    log(f"{shape}: cold start x{settings.cold_reps}: {shlex.join(cold)}")
    side.time_command("cold", cold, settings.cold_reps, env,
                      check=lambda run: None if generate.VARIABLES["question"].encode()
                      in run.stdout else "the formatted prompt is not on stdout")
    side.time_command("python_pass", [sys.executable, "-c", "pass"], settings.cold_reps, env)
    # The loads above after the first are answered from what it kept (promptctl.coldload).
    # A reference no load has asked for before goes the whole way: one prompt a run.
    runs = 2 + settings.cold_reps  # time_process's two warm-up runs included
    if spec.prompts >= runs:
        log(f"{shape}: first cold loads x{settings.cold_reps}, a prompt each")
        side.time_command(
            "cold_first",
            lambda i: [*cli, "load", f"{generate.prompt_name(spec.prompts - 1 - i)}@production",
                       *values], settings.cold_reps, env)
    else:
        side.notes.append(f"{shape}: fewer than {runs} prompts, so no first cold loads")

    everyone, team = spec.prompts + 1, spec.team_count("team3")
    for key, args, expected in (("cli_list", ["list"], everyone),
                                ("cli_search", ["search", TEAM_FILTER], team)):
        for suffix, json_flag in (("", []), ("_json", ["--json"])):
            log(f"{shape}: promptctl {' '.join(json_flag + args)} x{settings.cli_reps}")
            side.time_command(key + suffix, [*cli, *json_flag, *args], settings.cli_reps, env,
                              warmup=1, check=listing(expected, as_json=bool(json_flag)))
    log(f"{shape}: peak memory of promptctl history deep")
    side.time_command("cli_history", [*cli, "history", generate.DEEP], 1, env, warmup=1,
                      timed=False)

    log(f"{shape}: in-process workload (a)-(h), index update")
    report, side.memory["workload"] = run_child(
        [*bench, "workload", "--registry", str(registry), "--json-out", str(report_file),
         "--prompts", str(spec.prompts), "--versions", str(spec.versions),
         "--deep", str(spec.deep), *settings.child_args()], env, report_file)
    side.times.update(stats_of(report))
    side.info.update(report["info"])
    time_cli_writes(side, shape, cli, settings, env)


def time_cli_writes(side: Side, shape: str, cli: list[str], settings: Settings,
                    env: dict[str, str]) -> None:
    """Whole-process ``promptctl register`` and ``alias set``, each run a real change.

    ``register`` adds a new version of ``p0000`` every run (the same text twice would
    change nothing); ``alias set`` moves ``deep@production`` between versions D and D-1,
    which the in-process workload leaves alone. Afterwards the history and the alias log
    must show exactly one new version and one record per run.
    """
    runs = 1 + settings.cli_reps  # one warm-up run
    name, deep = generate.prompt_name(0), side.spec.deep

    def register(i: int) -> list[str]:
        return [*cli, "register", name, "-t", generate.template_text(name, f"cli {i}"),
                "-m", f"{name}: registered from the command line ({i})"]

    def alias_set(i: int) -> list[str]:
        return [*cli, "alias", "set", generate.DEEP, "production",
                str(deep if i % 2 == 0 else deep - 1)]

    for key, command, count_of in (
        ("cli_register", register, lambda: len(cli_json(cli, env, "history", name))),
        ("cli_alias_set", alias_set,
         lambda: len(cli_json(cli, env, "alias", "history", generate.DEEP, "production"))),
    ):
        log(f"{shape}: {key} x{settings.cli_reps}")
        try:
            before = count_of()
            if not side.time_command(key, command, settings.cli_reps, env, warmup=1):
                continue
            made = count_of() - before
        except (RuntimeError, ValueError) as exc:
            side.fail(key, f"checking `{key}`", str(exc))
            continue
        if made != runs:
            side.fail(key, f"`{key}`", f"{runs} runs left {made} new entries, not {runs}")


# -- the MLflow side ---------------------------------------------------------------------

def run_mlflow(settings: Settings, workdir: Path, python: str) -> Side:
    """Build the same workload in MLflow (SQLite) and measure it."""
    spec = settings.mlflow_spec
    side = Side(spec)
    env = child_env(workdir, with_repo=False)
    store = workdir / "mlflow"
    store.mkdir()
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{store / 'mlflow.db'}",
               MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    report_file = workdir / "mlflow.json"
    log(f"MLflow: registering {spec.prompts * spec.versions + spec.deep} versions through "
        "its API, then the workload (minutes at the default size)")
    report, side.memory["workload"] = run_child(
        [python, str(HERE / "bench_mlflow.py"), "--json-out", str(report_file),
         "--prompts", str(spec.prompts), "--versions", str(spec.versions),
         "--deep", str(spec.deep), "--settle", str(settings.settle),
         *settings.child_args()], env, report_file)
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
    time_mlflow_processes(side, python, settings, env)
    return side


def printed_number(expected: int) -> Check:
    """A check that a child printed ``expected`` (a count) as its last line."""

    def check(run: ProcessRun) -> str | None:
        last = (run.stdout.decode(errors="replace").strip().splitlines() or ["?"])[-1]
        return None if last == str(expected) else f"printed {last!r}, not {expected}"

    return check


def time_mlflow_processes(side: Side, python: str, settings: Settings,
                          env: dict[str, str]) -> None:
    """MLflow's whole-process counterparts of ``promptctl register/alias set/list/search``.

    MLflow has no command line for prompts: a CI step would run a Python one-liner, so
    that is what is timed (interpreter, ``import mlflow``, one call). Its search returns
    each prompt's name, description and tags, not the latest version and aliases that
    ``promptctl list`` shows, which flatters MLflow a little.
    """
    spec = side.spec
    name, deep = generate.prompt_name(0), spec.deep
    first: list[int] = []

    def register(i: int) -> list[str]:
        template = generate.template_text(name, f"cli {i}")
        return [python, "-c", ("import mlflow; v = mlflow.genai.register_prompt("
                f"name={name!r}, template={template!r}, commit_message='cli {i}'); "
                "print(v.version)")]

    def consecutive(run: ProcessRun) -> str | None:
        version = int(run.stdout.split()[-1])
        first.append(version)
        return None if version == first[0] + len(first) - 1 else f"version {version}"

    def alias_set(i: int) -> list[str]:
        target = deep if i % 2 == 0 else deep - 1
        return [python, "-c", ("import mlflow; mlflow.genai.set_prompt_alias("
                f"{generate.DEEP!r}, 'production', {target}); print({target})")]

    def search(filter_string: str | None) -> list[str]:
        return [python, "-c", ("import mlflow; print(len(mlflow.genai.search_prompts("
                f"filter_string={filter_string!r})))")]

    log(f"MLflow whole-process register, alias set, list, search x{settings.cli_reps}")
    side.time_command("cli_register", register, settings.cli_reps, env, warmup=1,
                      check=consecutive)
    side.time_command("cli_alias_set", alias_set, settings.cli_reps, env, warmup=1)
    last = deep if settings.cli_reps % 2 == 0 else deep - 1  # run cli_reps is the last one
    probe = run_process([python, "-c", ("import mlflow; print(mlflow.genai.load_prompt("
                         f"'prompts:/{generate.DEEP}@production').version)")], env=env)
    if "cli_alias_set" in side.times and printed_number(last)(probe):
        side.fail("cli_alias_set", "MLflow's `cli_alias_set`", "the alias did not move")
    side.time_command("cli_list", search(None), settings.cli_reps, env, warmup=1,
                      check=printed_number(spec.prompts + 1))
    side.time_command("cli_search", search(TEAM_FILTER), settings.cli_reps, env, warmup=1,
                      check=printed_number(spec.team_count("team3")))


# -- goals ---------------------------------------------------------------------------------

Judge = Callable[[float, "float | None", Side], "bool | None"]
"""Whether a figure meets its goal: (our median, MLflow's, our side) -> met, or None."""


def at_most(limit: float) -> Judge:
    """A goal of at most ``limit`` (seconds or bytes)."""
    return lambda mine, theirs, side: mine <= limit


def faster_than_mlflow(times: float, about: float | None = None) -> Judge:
    """A goal of ``times``× MLflow's figure in the same run (else ``about``, if given)."""

    def judge(mine: float, theirs: float | None, side: Side) -> bool | None:
        if theirs is not None:
            return theirs / mine >= times
        return None if about is None else mine <= about

    return judge


def within(key: str, factor: float) -> Judge:
    """A goal of at most ``factor`` times another figure of the same side (same run)."""

    def judge(mine: float, theirs: float | None, side: Side) -> bool | None:
        other = side.times.get(key)
        return None if other is None else mine <= factor * other.median

    return judge


def by_size(small: Judge | None, large: Judge | None) -> Callable[[generate.Spec], Judge | None]:
    """One goal below P=10,000, another from P=10,000 on (``None``: no goal at that size)."""
    return lambda spec: small if spec.prompts < 10_000 else large


def always(judge: Judge | None) -> Callable[[generate.Spec], Judge | None]:
    """The same goal at every size."""
    return lambda spec: judge


@dataclass(frozen=True)
class Row:
    """One line of the table: a timed figure, or a peak-memory one (``memory=True``).

    ``goal`` is issue 10's where it sets one, else issue 3's target (marked so);
    ``mlflow_key`` names MLflow's counterpart when it is another figure.
    """

    key: str
    label: str
    goal: Callable[[generate.Spec], Judge | None]
    goal_text: str
    memory: bool = False
    mlflow_key: str | None = None


REGISTER_GOAL = by_size(faster_than_mlflow(3, 0.005), at_most(0.012))
REGISTER_TEXT = "≥ 3× faster than MLflow (≈ ≤ 5 ms); P=10,000: ≤ 12 ms"
LIST_GOAL = by_size(None, at_most(0.5))
ROWS = [
    Row("register", "(a) register a new version (V-version prompt)", REGISTER_GOAL,
        REGISTER_TEXT),
    Row("register_deep", "(a) register a new version of `deep`", REGISTER_GOAL, REGISTER_TEXT),
    Row("load_version", "(b) load by version, cache bypassed", always(faster_than_mlflow(40)),
        "≥ 40× faster than MLflow"),
    Row("load_alias", "(c) load by alias, cache bypassed", always(faster_than_mlflow(40)),
        "≥ 40× faster than MLflow"),
    Row("load_cached", "(d) cached load", always(faster_than_mlflow(500)),
        "≥ 500× faster than MLflow"),
    Row("format", "(e) format", always(None), "—"),
    Row("set_alias", "(f) move an alias (alias-log record included)",
        always(faster_than_mlflow(4, 0.0017)), "≥ 4× faster than MLflow (≈ ≤ 1.7 ms)"),
    Row("search", "(g) search `tags.team = 'team3'`, full list", always(faster_than_mlflow(30)),
        "≥ 30× faster than MLflow"),
    Row("history_deep", "(h) history of `deep`", always(faster_than_mlflow(100)),
        "≥ 100× faster than MLflow"),
    Row("cold", "(i) cold `load NAME@production --var …`, again (the kept load answers)",
        always(within("python_pass", 4)),
        "≤ 4× `python -c pass` (non-editable install)"),
    Row("cold_first", "(i) cold `load`, a reference not loaded before (nothing kept)",
        always(within("python_pass", 4)), "≤ 4× `python -c pass`", mlflow_key="cold"),
    Row("python_pass", "(i) `python -c pass`, for scale", always(None), "—"),
    Row("cli_register", "(k) `promptctl register NAME -t …`, whole process",
        always(within("cold_first", 1.2)), "≤ 1.2× a first cold `load`"),
    Row("cli_alias_set", "(k) `promptctl alias set NAME production V`, whole process",
        always(within("cold_first", 1.2)), "≤ 1.2× a first cold `load`"),
    Row("cli_list", "(l) `promptctl list`, whole process", LIST_GOAL, "P=10,000: ≤ 0.5 s"),
    Row("cli_list_json", "(l) `promptctl --json list`, whole process", always(None), "—",
        mlflow_key="cli_list"),
    Row("cli_search", "(l) `promptctl search \"tags.team = 'team3'\"`, whole process", LIST_GOAL,
        "P=10,000: ≤ 0.5 s"),
    Row("cli_search_json", "(l) `promptctl --json search …`, whole process", always(None), "—",
        mlflow_key="cli_search"),
    Row("index_build", "(j) first index build (history with version records)",
        always(at_most(3.0)), "≤ 3 s at P=10,000, V=10"),
    Row("index_update", "(j) index update after one plain-git commit", always(at_most(0.050)),
        "≤ 50 ms (issue 3)"),
]
MEMORY_GOAL = always(at_most(150 * MB))
MEMORY_ROWS = [
    Row("index_build", "peak RSS: first index build", MEMORY_GOAL, "≤ 150 MB (issue 3)", True),
    Row("cold", "peak RSS: cold `load`", MEMORY_GOAL, "≤ 150 MB (issue 3)", True),
    Row("cli_list", "peak RSS: `promptctl list`", MEMORY_GOAL, "≤ 150 MB (issue 3)", True),
    Row("cli_search", "peak RSS: `promptctl search`", MEMORY_GOAL, "≤ 150 MB (issue 3)", True),
    Row("cli_history", "peak RSS: `promptctl history deep`", MEMORY_GOAL, "≤ 150 MB (issue 3)",
        True),
    Row("workload", "peak RSS: whole in-process workload (harness included)", always(None),
        "—", True),
]


# -- the table ---------------------------------------------------------------------------

def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps three significant digits or so."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def value_of(side: Side | None, row: Row, *, mlflow: bool = False) -> float | None:
    """The number a row compares: the median, or the peak memory."""
    if side is None:
        return None
    key = (row.mlflow_key or row.key) if mlflow else row.key
    if row.memory:
        memory = side.memory.get(key)
        return float(memory) if memory is not None else None
    stats = side.times.get(key)
    return stats.median if stats else None


def cell(side: Side | None, row: Row, *, mlflow: bool = False) -> str:
    """One side's value for a row: median (p95), or peak MB; ``n/a`` when not measured."""
    value = value_of(side, row, mlflow=mlflow)
    if side is None or value is None:
        return "n/a"
    if row.memory:
        return f"{value / MB:.0f} MB"
    stats = side.times[(row.mlflow_key or row.key) if mlflow else row.key]
    return f"{fmt_time(stats.median)} (p95 {fmt_time(stats.p95)})"


def ratio(numerator: float | None, denominator: float | None) -> str:
    """``a ÷ b`` as a short factor, or ``—``."""
    return f"{numerator / denominator:.3g}×" if numerator and denominator else "—"


def verdict(side: Side | None, row: Row, theirs: float | None) -> str:
    """met / missed / — for one side."""
    mine = value_of(side, row)
    if side is None or mine is None:
        return "—"
    judge = row.goal(side.spec)
    met = judge(mine, theirs, side) if judge else None
    return "—" if met is None else ("met" if met else "**missed**")


def deep_ratio(side: Side | None) -> float | None:
    """A registration on ``deep`` ÷ one on a V-version prompt (issue 3: ≤ 1.5×)."""
    if side is None or "register" not in side.times or "register_deep" not in side.times:
        return None
    return side.times["register_deep"].median / side.times["register"].median


def table(sides: dict[str, Side], mlflow: Side | None) -> list[str]:
    """The results as Markdown table lines."""
    packed, grown = sides.get("packed"), sides.get("grown")
    header = ("| figure | goal | packed median (p95) | grown (loose) median (p95) "
              "| MLflow median (p95) | grown ÷ packed | MLflow ÷ packed | MLflow ÷ grown "
              "| goal met (packed / grown) |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for row in [*ROWS, *MEMORY_ROWS]:
        theirs = value_of(mlflow, row, mlflow=True)
        mine, loose = value_of(packed, row), value_of(grown, row)
        lines.append(
            f"| {row.label} | {row.goal_text} | {cell(packed, row)} | {cell(grown, row)} "
            f"| {cell(mlflow, row, mlflow=True)} | {ratio(loose, mine)} | {ratio(theirs, mine)} "
            f"| {ratio(theirs, loose)} "
            f"| {verdict(packed, row, theirs)} / {verdict(grown, row, theirs)} |")
        if row.key == "register_deep":
            parts = [deep_ratio(s) for s in (packed, grown, mlflow)]
            shown = ["n/a" if p is None else f"{p:.2f}×" for p in parts]
            met = ["—" if p is None else ("met" if p <= 1.5 else "**missed**")
                   for p in parts[:2]]
            lines.append(f"| (a) register: `deep` ÷ V-version prompt | ≤ 1.5× (issue 3) "
                         f"| {shown[0]} | {shown[1]} | {shown[2]} | — | — | — "
                         f"| {met[0]} / {met[1]} |")
    return lines


# -- the report ----------------------------------------------------------------------------

def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def install_kind() -> str:
    """How promptctl is installed in this interpreter (the cold-load goal is for a normal one)."""
    from importlib import metadata

    try:
        direct = metadata.distribution("promptctl").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return "not installed (run from the source tree through PYTHONPATH)"
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        return "editable install (`pip install -e`), children import the source tree"
    return "non-editable install, children import the source tree (PYTHONPATH)"


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
        f"- promptctl source: commit {commit}; {install_kind()}",
    ]


def report(settings: Settings, sides: dict[str, Side], mlflow: Side | None,
           notes: list[str], command: str) -> str:
    """The Markdown report written to ``--out``."""
    lines = ["# promptctl benchmark", "", f"Run on {time.strftime('%Y-%m-%d %H:%M %Z')} with:",
             "", "```", command, "```", "", "## Machine", "", *machine()]
    if mlflow:
        lines.append(f"- MLflow: {mlflow.info.get('mlflow')} on Python "
                     f"{mlflow.info.get('python')}, local SQLite store")
    lines += ["", "## Workload", ""]
    for shape, side in sides.items():
        spec = side.spec
        lines.append(f"- {SHAPES[shape]}: P={spec.prompts}, V={spec.versions}, D={spec.deep} "
                     f"({spec.commits} commits), {side.info.get('built')}; "
                     f"{describe_shape(side.info['shape'])}")
    lines += [(f"- repetitions: {settings.reps} per read figure, {settings.write_reps} per "
               f"write, {settings.fast_samples} batches of {settings.batch} calls for cached "
               f"load and format, {settings.cold_reps} cold loads, {settings.cli_reps} runs "
               f"of each other whole command, {settings.build_reps} index build(s)"),
              f"- cold command: `{sides['packed'].info.get('cold_command')}`"]
    if mlflow:
        mspec = mlflow.spec
        built = mlflow.info.get("build_seconds", 0)
        lines += [(f"- MLflow: P={mspec.prompts}, V={mspec.versions}, D={mspec.deep}, built "
                   f"through its API in {built:.0f} s"),
                  f"- MLflow cold command: `{mlflow.info.get('cold_command')}`"]
    lines += ["", "## Results", "", *table(sides, mlflow), ""]
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
    size.add_argument("--grown-prompts", type=int,
                      help="prompts of the registry grown through promptctl "
                           "(default: min(P, 1000))")
    size.add_argument("--grown-versions", type=int, help="default: min(V, 5)")
    size.add_argument("--grown-deep", type=int, help="default: min(D, 1000)")
    size.add_argument("--mlflow-prompts", type=int, help="default: min(P, 1000)")
    size.add_argument("--mlflow-versions", type=int, help="default: min(V, 5)")
    size.add_argument("--mlflow-deep", type=int, help="default: min(D, 1000)")
    parser.add_argument("--mlflow-python", help="an interpreter with MLflow installed")
    parser.add_argument("--no-mlflow", action="store_true", help="promptctl only")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, few repetitions, no MLflow (for CI)")
    parser.add_argument("--reps", type=int, help="samples per read figure (default 200)")
    parser.add_argument("--cold-reps", type=int, help="cold loads (default 20)")
    parser.add_argument("--cli-reps", type=int,
                        help="runs of each other whole command: list, search, register, "
                             "alias set (default 10)")
    parser.add_argument("--build-reps", type=int,
                        help="first index builds (default 3; 1 past 20,000 commits)")
    parser.add_argument("--settle", type=float,
                        help="seconds to wait after building each registry before measuring "
                             f"it (default {SETTLE_SECONDS:g}; --quick: 0)")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument("--workdir", type=Path, help="keep the registries here (must not exist)")
    parser.add_argument("--packed-cache", type=Path,
                        help="keep generated packed registries here and reuse them (one per "
                             "size and version of generate.py: its output is deterministic)")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    """Sizes and repetitions from the command line."""
    quick = args.quick
    spec = generate.Spec(args.prompts or (20 if quick else 1000),
                         args.versions or (3 if quick else 5),
                         args.deep or (30 if quick else 1000))
    grown_spec = generate.Spec(args.grown_prompts or min(spec.prompts, 1000),
                               args.grown_versions or min(spec.versions, 5),
                               args.grown_deep or min(spec.deep, 1000))
    mlflow_spec = generate.Spec(args.mlflow_prompts or min(spec.prompts, 1000),
                                args.mlflow_versions or min(spec.versions, 5),
                                args.mlflow_deep or min(spec.deep, 1000))
    if quick:
        return Settings(spec, grown_spec, mlflow_spec, reps=args.reps or 20, write_reps=10,
                        fast_samples=10, batch=100, cold_reps=args.cold_reps or 3,
                        cli_reps=args.cli_reps or 2, build_reps=1,
                        packed_cache=args.packed_cache,
                        settle=args.settle if args.settle is not None else 0.0)
    return Settings(spec, grown_spec, mlflow_spec, reps=args.reps or 200,
                    cold_reps=args.cold_reps or 20, cli_reps=args.cli_reps or 10,
                    build_reps=args.build_reps or (3 if spec.commits <= 20_000 else 1),
                    packed_cache=args.packed_cache,
                    settle=SETTLE_SECONDS if args.settle is None else args.settle)


METHOD_NOTES = [
    ("After building each registry, MLflow's too, the run waits `--settle` seconds (60 by "
     "default) before measuring it: writes on a just-grown registry ran slower for ~45 s."),
    "Cached load and format are timed in batches (one sample = the mean of a batch).",
    ("Whole-process figures run from spawn to exit after untimed warm-up runs (so the OS "
     "file cache is warm); peak RSS is what wait4 reports for each command on the warm-up "
     "runs, spawned through a small launcher so that the harness's own memory is not "
     "counted in (earlier reports had it as a floor). Every run's "
     "answer is checked: the formatted prompt, the number of prompts listed or found, one "
     "new version per `register`, one alias-log record per `alias set`."),
    ("promptctl's bytecode is compiled before the first command, as a pip install "
     "does (children import the source tree; PYTHONDONTWRITEBYTECODE is not passed on)."),
    ("The index build is timed inside a fresh process (opening the registry plus the "
     "first load); the index update is the first load after a commit made with plain git."),
    ("MLflow has no prompt command line: its whole-process figures are `python -c` "
     "one-liners (import mlflow, one call). Its `search_prompts` returns names, "
     "descriptions and tags, not the latest version and aliases `promptctl list` shows; "
     "the `--json` rows are compared with the same one-liners."),
    "The MLflow side has no version index: its (j) rows are n/a.",
    ("Goals are issue 10's; where it sets none, issue 3's target is shown, marked so. "
     "A ratio goal is judged against MLflow in this run, or (without MLflow) against the "
     "≈ figure issue 10 gives, where it gives one."),
]


def plan_mlflow(args: argparse.Namespace, settings: Settings) -> tuple[str | None, list[str]]:
    """Whether and with which interpreter MLflow runs, and the notes that say so."""
    if args.quick or args.no_mlflow:
        return None, ["MLflow skipped (--quick or --no-mlflow)."]
    python, note = find_mlflow_python(args.mlflow_python)
    notes = [note + "."]
    if python and settings.mlflow_spec != settings.spec:
        notes.append(
            "MLflow ran at a smaller size than the packed registry "
            f"(P={settings.mlflow_spec.prompts}, V={settings.mlflow_spec.versions}, "
            f"D={settings.mlflow_spec.deep}): building it through MLflow's API costs tens "
            "of ms a version; its per-call figures grow with size, so the ratios against "
            "the packed column flatter MLflow.")
    if python and settings.mlflow_spec != settings.grown_spec:
        notes.append("MLflow and the grown registry differ in size: compare their column "
                     "with care.")
    return python, notes


def main(argv: list[str] | None = None) -> int:
    """Run everything, print the table, write the reports; 1 if anything failed."""
    args = parse_args(argv)
    settings = settings_from(args)
    command = shlex.join([sys.executable, *sys.argv] if argv is None
                         else ["python", "benchmarks/run.py", *argv])
    python, notes = plan_mlflow(args, settings)
    if settings.grown_spec != settings.spec:
        grown = settings.grown_spec
        notes.append(f"The grown registry is smaller than the packed one (P={grown.prompts}, "
                     f"V={grown.versions}, D={grown.deep}): growing it costs a promptctl "
                     "write per version; `grown ÷ packed` compares different sizes.")
    failures = int(python is None and bool(args.mlflow_python))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="promptctl-bench-"))
    workdir.mkdir(parents=True, exist_ok=args.workdir is None)
    mlflow = None
    try:
        try:
            sides = run_promptctl(settings, workdir)
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
    everyone = [*sides.values(), *([mlflow] if mlflow else [])]
    notes += [note for side in everyone for note in side.notes]
    failures += sum(side.failures for side in everyone)

    print("\n".join(table(sides, mlflow)))
    for note in notes:
        print(f"note: {note}")
    if args.out:
        args.out.write_text(report(settings, sides, mlflow, notes + METHOD_NOTES, command))
        log(f"report written to {args.out}")
    if args.json:
        named = {**sides, **({"mlflow": mlflow} if mlflow else {})}
        raw = {name: {"spec": vars(side.spec),
                      "times": {k: v.to_json() for k, v in side.times.items()},
                      "memory": side.memory, "info": side.info}
               for name, side in named.items()}
        args.json.write_text(json.dumps(raw, indent=1))
    if failures:
        log(f"{failures} failure(s): see the notes above")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
