"""``make bench`` (``python -m bench``): the loader, pipeline and scale benchmarks.

Prints three tables and writes them, with the command, the machine and the date, between
the markers in BENCHMARKS.md (``--no-write`` to leave it alone). Everything it makes goes
to ``build/bench/``; the million-row workbook and the synthetic extracts are cached there.

- Loader: one ``.xlsx`` of a million rows to raw Parquet by ``dap load``, by fastexcel and
  polars to Parquet (the fastest parse to Arrow is the floor), bare parsing with
  python-calamine, and a plain pandas + openpyxl loader, each in a fresh process
  (:mod:`bench.contenders`): three timed runs each in rounds, the median kept, then one
  run each with its process tree's memory sampled (pandas once, sampled).
- Pipeline: ``make run``'s steps (setup excluded) on the real 15-year dataset
  (``../shared/data``; the sample when it is absent), cold, then again with nothing new.
- Scale: the same steps on 1x, 10x and 100x the real dataset's rows in synthetic
  full-history extracts re-issuing the same dates.

``--check`` exits 1 when an acceptance ratio is missed (ours within 1.5x fastexcel's time
and 1.25x its memory, at least 5x the pandas loader's rows per second); by default the
verdicts are printed only.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import math
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bench.contenders import CONTENDERS
from bench.measure import Measurement, StepFailedError, run_measured
from bench.pipeline import (
    BIN,
    REAL_CSV,
    REPO_ROOT,
    Step,
    Workspace,
    ensure_setup,
    make_build_available,
    make_run_steps,
    real_workbooks,
    real_workbooks_step,
    run_steps,
)
from bench.tables import code_state, load_average, machine, markdown_table, mib, rate, seconds
from bench.workbooks import big_workbook, extracts, real_days

BUILD = REPO_ROOT / "build" / "bench"
BENCHMARKS_MD = REPO_ROOT / "BENCHMARKS.md"
BEGIN = "<!-- bench:begin: written by `make bench`; edit outside these markers -->"
END = "<!-- bench:end -->"
MIN_SPEEDUP_OVER_PANDAS = 5.0
MAX_WALL_OVER_FASTEXCEL = 1.5
MAX_PEAK_OVER_FASTEXCEL = 1.25
DESCRIPTIONS = {
    "ours": "`dap load` (container check, PII scan, typing, landing, Parquet, manifest, audit)",
    "fastexcel": "fastexcel to Arrow + `pyarrow.parquet.write_table`, no check",
    "polars": "`polars.read_excel` (calamine) + `write_parquet`, no check",
    "bare": "python-calamine `to_python()`, untyped",
    "pandas": "pandas `read_excel` (openpyxl) + casts + lineage + pyarrow Parquet",
}
PARSE_TO_ARROW = ("fastexcel", "polars")
"""The contenders whose parse ends in Arrow (or a frame over it): the fastest is the floor."""


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class Contender:
    name: str
    rows: int
    seconds: float
    cpu_seconds: float
    process: Measurement
    parse_seconds: float | None = None


@dataclass(frozen=True)
class LoaderResult:
    rows: int
    workbook: Path
    contenders: dict[str, Contender]

    stages: dict[str, float]

    @property
    def speedup_over_pandas(self) -> float:
        return self.contenders["pandas"].seconds / self.contenders["ours"].seconds

    @property
    def wall_over_fastexcel(self) -> float:
        return self.contenders["ours"].seconds / self.contenders["fastexcel"].seconds

    @property
    def peak_over_fastexcel(self) -> float:
        ours, peer = self.contenders["ours"].process, self.contenders["fastexcel"].process
        return ours.peak_memory_mib / peer.peak_memory_mib

    @property
    def floor(self) -> Contender:
        """The fastest parse to Arrow."""
        timed = [self.contenders[n] for n in PARSE_TO_ARROW if self.contenders[n].parse_seconds]
        return min(timed, key=lambda c: c.parse_seconds or 0.0)

    def checks(self) -> list[tuple[str, bool]]:
        """Each acceptance ratio in words, and whether it is met."""
        return [
            (
                f"ours vs fastexcel to Parquet: **{self.wall_over_fastexcel:.2f}x** the time "
                f"(acceptance: within {MAX_WALL_OVER_FASTEXCEL}x)",
                self.wall_over_fastexcel <= MAX_WALL_OVER_FASTEXCEL,
            ),
            (
                f"ours vs fastexcel to Parquet: **{self.peak_over_fastexcel:.2f}x** the peak "
                f"memory of the process tree (acceptance: within {MAX_PEAK_OVER_FASTEXCEL}x)",
                self.peak_over_fastexcel <= MAX_PEAK_OVER_FASTEXCEL,
            ),
            (
                f"ours vs pandas + openpyxl: **{self.speedup_over_pandas:.1f}x** the rows per "
                f"second (acceptance: at least {MIN_SPEEDUP_OVER_PANDAS:.0f}x)",
                self.speedup_over_pandas >= MIN_SPEEDUP_OVER_PANDAS,
            ),
        ]

    @property
    def accepted(self) -> bool:
        return all(met for _, met in self.checks())


LOADER_RUNS = 3
"""Timed runs of each contender but pandas (whose run takes most of a minute and whose ratio
has a wide margin), in rounds, so that every contender meets the machine's moments alike."""
ONCE = ("pandas",)


def _run_contender(
    name: str, workbook: Path, rows: int, run: str, *, sample_memory: bool
) -> Contender:
    workdir = BUILD / "loader" / name
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    result = workdir / "result.json"
    command = [BIN / "python", "-m", "bench.contenders", name, workbook, workdir, result]

    def measured(log: str) -> Measurement:
        return run_measured(command, log=workdir / log, cwd=REPO_ROOT, sample_memory=sample_memory)

    try:
        process = measured(f"log-{run}.txt")
    except StepFailedError as failed:
        # Once: pyarrow with pandas has been seen to abort at exit ("terminate called
        # without an active exception") after a complete run. Said, then run again.
        say(f"  {name} ({run}) failed, run again: {str(failed).splitlines()[0]}")
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        process = measured(f"log-{run}-again.txt")
    outcome = json.loads(result.read_text())
    if outcome["rows"] != rows:
        raise SystemExit(f"{name} read {outcome['rows']:,} rows, expected {rows:,}")
    took = outcome["seconds"]
    say(f"  {name} ({run}): {took:.2f} s, {rate(rows, took)} rows/s")
    return Contender(
        name,
        outcome["rows"],
        outcome["seconds"],
        outcome["cpu_seconds"],
        process,
        outcome.get("parse_seconds"),
    )


def _median_run(runs: list[Contender], memory: Contender) -> Contender:
    """The timed run with the median seconds, with the process tree's memory of the run
    that sampled it."""
    chosen = sorted(runs, key=lambda c: c.seconds)[len(runs) // 2]
    process = replace(chosen.process, peak_tree_mib=memory.process.peak_tree_mib)
    return replace(chosen, process=process)


def bench_loader(rows: int, runs: int = LOADER_RUNS) -> LoaderResult:
    say(f"loader: {rows:,}-row workbook, {runs} timed run(s) of each contender but pandas")
    started = time.perf_counter()
    workbook = big_workbook(BUILD / "workbooks", rows)
    say(f"  workbook {workbook.relative_to(REPO_ROOT)} ({time.perf_counter() - started:.1f} s)")
    workbook.read_bytes()  # in the page cache for every contender alike
    timed: dict[str, list[Contender]] = {n: [] for n in CONTENDERS if n not in ONCE}
    for run in range(1, runs + 1):
        for name, found in timed.items():
            found.append(_run_contender(name, workbook, rows, f"run {run}", sample_memory=False))
    results = {}
    for name in CONTENDERS:
        memory = _run_contender(name, workbook, rows, "memory", sample_memory=True)
        results[name] = _median_run(timed.get(name) or [memory], memory)
    say("  ours, stage by stage ...")
    stages_json = BUILD / "loader" / "stages.json"
    run_measured(
        [BIN / "python", "-m", "bench.stages", workbook, stages_json],
        log=BUILD / "loader" / "stages-log.txt",
        cwd=REPO_ROOT,
    )
    return LoaderResult(rows, workbook, results, json.loads(stages_json.read_text()))


def loader_table(result: LoaderResult) -> str:
    rows = []
    for name in ("ours", "fastexcel", "polars", "bare", "pandas"):
        c = result.contenders[name]
        rows.append(
            [
                name,
                DESCRIPTIONS[name],
                f"{c.rows:,}",
                seconds(c.seconds),
                seconds(c.parse_seconds) if c.parse_seconds is not None else "",
                rate(c.rows, c.seconds),
                seconds(c.cpu_seconds),
                seconds(c.process.wall_s),
                mib(c.process.peak_rss_mib),
                mib(c.process.peak_memory_mib),
            ]
        )
    header = ["loader", "what it does", "rows", "seconds", "of which parse", "rows/s", "CPU s"]
    header += ["process s", "largest process RSS MiB", "process tree PSS MiB"]
    aligned = [False, False, True, True, True, True, True, True, True, True]
    table = markdown_table(header, rows, aligned)
    floor = result.floor
    ours = result.contenders["ours"]
    met = {True: "met", False: "NOT met"}
    lines = [f"- {text}: {met[ok]}" for text, ok in result.checks()]
    lines.append(
        f"- the floor, the fastest parse to Arrow ({floor.name}): "
        f"{seconds(floor.parse_seconds or 0.0)} s; ours takes "
        f"{ours.seconds / (floor.parse_seconds or 1.0):.2f}x that for the whole load"
    )
    stage_rows = [[name, seconds(value)] for name, value in result.stages.items()]
    stages = markdown_table(
        ["stage of ours (each alone, one process)", "seconds"], stage_rows, [False, True]
    )
    return f"{table}\n\n" + "\n".join(lines) + f"\n\n{stages}"


@dataclass(frozen=True)
class PipelineResult:
    dataset: str
    rows: int
    workbooks: int
    cold: list[Step]
    again: list[Step]
    dbt_step: str


def _landed_rows(lake: Path) -> int:
    manifests = (lake / "_manifests").rglob("*.json")
    return sum(int(json.loads(m.read_text())["rows"]) for m in manifests)


def bench_pipeline() -> PipelineResult:
    workspace = Workspace(BUILD / "pipeline")
    workspace.reset()
    folder = workspace.root / "workbooks"
    if REAL_CSV.is_file():
        dataset = f"the real dataset ({REAL_CSV.name}), as yearly workbooks plus the full export"
        step = real_workbooks_step(folder)

        def workbooks() -> list[Path]:
            return real_workbooks(folder)
    else:
        dataset = f"the sample (`dap sample`): the real dataset is not at {REAL_CSV}"
        step = [str(BIN / "dap"), "sample", "--out", str(folder)]

        def workbooks() -> list[Path]:
            return sorted(folder.glob("*.xls")) + sorted(folder.glob("*.xlsx"))

    say(f"pipeline: {dataset}")
    steps = make_run_steps(step, workbooks, workspace)
    cold = run_steps(steps, workspace, "cold", say)
    again = run_steps(steps, workspace, "again", say)
    dbt_step = (
        "`make build` (`dap build`: no dbt when nothing is new, else dbt source freshness "
        "and a dbt build of what changed), as `make run`"
        if make_build_available()
        else "`dbt build`"
    )
    return PipelineResult(
        dataset, _landed_rows(workspace.lake), len(workbooks()), cold, again, dbt_step
    )


def pipeline_table(result: PipelineResult) -> str:
    rows = []
    for cold, again in zip(result.cold, result.again, strict=True):
        rows.append(
            [
                cold.name,
                seconds(cold.measurement.wall_s),
                mib(cold.measurement.peak_rss_mib),
                seconds(again.measurement.wall_s),
                mib(again.measurement.peak_rss_mib),
            ]
        )
    rows.append(
        [
            "**all steps**",
            seconds(sum(s.measurement.wall_s for s in result.cold)),
            mib(max(s.measurement.peak_rss_mib for s in result.cold)),
            seconds(sum(s.measurement.wall_s for s in result.again)),
            mib(max(s.measurement.peak_rss_mib for s in result.again)),
        ]
    )
    header = ["step", "cold s", "cold peak MiB", "nothing new s", "nothing new peak MiB"]
    return (
        f"Data: {result.dataset}: {result.workbooks} workbooks, {result.rows:,} rows landed. "
        f"The dbt build step runs {result.dbt_step}.\n\n"
        + markdown_table(header, rows, [False, True, True, True, True])
    )


@dataclass(frozen=True)
class ScalePoint:
    factor: int
    rows: int
    extracts: int
    steps: list[Step]

    def wall(self, name: str) -> float:
        return sum(s.measurement.wall_s for s in self.steps if s.name == name)

    def peak(self, name: str) -> float:
        return max((s.measurement.peak_rss_mib for s in self.steps if s.name == name), default=0)

    @property
    def total(self) -> float:
        return sum(s.measurement.wall_s for s in self.steps)


def bench_scale(factors: Sequence[int]) -> list[ScalePoint]:
    points: list[ScalePoint] = []
    days = len(real_days())
    for factor in factors:
        say(f"scale: {factor}x the real rows ({factor * days:,} rows in {factor} extract(s))")
        started = time.perf_counter()
        paths = extracts(BUILD / "extracts", factor)
        say(f"  extracts ready ({time.perf_counter() - started:.1f} s)")
        workspace = Workspace(BUILD / f"scale-{factor}x")
        workspace.reset()
        steps = run_steps(
            make_run_steps(None, functools.partial(list, paths), workspace),
            workspace,
            f"{factor}x",
            say,
        )
        rows = _landed_rows(workspace.lake)
        points.append(ScalePoint(factor, rows, len(paths), steps))
    return points


def scale_table(points: Sequence[ScalePoint]) -> str:
    rows = []
    for point in points:
        load, build = point.wall("dap load"), point.wall("dbt build")
        rest = point.total - load - build
        rows.append(
            [
                f"{point.factor}x",
                f"{point.extracts}",
                f"{point.rows:,}",
                seconds(load),
                rate(point.rows, load),
                mib(point.peak("dap load")),
                seconds(build),
                rate(point.rows, build),
                mib(point.peak("dbt build")),
                seconds(rest),
                seconds(point.total),
            ]
        )
    header = ["size", "extracts", "rows", "load s", "load rows/s", "load peak MiB"]
    header += ["dbt build s", "dbt rows/s", "dbt peak MiB", "summary + report s", "total s"]
    table = markdown_table(header, rows, [False] + [True] * 10)
    lines = []
    for small, large in itertools.pairwise(points):
        growth = large.rows / small.rows
        parts = []
        for label, t_small, t_large in (
            ("load", small.wall("dap load"), large.wall("dap load")),
            ("dbt build", small.wall("dbt build"), large.wall("dbt build")),
            ("all steps", small.total, large.total),
        ):
            exponent = math.log(t_large / t_small) / math.log(growth)
            parts.append(f"{label} {t_large / t_small:.1f}x (time ~ rows^{exponent:.2f})")
        lines.append(
            f"- {small.factor}x -> {large.factor}x ({growth:.0f}x the rows): " + ", ".join(parts)
        )
    return table + "\n\n" + "\n".join(lines)


def results_block(
    command: str,
    code: str,
    started: datetime,
    elapsed: float,
    load_before: str,
    sections: Sequence[tuple[str, str]],
) -> str:
    facts = [("date", started.strftime("%Y-%m-%d %H:%M UTC")), ("command", f"`{command}`")]
    facts.append(("code", code))
    facts += machine()
    facts += [
        ("load average", f"{load_before} before, {load_average()} after (1, 5, 15 min)"),
        ("duration", f"{elapsed / 60:.1f} min"),
    ]
    lines = [BEGIN, "", *(f"- **{key}**: {value}" for key, value in facts), ""]
    for title, body in sections:
        lines += [f"### {title}", "", body, ""]
    return "\n".join([*lines, END])


def write_benchmarks_md(block: str) -> None:
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.is_file() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(text)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--loader-rows",
        type=int,
        default=1_000_000,
        metavar="N",
        help="rows of the loader benchmark's workbook (default 1,000,000; the workbook is "
        "made once and cached in build/bench/workbooks/)",
    )
    parser.add_argument(
        "--scale",
        default="1,10,100",
        help="sizes as multiples of the real dataset's rows (default 1,10,100)",
    )
    parser.add_argument(
        "--only",
        choices=("loader", "pipeline", "scale"),
        action="append",
        help="run only these benchmarks (repeatable); BENCHMARKS.md is then left alone",
    )
    parser.add_argument(
        "--loader-runs",
        type=int,
        default=LOADER_RUNS,
        metavar="N",
        help=f"runs of each loader contender but pandas, in rounds; each figure is the "
        f"median run's (default {LOADER_RUNS})",
    )
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if an acceptance ratio is missed"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    only = set(args.only or ("loader", "pipeline", "scale"))
    factors = [int(f) for f in args.scale.split(",") if f.strip()]
    command = "make bench" if not argv else "python -m bench " + " ".join(argv)
    started, clock = datetime.now(UTC), time.perf_counter()
    load_before = load_average()
    code = code_state(REPO_ROOT)  # before the runs: the tree may change while they go on
    BUILD.mkdir(parents=True, exist_ok=True)

    sections: list[tuple[str, str]] = []
    loader: LoaderResult | None = None
    if "loader" in only:
        loader = bench_loader(args.loader_rows, args.loader_runs)
        sections.append(
            (
                f"Loader: one workbook of {loader.rows:,} rows, `.xlsx` to raw Parquet",
                loader_table(loader),
            )
        )
        say(f"\n{sections[-1][1]}\n")
    if only & {"pipeline", "scale"}:
        ensure_setup()
    if "pipeline" in only:
        pipeline = bench_pipeline()
        sections.append(("Pipeline: `make run`'s steps, setup excluded", pipeline_table(pipeline)))
        say(f"\n{sections[-1][1]}\n")
    if "scale" in only:
        points = bench_scale(factors)
        title = "Scale: the same steps on synthetic extracts, " + ", ".join(
            f"{f}x" for f in factors
        )
        sections.append((title + " the real size", scale_table(points)))
        say(f"\n{sections[-1][1]}\n")

    elapsed = time.perf_counter() - clock
    block = results_block(command, code, started, elapsed, load_before, sections)
    say(block.replace(BEGIN, "").replace(END, "").strip())
    if not args.no_write and args.only is None:
        write_benchmarks_md(block)
        say(f"\nwritten to {BENCHMARKS_MD.relative_to(REPO_ROOT)}")
    say(f"make bench: {elapsed / 60:.1f} min")
    if args.check and loader is not None and not loader.accepted:
        say("acceptance: NOT met (see the loader table)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
