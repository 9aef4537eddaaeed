"""Hostile sweep: every hardening reproducer, a randomized batch of hostile inputs, and
concurrency, each against fresh throwaway registries made with the installed CLI.

What it runs:

* **reproducers** — the known ways to break a registry (forged commit messages, bad
  committed prompt files, a held ``index.lock``, symlinks out of the repository, a
  rewritten or corrupt index, stale ref locks, bad input, YAML bombs, a user's staged
  work, ``ext::`` URLs …), each as real ``promptctl`` processes with what must hold;
* **randomized inputs** — names, references, aliases, filters, KEY=VALUE options,
  templates, prompt files (``-f FILE`` and ``-f -``), committed prompt files, lock files,
  values files, a committed ``promptctl.yaml``, stray argv, non-UTF-8 bytes and
  huge/deep YAML, drawn from ``--seed``. Each runs on its own copy of the template
  registry; by default in a child forked from a process that has imported promptctl
  (``--exec fork``, the same code as the console script minus interpreter start-up),
  or as whole processes (``--exec process``). For each: the exit code, a traceback
  (``Traceback`` on stderr) or ``internal error``, a hang (no answer within the
  timeout), a refusal not shaped as the contract says (stdout not empty, not exactly one
  ``error:`` line beside ``warning:``/``note:`` lines), and whether a refusal left the
  repository unchanged (``git rev-parse HEAD``, ``git status --porcelain``,
  ``git for-each-ref`` before and after);
* **concurrent ``tag set``** — 4 processes each setting 10 distinct keys, one
  ``promptctl tag set`` each, all at once: how many of the 40 keys the newest version keeps;
* **threads** — one ``Registry`` shared by 8 threads (loads by version, alias and latest,
  uncached; list, search, history; registers and alias moves): calls made, errors.

Run by hand, not in CI (bounded by ``--seconds`` for the randomized batch)::

    python benchmarks/hostile.py                     # about 5 minutes
    python benchmarks/hostile.py --seconds 30 --seed 7

It prints a figures table (Markdown) and every defect found; it exits 1 when any.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT = 30.0  # seconds: a command that has not answered by then is a hang
_ROOT = Path(__file__).resolve().parent.parent
_ENV = {"NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb", "GIT_TERMINAL_PROMPT": "0",
        "PROMPTCTL_REGISTRY": ""}


def _cli() -> list[str]:
    found = shutil.which("promptctl")
    return [found] if found else [sys.executable, "-m", "promptctl"]


@dataclass
class Answer:
    """One command's answer."""

    code: int  # -1: a hang (killed at the timeout)
    out: bytes
    err: bytes

    @property
    def text(self) -> str:
        return (self.out + self.err).decode("utf-8", "replace")


def run(argv: list[str], cwd: Path, *, stdin: bytes = b"", timeout: float = TIMEOUT,
        env: dict[str, str] | None = None,
        preexec: Callable[[], None] | None = None) -> Answer:
    """``promptctl ARGV`` as a whole process (its own process group, killed on a hang)."""
    full_env = {**os.environ, **_ENV, **(env or {})}
    if not full_env.get("PROMPTCTL_REGISTRY"):
        full_env.pop("PROMPTCTL_REGISTRY")

    def start() -> None:
        os.setsid()
        if preexec is not None:
            preexec()

    proc = subprocess.Popen([*_cli(), *argv], cwd=cwd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env,
                            preexec_fn=start)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        return Answer(proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return Answer(-1, out, err)


def git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True,
                            env={**os.environ, **(env or {})}, check=False)
    if check and result.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode("utf-8", "replace")


def state(repo: Path) -> str:
    """What a refusal must leave as it was: HEAD, status and every ref."""
    out = subprocess.run(
        "git rev-parse HEAD; echo; git status --porcelain --untracked-files=all; echo; "
        "git for-each-ref", shell=True, cwd=repo, capture_output=True, check=False)
    return out.stdout.decode("utf-8", "replace")


def make_template(scratch: Path) -> Path:
    """A registry made with the installed CLI: greet v1, v2 and production -> 1."""
    path = scratch / "template"
    for argv in (["init", str(path)],
                 ["-r", str(path), "register", "greet", "-t", "Hello {{ x }}", "-m", "first"],
                 ["-r", str(path), "register", "greet", "-t", "Hello v2 {{ x }}", "-m", "second",
                  "--tag", "team=a"],
                 ["-r", str(path), "alias", "set", "greet", "production", "1", "-m", "ship"]):
        answer = run(argv, scratch)
        if answer.code != 0:
            raise SystemExit(f"promptctl {' '.join(argv)}: {answer.text}")
    return path


def fresh(template: Path, dest: Path) -> Path:
    """A throwaway copy of the template registry."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(template, dest, symlinks=True)
    return dest


def commit_file(repo: Path, rel: str, data: bytes, message: str = "by hand") -> None:
    target = repo / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    git(repo, "add", "--", rel)
    git(repo, "commit", "-qm", message, "--no-verify")


# -- hostile material ----------------------------------------------------------------------

_PIECES = [
    "greet", "/", "@", "..", ".", "-", "_", "latest", "v3", "production", "prompts:/", "3",
    "0", "²", "٣", "é", " ", "\t", "\n", "{{ x }}", "{x}", "'", '"', "\\", "%", "*", "&a",
    "[", "]", "{", "}", "=", ":", ".yaml", ".lock", "~", "^", "?", "\udcff", "\udce9", "\x7f",
    "\x1f", "\x1e", "AND", "OR", "NOT", "LIKE", "ILIKE", "tags.team", "model_config.x",
    "name", "alias", "template", "9" * 12, "-1", "+1", "1e9", "\u202e", "\ufeff", "\u0000"[1:],
]
_YAML_PIECES = [
    "template:", "model_config:", "tags:", "response_format:", "description:", " ", "\n",
    "  ", "- ", ": ", "{", "}", "[", "]", ",", "&a ", "*a", "!!int ", "!!bool ", "!!set ",
    "!!float ", "!!binary ", "!!python/object:os.system ", "!!timestamp ", "<<: ", "'", '"',
    "|", ">", "#", "{{ x }}", "role: ", "content: ", "temperature: ", "0.5", "-1", "hi",
    "2024-13-45", "\t", "\x85", "é", "? ", "---\n", "...\n", "%YAML 1.1\n", "max_tokens: ",
    "top_p: ", "1e999", ".nan", "~", "null", "yes", "0x1F", "model_name: ",
]


def hostile_text(rng: random.Random, size: int = 12) -> str:
    """A string built from hostile pieces and random code points (never NUL: argv)."""
    kind = rng.random()
    if kind < 0.6:
        return "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, size)))
    if kind < 0.9:
        return "".join(chr(rng.choice([rng.randint(1, 0x7F), rng.randint(0x80, 0x2FFF),
                                       rng.randint(0xDC80, 0xDCFF), rng.randint(0x10000,
                                                                                 0x10FFFF)]))
                       for _ in range(rng.randint(1, size * 2)))
    return rng.choice(["a" * rng.choice([199, 200, 201, 300, 5000]),
                       "9" * rng.choice([10, 19, 30, 5000]), "a/" * 150 + "b",
                       "x" * 101, "-" + "a" * 10, "--json", "--help", ""])


def deep_yaml(rng: random.Random) -> str:
    depth = rng.choice([45, 50, 51, 60, 200, 1000, 5000, 20_000])
    shape = rng.choice(["list", "map", "flow-map"])
    if shape == "list":
        return "template: hi\nresponse_format: " + "[" * depth + "]" * depth + "\n"
    if shape == "flow-map":
        return "template: hi\nresponse_format: " + "{a: " * depth + "1" + "}" * depth + "\n"
    return "template: hi\nresponse_format:\n" + "".join(
        "  " * (i + 1) + "a:\n" for i in range(min(depth, 400))) + "  " * 401 + "b: 1\n"


def bomb_yaml(rng: random.Random) -> str:
    width, levels = rng.choice([(9, 9), (10, 6), (4, 12), (2, 30)])
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{','.join([f'*a{level - 1}'] * width)}]")
    return "template: hi\nresponse_format:\n  " + "\n  ".join(lines) + "\n"


def hostile_yaml(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.45:
        text = "".join(rng.choice(_YAML_PIECES) for _ in range(rng.randint(1, 40)))
    elif kind < 0.6:
        text = deep_yaml(rng)
    elif kind < 0.7:
        text = bomb_yaml(rng)
    elif kind < 0.8:
        text = rng.choice([
            "template: hi\nresponse_format: &r {a: *r}\n", "template: !!int x\n",
            "template: hi\nmodel_config: {temperature: !!float x}\n",
            "template: hi\ntags: {a: !!bool maybe}\n", "template: " + "x" * 1_100_000 + "\n",
            "template: hi\nmodel_config:\n" + "".join(f"  k{i}: {i}\n" for i in range(110_000)),
            "template:\n  - role: user\n    content: '{{ q }}'\n", "\ufefftemplate: hi\n",
            "template: |\n  {{ a }} {{ b.c }} {{ 1x }} {x} {{\n", "template: hi\nextra: 1\n",
            "template: hi\nmodel_config: {temperature: -1, top_p: 2, max_tokens: 0}\n",
        ])
    else:
        return rng.choice([b"template: caf\xe9\n", bytes(rng.randrange(256) for _ in range(200)),
                           b"template: hi\x00\n",
                           b"\xff\xfe" + "template: hi\n".encode("utf-16-le"),
                           b"", b"\n" * 1000, b"template: \xed\xa0\x80\n"])
    return text.encode("utf-8", "surrogateescape")


def hostile_json(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.3:
        depth = rng.choice([10, 100, 1000, 100_000])
        return b'{"lock_version": 1, "prompts": ' + b"[" * depth + b"]" * depth + b"}"
    if kind < 0.6:
        pins = {hostile_text(rng): {"version": rng.choice([1, 2, -1, 10**30, "1", None]),
                                    "commit": rng.choice(["0" * 40, "x", None]),
                                    "sha256": rng.choice(["0" * 64, "", 5])}
                for _ in range(rng.randint(0, 3))}
        doc = {"lock_version": rng.choice([1, 2, 0, "1"]), "prompts": pins}
        return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8",
                                                                       "surrogateescape")
    return hostile_yaml(rng)


@dataclass
class Case:
    """One randomized input: what to run, and what to set up first."""

    kind: str
    argv: list[str]
    stdin: bytes = b""
    files: dict[str, bytes] = field(default_factory=dict)  # written beside the registry
    commit: dict[str, bytes] = field(default_factory=dict)  # committed into it first
    report_command: bool = False  # exit 1 with a report on stdout is an answer


def make_case(rng: random.Random) -> Case:
    """A hostile command line, drawn from every kind of input a user controls."""
    text = hostile_text(rng)
    kind = rng.choice(["name", "ref", "alias", "filter", "keyvalue", "template", "file",
                       "stdin", "committed", "lockfile", "varsfile", "config", "argv",
                       "deep"])
    if kind == "name":
        argv = rng.choice([["register", text, "-t", "hi"], ["load", text], ["show", text],
                           ["history", text], ["alias", "set", text, "production", "1"],
                           ["alias", "list", text], ["alias", "history", text],
                           ["tag", "set", text, "k=v"], ["diff", text, "1", "2"],
                           ["alias", "delete", text, "production"], ["lock", text]])
        return Case(kind, argv)
    if kind == "ref":
        ref = rng.choice([text, f"greet/{text}", f"greet@{text}", f"prompts:/greet/{text}",
                          f"prompts:/{text}@production", f"{text}@latest"])
        argv = rng.choice([["load", ref], ["show", ref], ["lock", ref, "--check"],
                           ["diff", "greet", text, "1"], ["diff", "--base", text],
                           ["load", ref, "--var", "x=1"]])
        return Case(kind, argv, report_command="--check" in argv)
    if kind == "alias":
        return Case(kind, rng.choice([["alias", "set", "greet", text, "1"],
                                      ["alias", "delete", "greet", text],
                                      ["alias", "history", "greet", text],
                                      ["alias", "set", "greet", "production", text],
                                      ["alias", "set", "greet", text, "2", "-m", text]]))
    if kind == "filter":
        tokens = ["name", "=", "LIKE", "ILIKE", "!=", "'greet'", '"g%"', "(", ")", "AND", "OR",
                  "NOT", "tags.team", "alias", "model_config.model_name", "template", "'",
                  "tags.", "IN", "<", ">=", text]
        expr = " ".join(rng.choice(tokens) for _ in range(rng.randint(1, 15)))
        if rng.random() < 0.1:
            expr = "(" * rng.choice([50, 500, 5000]) + "name = 'greet'" + ")" * 5
        return Case(kind, ["search", expr] + (["--json"] if rng.random() < 0.3 else []))
    if kind == "keyvalue":
        key = rng.choice(["temperature", "max_tokens", "top_p", "stop_sequences", "x", "", text])
        value = rng.choice([text, "[" * rng.choice([5, 200, 20_000]), "1e999", "-1", "nan",
                            "[1, 2", "{a: 1}", "yes", "9" * 400, ""])
        option = rng.choice(["--model-config", "--tag", "--var"])
        if option == "--var":
            return Case(kind, ["load", "greet", "--var", f"{key}={value}"])
        if rng.random() < 0.3:
            return Case(kind, ["tag", rng.choice(["set", "delete"]), "greet", f"{key}={value}"
                               if rng.random() < 0.7 else key])
        return Case(kind, ["register", "greet", "-t", "hi {{ x }}", option, f"{key}={value}"])
    if kind == "template":
        template = rng.choice([text, "{{" * rng.choice([2, 1000]), "{{ " + text + " }}",
                               "x" * rng.choice([10, 1_100_000]), "{%" + text, ""])
        argv = ["register", rng.choice(["greet", "fz"]), "-t", template]
        return Case(kind, argv + (["-m", text] if rng.random() < 0.3 else []))
    if kind in ("file", "stdin", "deep"):
        data = hostile_yaml(rng) if kind != "deep" else rng.choice([
            deep_yaml(rng), bomb_yaml(rng)]).encode()
        if kind == "stdin":
            return Case(kind, ["register", "fz", "-f", "-"], stdin=data)
        return Case(kind, ["register", rng.choice(["fz", "greet"]), "-f", "{dir}/input.yaml"],
                    files={"input.yaml": data})
    if kind == "committed":
        name = rng.choice(["x", "greet", "team/x", text.replace("\x00", "") or "y"])
        argv = rng.choice([["list"], ["load", "greet"], ["load", "x"], ["check"], ["show", "x"],
                           ["search", "name LIKE '%'"], ["history", "greet"],
                           ["register", "greet", "-t", "again"], ["list", "--json"]])
        rel = f"prompts/{name}.yaml"
        return Case(kind, argv, commit={rel: hostile_yaml(rng)},
                    report_command=argv[0] == "check")
    if kind == "lockfile":
        argv = rng.choice([["load", "greet@production", "--lock-file", "{dir}/in.lock"],
                           ["lock", "--check", "--file", "{dir}/in.lock"],
                           ["lock", "greet", "--file", "{dir}/in.lock"],
                           ["lock", "--file", rng.choice(["", "/dev/zero", "/proc/x", text])]])
        return Case(kind, argv, files={"in.lock": hostile_json(rng)},
                    report_command="--check" in argv)
    if kind == "varsfile":
        return Case(kind, ["load", "greet", "--vars-file", "{dir}/vars.yaml"],
                    files={"vars.yaml": rng.choice([hostile_yaml(rng), hostile_json(rng)])})
    if kind == "config":
        config = rng.choice([hostile_yaml(rng), (
            "version: 1\nprotected_aliases:\n  production:\n    promote_from: "
            + rng.choice(["staging", text, "[", "{a: 1}"]) + "\n    require_reason: "
            + rng.choice(["true", "maybe", "[]"]) + "\n").encode("utf-8", "surrogateescape")])
        argv = rng.choice([["alias", "set", "greet", "production", "2", "-m", "x"], ["check"],
                           ["alias", "delete", "greet", "production"], ["list"],
                           ["register", "greet", "-t", "again"]])
        return Case(kind, argv, commit={"promptctl.yaml": config},
                    report_command=argv[0] == "check")
    # stray argv: options anywhere, odd registries, junk
    words = [hostile_text(rng, 4) for _ in range(rng.randint(0, 4))]
    registry = rng.choice(["{repo}", "", "x" * 5000, "ext::sh -c touch% {dir}/pwned",
                           "/dev/full", "/proc/self", "{repo}/.git/HEAD", "file:///nonexistent",
                           "https://", "-"])
    command = rng.choice([["list"], ["load"], ["init"], ["check"], ["search"], ["register"],
                          ["alias"], ["tag"], ["sync"], ["lock"], ["diff"], ["hook"], []])
    return Case(kind, ["-r", registry, *command, *words], report_command=command == ["check"])


# -- running a randomized batch --------------------------------------------------------------

@dataclass
class Tally:
    """What a batch of randomized inputs found."""

    inputs: int = 0
    exits: collections.Counter[int] = field(default_factory=collections.Counter)
    kinds: collections.Counter[str] = field(default_factory=collections.Counter)
    tracebacks: list[str] = field(default_factory=list)
    internal: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    shape: list[str] = field(default_factory=list)  # a refusal not shaped as the contract says
    refusals_checked: int = 0
    skipped: int = 0  # too long an argument for exec (whole processes only)
    slowest: float = 0.0

    def add(self, other: Tally) -> None:
        self.inputs += other.inputs
        self.exits.update(other.exits)
        self.kinds.update(other.kinds)
        for name in ("tracebacks", "internal", "hangs", "changed", "shape"):
            getattr(self, name).extend(getattr(other, name))
        self.refusals_checked += other.refusals_checked
        self.skipped += other.skipped
        self.slowest = max(self.slowest, other.slowest)


def _forked(argv: list[str], cwd: Path, stdin: bytes, scratch: Path) -> Answer:
    """``promptctl ARGV`` in a child forked from this process (promptctl imported)."""
    paths = [scratch / name for name in ("in", "out", "err")]
    paths[0].write_bytes(stdin)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 70
        try:
            os.setsid()
            os.chdir(cwd)
            for fd, path, mode in zip((0, 1, 2), paths, ("rb", "wb", "wb"), strict=True):
                with open(path, mode) as handle:
                    os.dup2(handle.fileno(), fd)
            signal.alarm(int(TIMEOUT))  # a hang ends here, as SIGALRM
            from promptctl.cli import main

            try:
                main(argv)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - what escapes main is the finding
            import traceback

            traceback.print_exc()
            code = 70
        finally:
            with contextlib.suppress(BaseException):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        code = -1 if os.WTERMSIG(status) == signal.SIGALRM else 128 + os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
    return Answer(code, paths[1].read_bytes(), paths[2].read_bytes())


def _expand(value: str, repo: Path, side: Path) -> str:
    return value.replace("{repo}", str(repo)).replace("{dir}", str(side))


def run_batch(template: str, seed: int, start: int, count: int, deadline: float,
              mode: str) -> Tally:
    """Inputs ``start`` .. ``start + count`` of ``seed`` (until ``deadline``): their tally."""
    os.environ.update(_ENV)
    os.environ.pop("PROMPTCTL_REGISTRY", None)
    if mode == "fork":
        import promptctl.cli.app  # noqa: F401 - imported once, before the forks

    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="promptctl-hostile-") as scratch_name:
        scratch = Path(scratch_name)
        side = scratch / "side"
        for index in range(start, start + count):
            if time.monotonic() > deadline:
                break
            rng = random.Random(seed * 1_000_003 + index)
            case = make_case(rng)
            repo = fresh(Path(template), scratch / "repo")
            shutil.rmtree(side, ignore_errors=True)
            side.mkdir()
            for rel, data in case.files.items():
                (side / rel).write_bytes(data)
            try:
                for rel, data in case.commit.items():
                    commit_file(repo, rel, data)
            except (RuntimeError, OSError):
                continue  # git itself refused the setup (a name git cannot hold)
            argv = ["-r", str(repo), *[_expand(a, repo, side) for a in case.argv]]
            if case.kind == "argv":
                argv = argv[2:]
            if mode == "process" and max(map(len, argv)) >= 128 * 1024:
                tally.skipped += 1  # no shell can pass it: exec refuses (E2BIG)
                continue
            before = state(repo)
            started = time.monotonic()
            if mode == "fork":
                answer = _forked(argv, repo, case.stdin, scratch)
            else:
                answer = run(argv, repo, stdin=case.stdin)
            tally.slowest = max(tally.slowest, time.monotonic() - started)
            tally.inputs += 1
            tally.kinds[case.kind] += 1
            tally.exits[answer.code] += 1
            label = f"#{index} {case.kind}: {_show(argv)}"
            err = answer.err.decode("utf-8", "replace")
            if "Traceback" in err or "Traceback" in answer.out.decode("utf-8", "replace"):
                tally.tracebacks.append(f"{label}\n    {err.strip().splitlines()[-1][:300]}")
            if "internal error" in err:
                tally.internal.append(f"{label}\n    {err.strip()[:300]}")
            if answer.code == -1:
                tally.hangs.append(label)
                continue
            if (side / "pwned").exists():
                tally.changed.append(f"{label}: ran a command through an ext:: URL")
            if answer.code == 0 or (case.report_command and answer.code == 1):
                continue
            lines = [line for line in err.splitlines()
                     if not line.startswith(("warning: ", "note: "))]
            if answer.out or len(lines) != 1 or not lines[0].startswith("error: "):
                tally.shape.append(f"{label}: exit {answer.code}, stdout {len(answer.out)} "
                                   f"bytes, stderr {err.strip()[:200]!r}")
            if not 0 <= answer.code <= 4:
                tally.shape.append(f"{label}: exit code {answer.code}")
            tally.refusals_checked += 1
            if state(repo) != before:
                tally.changed.append(f"{label}: exit {answer.code}, the repository changed")
    return tally


def _show(argv: list[str]) -> str:
    shown = " ".join(repr(a) if len(a) < 60 else repr(a[:40] + f"…({len(a)} chars)")
                     for a in argv)
    return shown[:400]


def randomized(template: Path, seed: int, seconds: float, jobs: int, mode: str) -> Tally:
    """As many inputs as ``jobs`` workers get through in ``seconds``."""
    deadline = time.monotonic() + seconds
    total = Tally()
    chunk = 100
    context = __import__("multiprocessing").get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        pending = {pool.submit(run_batch, str(template), seed, i * chunk, chunk, deadline, mode)
                   for i in range(jobs)}
        following = jobs
        while pending:
            done, pending = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                total.add(future.result())
                if time.monotonic() < deadline:
                    pending.add(pool.submit(run_batch, str(template), seed, following * chunk,
                                            chunk, deadline, mode))
                    following += 1
    return total


# -- the reproducers -------------------------------------------------------------------------

@dataclass
class Finding:
    """One reproducer: what was tried and whether what must hold held."""

    item: str
    what: str
    ok: bool
    detail: str = ""


class Reproducers:
    """Every reproducer of the hardening list, each on a fresh copy of the template."""

    def __init__(self, template: Path, scratch: Path) -> None:
        self.template = template
        self.scratch = scratch
        self.found: list[Finding] = []
        self._count = 0

    def repo(self) -> Path:
        self._count += 1
        return fresh(self.template, self.scratch / f"r{self._count}")

    def expect(self, item: str, what: str, ok: bool, detail: object = "") -> None:
        self.found.append(Finding(item, what, bool(ok), str(detail)[:400]))

    def refused(self, item: str, what: str, repo: Path, argv: list[str], codes: set[int],
                *, needle: str = "", **kw: object) -> Answer:
        """Run ``argv``; it must exit with one of ``codes``, one ``error:`` line, no
        traceback, the repository unchanged (and ``needle`` in the message)."""
        before = state(repo)
        answer = run(["-r", str(repo), *argv], repo, **kw)  # type: ignore[arg-type]
        err = answer.err.decode("utf-8", "replace")
        lines = [x for x in err.splitlines() if not x.startswith(("warning: ", "note: "))]
        ok = (answer.code in codes and "Traceback" not in err and len(lines) == 1
              and lines[0].startswith("error: ") and needle in err and state(repo) == before)
        self.expect(item, what, ok, f"exit {answer.code}: {err.strip()[:300]}")
        return answer

    def works(self, item: str, what: str, repo: Path, argv: list[str], *,
              out: str | None = None, codes: frozenset[int] = frozenset({0}),
              **kw: object) -> Answer:
        """Run ``argv``; it must exit with one of ``codes`` (0), no traceback, and print
        ``out`` when given."""
        answer = run(["-r", str(repo), *argv], repo, **kw)  # type: ignore[arg-type]
        text = answer.text
        ok = (answer.code in codes and "Traceback" not in text and "internal error" not in text
              and (out is None or answer.out.decode("utf-8", "replace") == out))
        self.expect(item, what, ok, f"exit {answer.code}: {text.strip()[:300]}")
        return answer

    def all(self) -> list[Finding]:
        for item in (self.forged_messages, self.bad_committed_files, self.failed_writes,
                     self.symlinks, self.first_build_concurrency, self.index_recovery,
                     self.stale_locks, self.bad_input, self.amplification, self.smaller_losses):
            try:
                item()
            except Exception as exc:  # noqa: BLE001 - a broken reproducer is reported too
                self.expect(item.__name__, "the reproducer itself ran", False, repr(exc))
        return self.found

    def forged_messages(self) -> None:
        repo = self.repo()
        (repo / "README.md").write_text("docs\n")
        git(repo, "add", "README.md")
        blob = git(repo, "rev-parse", "HEAD~1:prompts/greet.yaml").strip()
        fake = f"\x1f\n:100644 100644 {blob} {blob} M\tprompts/greet.yaml\n\x1e\x1f2\x1f"
        git(repo, "commit", "-qm", f"docs{fake}", env={"GIT_AUTHOR_NAME": "ev\x1fil"})
        (repo / "README.md").write_text("docs 2\n")
        git(repo, "commit", "-qam", "Promptctl-Version: greet 3 " + blob + " " + "0" * 40)
        for argv in (["list"], ["history", "greet"], ["check"]):
            self.works("1", f"forged messages: {' '.join(argv)}", repo, argv)
        self.works("1", "forged messages: load greet is version 2", repo, ["load", "greet"],
                   out="Hello v2 {{ x }}\n")
        shutil.rmtree(repo / ".git" / "promptctl", ignore_errors=True)
        self.works("1", "forged messages, index rebuilt: load greet", repo, ["load", "greet"],
                   out="Hello v2 {{ x }}\n")
        bare = self.scratch / f"forged{self._count}.git"
        git(self.scratch, "clone", "-q", "--bare", str(repo), str(bare))
        cache = self.scratch / "cache-forged"
        self.works("1", "forged messages, remote consumer: load greet", repo,
                   ["-r", f"file://{bare}", "load", "greet"], out="Hello v2 {{ x }}\n",
                   env={"XDG_CACHE_HOME": str(cache)})

    def bad_committed_files(self) -> None:
        bad = {
            "recursive alias": b"template: hi\nresponse_format: &r {a: *r}\n",
            "990-deep nesting": b"template: hi\nresponse_format: " + b"[" * 990 + b"]" * 990,
            "!!int x": b"template: !!int x\n", "!!float x": b"template: !!float x\n",
            "!!bool maybe": b"template: hi\ntags: {a: !!bool maybe}\n",
            "620-byte bomb": bomb_yaml(random.Random(0)).encode(),
            "non-UTF-8": b"template: caf\xe9\n",
        }
        for what, data in bad.items():
            repo = self.repo()
            commit_file(repo, "prompts/x.yaml", data)
            self.works("2", f"{what}: load greet", repo, ["load", "greet"],
                       out="Hello v2 {{ x }}\n")
            self.works("2", f"{what}: list", repo, ["list"])
            answer = self.works("2", f"{what}: check exits 1 naming the file", repo, ["check"],
                                codes=frozenset({1}))
            self.expect("2", f"{what}: check names prompts/x.yaml", b"x.yaml" in answer.out,
                        answer.out[:200])
            self.refused("2", f"{what}: load x", repo, ["load", "x"], {1, 2})
            self.works("2", f"{what}: register greet", repo, ["register", "greet", "-t", "v3"])

    def failed_writes(self) -> None:
        repo = self.repo()
        (repo / ".git" / "index.lock").touch()
        self.refused("4", "held index.lock: register", repo, ["register", "greet", "-t", "v3"],
                     {1, 4}, needle="index.lock")
        (repo / ".git" / "index.lock").unlink()
        repo = self.repo()

        def small_files() -> None:
            import resource

            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

        self.refused("4", "ulimit -f: register of 4 KB", repo,
                     ["register", "greet", "-t", "y" * 4096], {1}, preexec=small_files)
        stray = [p for p in (repo / "prompts").iterdir() if "promptctl" in p.name]
        stray += list((repo / ".git" / "objects").glob("**/tmp_obj_promptctl*"))
        self.expect("4", "ulimit -f: nothing left behind", not stray, stray)
        self.works("4", "after the failure: fsck", repo, ["check"])
        fsck = subprocess.run(["git", "fsck", "--strict"], cwd=repo, capture_output=True,
                              check=False)
        self.expect("4", "after the failure: git fsck clean", fsck.returncode == 0, fsck.stderr)

    def symlinks(self) -> None:
        repo = self.repo()
        outside = repo.parent / f"outside{self._count}"
        outside.mkdir()
        os.symlink(f"../../{outside.name}", repo / "prompts" / "team")
        self.refused("5", "symlinked folder: register team/x", repo,
                     ["register", "team/x", "-t", "hi"], {1, 2, 4})
        self.expect("5", "nothing written outside", not any(outside.iterdir()),
                    list(outside.iterdir()))
        repo = self.repo()
        moved = repo.parent / f"elsewhere{self._count}"
        shutil.move(str(repo / "prompts"), moved)
        os.symlink(moved, repo / "prompts")
        before = sorted(p.name for p in moved.iterdir())
        answer = run(["-r", str(repo), "register", "greet", "-t", "v3"], repo)
        self.expect("5", "prompts/ a symlink: register refused, nothing written there",
                    answer.code in (1, 2, 4) and sorted(p.name for p in moved.iterdir()) == before
                    and "Traceback" not in answer.text, answer.text[:300])
        repo = self.repo()
        os.symlink("/etc/passwd", repo / "prompts" / "pw.yaml")
        git(repo, "add", "prompts/pw.yaml")
        git(repo, "commit", "-qm", "a link")
        answer = self.works("5", "link to /etc/passwd: check exits 1", repo, ["check"],
                            codes=frozenset({1}))
        self.expect("5", "check prints nothing of /etc/passwd", b"root:" not in answer.out +
                    answer.err, answer.text[:200])

    def first_build_concurrency(self) -> None:
        sys.path.insert(0, str(_ROOT / "benchmarks"))
        from generate import Spec, generate

        repo = self.scratch / "big"
        generate(repo, Spec(prompts=200, versions=50, deep=100))
        for round_ in range(3):
            shutil.rmtree(repo / ".git" / "promptctl", ignore_errors=True)
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(
                    lambda argv: run(["-r", str(repo), *argv], repo),
                    [["list"], ["load", "p0001", "--var", "role=a", "--var", "language=b",
                                "--var", "question=c"]]))
            self.expect("6", f"first build of {git(repo, 'rev-list', '--count', 'HEAD').strip()}"
                        f" commits, list & load at once (round {round_ + 1})",
                        all(a.code == 0 and "Traceback" not in a.text for a in answers),
                        [(a.code, a.err[:200]) for a in answers])

    def index_recovery(self) -> None:
        repo = self.repo()
        self.works("7", "index built", repo, ["list"])
        git(repo, "reset", "-q", "--hard", "HEAD~1")
        git(repo, "reflog", "expire", "--expire=now", "--all")
        git(repo, "gc", "-q", "--prune=now")
        self.works("7", "after reset + reflog expire + gc: list", repo, ["list"])
        self.works("7", "after reset: load greet", repo, ["load", "greet"],
                   out="Hello {{ x }}\n")
        for how in ("corrupt page", "truncated"):
            repo = self.repo()
            self.works("7", "index built", repo, ["list"])
            for db in (repo / ".git" / "promptctl").glob("index-*.sqlite"):
                data = bytearray(db.read_bytes())
                if how == "truncated":
                    data = data[: len(data) // 3]
                else:
                    data[4096:4096 + 512] = os.urandom(512)
                db.write_bytes(bytes(data))
            first = run(["-r", str(repo), "load", "greet"], repo)
            self.expect("7", f"{how} index: first load answers without a traceback",
                        first.code in (0, 4) and "Traceback" not in first.text, first.text[:300])
            self.works("7", f"{how} index: then load greet", repo, ["load", "greet"],
                       out="Hello v2 {{ x }}\n")

    def stale_locks(self) -> None:
        branch = git(self.template, "symbolic-ref", "HEAD").strip()
        for lock, argv in (
                ("refs/promptctl/alias-log.lock", ["alias", "set", "greet", "production", "2"]),
                (f"{branch}.lock", ["register", "greet", "-t", "v3"]),
                ("refs/tags/prompts/greet@production.lock",
                 ["alias", "set", "greet", "production", "2"])):
            repo = self.repo()
            path = repo / ".git" / lock
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
            started = time.monotonic()
            self.refused("8", f"stale {lock}: {argv[0]} names it", repo, argv, {4},
                         needle=Path(lock).name)
            seconds = time.monotonic() - started
            self.expect("8", f"stale {lock}: answered in {seconds:.1f} s (bound 20 s)",
                        seconds < 20)

    def bad_input(self) -> None:
        repo = self.repo()
        latin1 = self.scratch / "latin1.txt"
        latin1.write_bytes(b"template: caf\xe9\n")
        deep = self.scratch / "deep.yaml"
        deep.write_bytes(b"x: " + b"[" * 20_000)
        cases: list[tuple[list[str], set[int], bytes]] = [
            (["load", "greet/²"], {2}, b""), (["load", "greet/" + "9" * 30], {2, 3}, b""),
            (["load", "greet/" + "9" * 5000], {2}, b""),
            (["register", "greet", "-t", "hi", "--model-config", "x=" + "[" * 20_000], {2}, b""),
            (["register", "fz", "-f", str(latin1)], {2}, b""),
            (["register", "fz", "-f", "-"], {2}, b"template: caf\xe9\n"),
            (["load", "greet", "--vars-file", str(deep)], {2}, b""),
            (["load", "greet", "--lock-file", str(deep)], {2}, b""),
            (["alias", "delete", "greet", "a" * 300], {2}, b""),
            (["alias", "delete", "greet", "production/"], {2}, b""),
            (["alias", "delete", "greet", "bad alias"], {2}, b""),
            (["register", "a..b", "-t", "hi"], {2}, b""),
            (["alias", "set", "a..b", "production", "1"], {2}, b""),
            (["lock", "greet", "--file", ""], {2}, b""),
        ]
        for argv, codes, stdin in cases:
            self.refused("10", _show(argv)[:80], repo, argv, codes, stdin=stdin)
        for target in ("/dev/full", str(repo / ".git" / "HEAD"), "/proc/x"):
            answer = run(["init", target], self.scratch)
            self.expect("10", f"init {target}: one error line", answer.code in (1, 2, 4)
                        and answer.err.decode().count("error:") == 1
                        and "Traceback" not in answer.text, answer.text[:200])
        answer = run(["-r", "x" * 5000, "list"], self.scratch)
        self.expect("10", "5,000-character -r path", answer.code in (2, 3)
                    and "Traceback" not in answer.text, answer.text[:200])
        repo = self.repo()
        git(repo, "pack-refs", "--all")
        with open(repo / ".git" / "packed-refs", "ab") as packed:
            packed.write(b"0" * 40 + b" refs/tags/prompts/greet@\xff\xfe\n")
        for argv in (["list"], ["alias", "list"], ["load", "greet"]):
            self.works("10", f"non-UTF-8 packed-refs: {argv[0]}", repo, argv,
                       codes=frozenset({0, 1, 2, 4}))

    def amplification(self) -> None:
        repo = self.repo()
        bomb = self.scratch / "bomb.yaml"
        bomb.write_bytes(bomb_yaml(random.Random(1)).encode())
        started = time.monotonic()
        self.refused("11", f"{bomb.stat().st_size}-byte bomb via register -f", repo,
                     ["register", "fz", "-f", str(bomb)], {2}, needle="100,000")
        self.expect("11", f"bomb refused in {time.monotonic() - started:.1f} s (bound 10 s)",
                    time.monotonic() - started < 10)
        repo = self.repo()
        leaves = "".join(f"  k{i}: {i}\n" for i in range(200_000)).encode()
        commit_file(repo, "prompts/wide.yaml", b"template: hi\nmodel_config:\n" + leaves)
        self.works("11", "200,000-leaf committed model_config: list --json", repo,
                   ["list", "--json"])
        started = time.monotonic()
        self.works("11", "check /dev/zero", repo, ["check", "/dev/zero"],
                   codes=frozenset({1, 2}), timeout=20)
        self.expect("11", f"check /dev/zero bounded ({time.monotonic() - started:.1f} s)",
                    time.monotonic() - started < 20)

    def smaller_losses(self) -> None:
        repo = self.repo()
        path = repo / "prompts" / "greet.yaml"
        path.write_text("template: staged edit\n")
        git(repo, "add", "prompts/greet.yaml")
        path.write_text("template: unstaged edit\n")
        staged = git(repo, "diff", "--cached")
        answer = run(["-r", str(repo), "register", "greet", "-f", str(path)], repo)
        self.expect("12", "staged + unstaged edits, register -f: refused (4), the staged edit "
                    "kept", answer.code == 4 and git(repo, "diff", "--cached") == staged,
                    answer.text[:300])
        repo = self.repo()
        (repo / "prompts" / "greet.yaml").chmod(0o755)
        git(repo, "commit", "-qam", "executable")
        self.works("12", "chmod +x then register", repo, ["register", "greet", "-t", "v3"])
        mode = git(repo, "ls-tree", "HEAD", "prompts/greet.yaml").split()[0]
        self.expect("12", "the executable bit is kept", mode == "100755", mode)
        canary = self.scratch / "pwned"
        answer = run(["-r", f"ext::sh -c touch% {canary}", "list"], self.scratch,
                     env={"GIT_ALLOW_PROTOCOL": "ext:file"})
        self.expect("12", "ext:: URL refused, nothing run", answer.code == 2 and
                    not canary.exists(), answer.text[:200])
        cache = self.scratch / "cache-leak"
        bare = self.scratch / "leak.git"
        git(self.scratch, "clone", "-q", "--bare", str(self.template), str(bare))
        url = f"file://{bare}"
        first = run(["-r", url, "list"], self.scratch, env={"XDG_CACHE_HOME": str(cache)})
        folder = cache / "promptctl"
        # The clones, not their lock files (a directory lists them in no set order).
        clones = [c for c in folder.iterdir() if not c.name.endswith(".lock")] \
            if folder.exists() else []
        stale = [Path(f"{c}.tmp-killed") for c in clones]
        for path in stale:
            path.mkdir()
            (path / "junk").write_bytes(b"x" * 1000)
        for clone in clones:  # as a first clone killed before its rename leaves it
            shutil.rmtree(clone)
        again = run(["-r", url, "list"], self.scratch, env={"XDG_CACHE_HOME": str(cache)})
        left = [p for p in stale if p.exists()]
        self.expect("12", "a killed first clone's temporary folder is cleaned", first.code == 0
                    and again.code == 0 and stale and not left, (left, again.text[:200]))


# -- concurrency -----------------------------------------------------------------------------

def concurrent_tag_set(template: Path, scratch: Path) -> tuple[int, int, collections.Counter[int]]:
    """4 processes × 10 distinct keys, each key one ``tag set``: (keys kept, 40, exits)."""
    repo = fresh(template, scratch / "tags")
    exits: collections.Counter[int] = collections.Counter()

    def worker(process: int) -> None:
        for key in range(10):
            answer = run(["-r", str(repo), "tag", "set", "greet", f"p{process}k{key}=v"], repo)
            exits[answer.code] += 1

    threads = [threading.Thread(target=worker, args=(p,)) for p in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shown = run(["-r", str(repo), "--json", "show", "greet"], repo)
    tags = json.loads(shown.out).get("tags", {}) if shown.code == 0 else {}
    kept = sum(1 for p in range(4) for k in range(10) if f"p{p}k{k}" in tags)
    return kept, 40, exits


def shared_registry(template: Path, scratch: Path) -> tuple[int, collections.Counter[str]]:
    """One ``Registry`` shared by 8 threads: (calls, errors by kind)."""
    from promptctl import PromptctlError, Registry

    repo = fresh(template, scratch / "threads")
    reg = Registry(repo)
    calls = 0
    errors: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def worker(n: int) -> None:
        nonlocal calls
        rng = random.Random(n)
        for i in range(50):
            op = rng.choice(["v1", "alias", "latest", "list", "search", "history", "register",
                             "alias set"])
            try:
                if op == "v1":
                    assert reg.load_prompt("greet/1").template == "Hello {{ x }}"
                elif op == "alias":
                    reg.load_prompt("greet@production", cache_ttl_seconds=0)
                elif op == "latest":
                    reg.load_prompt("greet", cache_ttl_seconds=rng.choice([0, 60]))
                elif op == "list":
                    reg.list_prompts()
                elif op == "search":
                    reg.search_prompts("tags.team = 'a'")
                elif op == "history":
                    reg.history("greet")
                elif op == "register":
                    reg.register_prompt(f"t{n}", f"thread {n} call {i} {{{{x}}}}\n", "t")
                else:
                    reg.set_alias("greet", f"t{n}", rng.choice([1, 2]))
            except PromptctlError as exc:
                with lock:
                    errors[f"PromptctlError {type(exc).__name__}: {exc}"[:120]] += 1
            except Exception as exc:  # noqa: BLE001 - the finding
                with lock:
                    errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
            with lock:
                calls += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reg.close()
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=repo, capture_output=True,
                          check=False)
    if fsck.returncode:
        errors["git fsck --strict failed afterwards"] += 1
    return calls, errors


# -- the report ------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240.0,
                        help="time for the randomized batch (default 240)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--exec", dest="mode", choices=["fork", "process"], default="fork")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["reproducers", "random", "tags", "threads"])
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="promptctl-hostile-") as scratch_name:
        scratch = Path(scratch_name)
        os.environ.update(_ENV)
        os.environ.pop("PROMPTCTL_REGISTRY", None)
        template = make_template(scratch)
        found: list[Finding] = []
        if "reproducers" not in args.skip:
            (scratch / "repro").mkdir()
            found = Reproducers(template, scratch / "repro").all()
        tally = Tally()
        if "random" not in args.skip:
            tally = randomized(template, args.seed, args.seconds, args.jobs, args.mode)
        tags = concurrent_tag_set(template, scratch) if "tags" not in args.skip else None
        threads = shared_registry(template, scratch) if "threads" not in args.skip else None
    failed = [f for f in found if not f.ok]
    print(f"## Hostile sweep\n\n`python benchmarks/hostile.py --seconds {args.seconds:g} "
          f"--seed {args.seed} --jobs {args.jobs} --exec {args.mode}`, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()} "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{git(Path.cwd(), 'version').strip()}; {time.monotonic() - started:.0f} s in all.\n")
    print("| figure | count |\n|---|---|")
    items = sorted({f.item for f in found}, key=lambda s: (len(s), s))
    print(f"| reproducer checks (items {', '.join(items) or '-'}) | {len(found)} "
          f"({len(failed)} failed) |")
    print(f"| randomized inputs tried | {tally.inputs}" + (
        f" ({tally.skipped} more skipped: an argument too long to exec)" if tally.skipped
        else "") + " |")
    print(f"| exit codes | {', '.join(f'{k}: {v}' for k, v in sorted(tally.exits.items()))} |")
    print(f"| refusals whose repository was compared | {tally.refusals_checked} |")
    print(f"| tracebacks | {len(tally.tracebacks)} |")
    print(f"| internal errors | {len(tally.internal)} |")
    print(f"| hangs (> {TIMEOUT:g} s) | {len(tally.hangs)} |")
    print(f"| refusals that changed the repository | {len(tally.changed)} |")
    print(f"| refusals not shaped as one `error:` line | {len(tally.shape)} |")
    print(f"| slowest input | {tally.slowest:.1f} s |")
    if tags is not None:
        print(f"| concurrent `tag set`, 4 processes × 10 keys: keys kept | {tags[0]} of "
              f"{tags[1]} (exits {dict(sorted(tags[2].items()))}) |")
    if threads is not None:
        print(f"| one `Registry`, 8 threads: calls, errors | {threads[0]}, "
              f"{sum(threads[1].values())} |")
    print(f"\nInputs by kind: {dict(sorted(tally.kinds.items()))}")
    for title, entries in (("FAILED reproducer checks", [f"item {f.item}: {f.what}: {f.detail}"
                                                        for f in failed]),
                           ("tracebacks", tally.tracebacks), ("internal errors", tally.internal),
                           ("hangs", tally.hangs), ("changed the repository", tally.changed),
                           ("badly shaped refusals", tally.shape),
                           ("thread errors", [f"{k} ×{v}" for k, v in
                                              (threads[1].items() if threads else [])])):
        if entries:
            print(f"\n{title} ({len(entries)}):")
            for entry in entries[:40]:
                print(f"  {entry}")
    bad = failed or tally.tracebacks or tally.internal or tally.hangs or tally.changed or \
        tally.shape or (tags and tags[0] != tags[1]) or (threads and threads[1])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
