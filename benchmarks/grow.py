"""Grow the benchmark registry the way users do: every version and alias through promptctl.

``generate.py`` writes its history with ``git fast-import`` and packs the refs, the most
favourable shape a registry can have. A registry that promptctl itself has grown looks
different until someone runs ``git gc``: every blob, tree, commit and alias tag is a loose
object, every alias a loose ref, and the alias log has one record per move. This module
builds that shape with the same workload (:func:`generate.version_order`, the same
fields), through promptctl's public API only:

* ``Registry.init`` for the registry itself;
* ``register_prompt`` for every version, round by round, ``deep``'s spread through them;
* ``set_alias`` for ``production`` (version V-1) and ``staging`` (version V) of every prompt,
  so each alias also has its record in the alias log.

It costs one write per version and alias (about 10 ms each today): about 80 s for
P=1000, V=5, D=1000 on a 2-core machine. Nothing is cached between runs, so a run
always measures a registry grown by the promptctl under test.

Usage: ``python benchmarks/grow.py DEST [--prompts P] [--versions V] [--deep D]``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import generate

import promptctl


def grow(dest: Path, spec: generate.Spec,
         progress: Callable[[str], None] | None = None) -> Path:
    """Create the registry in ``dest`` (a new or empty folder) through promptctl; return it.

    Each write's answer is checked (the version number it reports), so a registry that
    came out wrong stops the benchmark here instead of skewing its figures.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    promptctl.Registry.init(dest).close()
    total = spec.prompts * spec.versions + spec.deep
    with promptctl.Registry(dest) as reg:
        for done, (name, version) in enumerate(generate.version_order(spec), start=1):
            fields = generate.prompt_fields(name, version)
            note = f"{name}: version {version}" if version > 1 else f"Create {name}"
            made = reg.register_prompt(name, fields["template"], note,
                                       model_config=fields["model_config"], tags=fields["tags"],
                                       description=fields["description"])
            if made.version != version:
                raise SystemExit(f"wrong result: {name} registered as {made.version}, "
                                 f"not {version}")
            if progress is not None and done % 1000 == 0:
                progress(f"{done}/{total} versions registered")
        for name in [*spec.names, generate.DEEP]:
            newest = spec.deep if name == generate.DEEP else spec.versions
            reg.set_alias(name, "production", newest - 1, "benchmark: production")
            reg.set_alias(name, "staging", newest, "benchmark: staging")
    return dest


def main(argv: list[str] | None = None) -> int:
    """Command line (used by ``run.py``): grow a registry and say how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path, help="new or empty folder for the registry")
    parser.add_argument("--prompts", "-P", type=int, default=1000)
    parser.add_argument("--versions", "-V", type=int, default=5)
    parser.add_argument("--deep", "-D", type=int, default=1000)
    args = parser.parse_args(argv)
    spec = generate.Spec(args.prompts, args.versions, args.deep)
    start = time.perf_counter()
    grow(args.dest, spec, lambda message: print(f"[grow] {message}", file=sys.stderr,
                                                flush=True))
    writes = spec.prompts * spec.versions + spec.deep + 2 * (spec.prompts + 1)
    print(f"[grow] {args.dest}: {writes} writes through promptctl in "
          f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
