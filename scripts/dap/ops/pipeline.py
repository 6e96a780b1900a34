"""``dap pipeline``: from the portal's export to the published page, building only when
something is new.

1. fetch the export (:func:`dap.ingest.fetch.fetch_export`) into a temporary folder;
2. load it (:func:`dap.lake.load.load_workbooks`): an export already landed is skipped;
3. decide (:mod:`dap.ops._build_state`): a ``dbt build`` is needed when the lake holds an
   extract or an event the last successful build did not read, when the dbt project's
   files changed, or when there is no record of a build; otherwise no dbt process starts;
4. ``dbt build`` (a child process, from the project's folder, with the lake as
   ``DAP_LAKE``; the target is dbt's: ``DBT_TARGET`` or the profile's default), then the
   state record, written only after a build that succeeded;
5. render the report (:func:`dap.publish.report.render_report`) from the marts (the local
   warehouse, or Athena's, copied first by :mod:`dap.ops._athena_marts`), then publish it:
   every file is rendered before the first one is written, the page goes last, and on
   ``s3://`` each file carries its content type, a ``Cache-Control`` header and SSE-KMS;
6. on an ``s3://`` lake, the load's and the build's CloudWatch metrics
   (:mod:`dap.ops.metrics`).

With nothing new and the page already published where asked, the run ends after step 3
with "nothing new: ...", exit status 0.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dap.errors import DapError
from dap.ops._build_state import (
    BuildInputs,
    BuildState,
    build_reasons,
    lake_inputs,
    manifest_adapter,
    project_sha256,
    read_state,
    write_state,
)

if TYPE_CHECKING:
    import boto3

    from dap.ingest.exports import ExportFormat
    from dap.lake.audit import Identity
    from dap.lake.catalog import GlueCatalog
    from dap.lake.load import LoadSummary
    from dap.lake.storage import Lake
    from dap.ops.metrics import Measurement
    from dap.publish.report import ReportFile

Progress = Callable[[str], None]
DbtRunner = Callable[[Sequence[str], Path, Mapping[str, str]], int]
"""Runs dbt with these arguments in this folder with this environment; its exit status."""

CACHE_CONTROL = {
    "text/html": "public, max-age=300",
    "text/csv": "public, max-age=300",
    "image/png": "public, max-age=3600",
}
"""A site's caches: the page and its data refresh within minutes of a publication; the
chart, which changes with them, within the hour."""
DEFAULT_CACHE_CONTROL = "public, max-age=300"


@dataclass(frozen=True)
class PipelineConfig:
    url: str
    export_format: ExportFormat
    lake_uri: str
    publish_uri: str
    project_dir: Path
    dbt_command: tuple[str, ...]
    dbt_target: str
    dbt_target_path: Path
    """Where dbt writes run_results.json and manifest.json (relative: to the project)."""
    dbt_env: Mapping[str, str]
    pii: str = "stop"
    publish_kms_key_id: str | None = None
    allow_unprotected: bool = False
    athena_output_location: str | None = None
    athena_work_group: str = "primary"
    timeout: float = 60.0
    retries: int = 4


@dataclass
class BuildOutcome:
    reasons: list[str]
    counts: dict[str, int]
    adapter: str
    elapsed: float


@dataclass
class PipelineResult:
    publish_uri: str = ""
    fetched: str = ""
    fetched_sha256: str = ""
    fetched_bytes: int = 0
    load: LoadSummary | None = None
    nothing_new: bool = False
    build: BuildOutcome | None = None
    published: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One screen: what was fetched, landed, built and published."""
        lines = []
        if self.nothing_new:
            lines.append(
                f"nothing new: {self.fetched} (sha256 {self.fetched_sha256[:12]}) is already "
                f"landed, built and published to {self.publish_uri}; "
                "no dbt process started"
            )
        lines.append(
            f"fetched:   {self.fetched} ({self.fetched_bytes:,} bytes, "
            f"sha256 {self.fetched_sha256[:12]})"
        )
        if self.load is not None:
            lines.append(f"loaded:    {self.load.describe()}")
        if self.build is not None:
            counts = ", ".join(f"{n} {status}" for status, n in sorted(self.build.counts.items()))
            lines.append(
                f"built:     dbt build on {self.build.adapter} in {self.build.elapsed:.0f} s: "
                f"{counts or 'no nodes'}"
            )
            lines.append(f"           because {'; '.join(self.build.reasons)}")
        else:
            lines.append("built:     nothing (no dbt process started)")
        if self.published:
            lines.append(f"published: {len(self.published)} file(s) to {_folder(self.published)}")
            lines += [f"           {uri}" for uri in self.published]
        else:
            lines.append("published: nothing")
        if self.metrics:
            lines.append(f"metrics:   {'; '.join(self.metrics)}")
        lines += [f"note:      {note}" for note in self.notes]
        return "\n".join(lines)


def _folder(uris: Sequence[str]) -> str:
    return uris[0].rsplit("/", 1)[0] if uris else ""


def find_dbt(configured: str | None) -> tuple[str, ...]:
    """The dbt executable: DAP_DBT, else ``dbt`` on PATH, else the one beside this Python."""
    if configured:
        return (configured,)
    found = shutil.which("dbt") or shutil.which("dbt", path=str(Path(sys.executable).parent))
    if found is None:
        raise DapError(
            "dbt not found on PATH nor beside this Python; install dap with dbt "
            "(pip install '.[dbt]', or make setup) or set DAP_DBT to the dbt executable"
        )
    return (found,)


def run_dbt_subprocess(args: Sequence[str], cwd: Path, env: Mapping[str, str]) -> int:
    """dbt as a child process, its output on our stderr (stdout holds the summary)."""
    try:
        completed = subprocess.run(
            list(args), cwd=cwd, env=dict(env), stdout=sys.stderr, check=False
        )
    except OSError as exc:
        raise DapError(
            f"cannot start {args[0]}: {exc.strerror or exc}; set DAP_DBT to the dbt executable"
        ) from exc
    return completed.returncode


def run_pipeline(
    config: PipelineConfig,
    lake: Lake,
    *,
    progress: Progress,
    catalog: GlueCatalog | None = None,
    identify: Callable[[], Identity] | None = None,
    session: boto3.Session | None = None,
    run_dbt: DbtRunner = run_dbt_subprocess,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PipelineResult:
    """Fetch, load, build if needed, report, publish; see the module's docstring.
    ``session``: the AWS session of an ``s3://`` lake (Athena, CloudWatch, the site bucket).
    Raises DapError naming the step that failed and what to do."""
    from dap.ingest.fetch import fetch_export  # noqa: PLC0415
    from dap.lake.audit import local_identity  # noqa: PLC0415
    from dap.lake.load import load_workbooks  # noqa: PLC0415

    result = PipelineResult(publish_uri=config.publish_uri)
    on_s3 = config.lake_uri.startswith("s3://")
    project = project_sha256(config.project_dir)  # a wrong folder fails before any download
    with tempfile.TemporaryDirectory(prefix="dap-pipeline-") as scratch:
        work = Path(scratch)
        progress(f"[1/5] fetching {config.url}")
        path = fetch_export(
            work / "export",
            config.url,
            export_format=config.export_format,
            timeout=config.timeout,
            retries=config.retries,
            progress=progress,
        )
        data = path.read_bytes()
        result.fetched = path.name
        result.fetched_sha256 = hashlib.sha256(data).hexdigest()
        result.fetched_bytes = len(data)

        progress(f"[2/5] loading {path.name} into {lake.uri}")
        try:
            result.load = load_workbooks(
                [path],
                lake,
                progress=progress,
                catalog=catalog,
                pii="mask" if config.pii == "mask" else "stop",
                identify=identify or local_identity,
            )
        except DapError as exc:
            if on_s3 and session is not None:
                from dap.ops.metrics import failed_load  # noqa: PLC0415

                _send_metrics(session, failed_load(now()), result)
            raise DapError(
                f"load failed, nothing built or published: {exc}. Correct the export (or wait "
                "for the City to re-issue it) and run dap pipeline again"
            ) from exc

        progress("[3/5] comparing the lake with the last build")
        inputs = lake_inputs(lake, config.dbt_target, project)
        last = read_state(lake)
        reasons = build_reasons(inputs, last, config.lake_uri)
        if not reasons and last is not None and config.publish_uri in last.published_to:
            result.nothing_new = True
            result.notes.append(
                f"the lake and the dbt project are as the build of {last.built_at} read them"
            )
            _load_metrics(session, lake, result, on_s3)
            return result
        if reasons:
            state = _build(config, inputs, reasons, result, progress, run_dbt, session, on_s3, now)
            write_state(lake, state)
        else:
            assert last is not None
            state = last
            progress(f"[4/5] nothing new to build; publishing the build of {last.built_at}")

        progress(f"[5/5] rendering the report and publishing it to {config.publish_uri}")
        files = _render(config, lake, state, work, progress, session, now)
        result.published = _publish(config, files, session, progress)
        write_state(lake, state.published(config.publish_uri))
    _load_metrics(session, lake, result, on_s3)
    return result


def _target_path(config: PipelineConfig) -> Path:
    path = config.dbt_target_path
    return path if path.is_absolute() else config.project_dir / path


def _build(
    config: PipelineConfig,
    inputs: BuildInputs,
    reasons: list[str],
    result: PipelineResult,
    progress: Progress,
    run_dbt: DbtRunner,
    session: boto3.Session | None,
    on_s3: bool,
    now: Callable[[], datetime],
) -> BuildState:
    target = _target_path(config)
    run_results = target / "run_results.json"
    run_results.unlink(missing_ok=True)  # what we read next is this build's
    progress(f"[4/5] dbt build (target {config.dbt_target}) because {'; '.join(reasons)}")
    started = now()
    status = run_dbt([*config.dbt_command, "build"], config.project_dir, config.dbt_env)
    elapsed = (now() - started).total_seconds()
    counts = _counts(run_results)
    adapter = manifest_adapter(target / "manifest.json") or config.dbt_target
    result.build = BuildOutcome(reasons, counts, adapter, elapsed)
    if on_s3 and session is not None and run_results.is_file():
        from dap.ops.metrics import from_run_results  # noqa: PLC0415

        _send_metrics(session, from_run_results(run_results), result)
    if status != 0:
        shown = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no run results"
        raise DapError(
            f"dbt build failed (exit status {status}; {shown}): nothing was published and the "
            f"next run builds again. Read dbt's output above or {run_results}, fix the cause "
            "(a failing test names its model), then run dap pipeline again"
        )
    progress(f"dbt build passed: {', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}")
    return BuildState(inputs, now().isoformat(timespec="seconds"), adapter)


def _counts(run_results: Path) -> dict[str, int]:
    """dbt's statuses, counted: pass, success, warn, error, fail, skipped."""
    if not run_results.is_file():
        return {}
    try:
        nodes = json.loads(run_results.read_text())["results"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    counts: dict[str, int] = {}
    for node in nodes:
        status = str(node.get("status"))
        counts[status] = counts.get(status, 0) + 1
    return counts


def _render(
    config: PipelineConfig,
    lake: Lake,
    state: BuildState,
    work: Path,
    progress: Progress,
    session: boto3.Session | None,
    now: Callable[[], datetime],
) -> list[ReportFile]:
    """Every file of the report, rendered (and written to the scratch folder) before any
    is published."""
    from dap.publish.report import read_report_data, render_report  # noqa: PLC0415

    if state.adapter == "athena":
        import boto3  # noqa: PLC0415

        from dap.ops._athena_marts import copy_report_tables  # noqa: PLC0415

        warehouse = work / "athena-marts"
        warehouse.mkdir()
        copy_report_tables(
            session or boto3.Session(),
            warehouse,
            output_location=config.athena_output_location,
            work_group=config.athena_work_group,
            progress=progress,
        )
    elif "://" in config.lake_uri:
        raise DapError(
            f"{config.lake_uri}: the report of a {state.adapter} build reads a local "
            "warehouse; use a local lake folder, or DBT_TARGET=athena for an s3:// lake"
        )
    else:
        warehouse = Path(config.lake_uri)
    files = render_report(read_report_data(warehouse), now())
    site = work / "site"
    site.mkdir()
    for file in files:
        (site / file.name).write_bytes(file.data)
    progress(f"rendered {', '.join(f.name for f in files)}")
    return files


def _publish(
    config: PipelineConfig,
    files: Sequence[ReportFile],
    session: boto3.Session | None,
    progress: Progress,
) -> list[str]:
    """The page last, so that it never names a chart or CSV not yet there."""
    from dap.lake.storage import S3Lake, open_lake  # noqa: PLC0415

    out = open_lake(
        config.publish_uri,
        session if config.publish_uri.startswith("s3://") else None,
        kms_key_id=config.publish_kms_key_id,
        allow_unprotected=config.allow_unprotected,
    )
    try:
        out.check_ready()
    except DapError as exc:
        raise DapError(
            f"cannot publish to {config.publish_uri}: {exc}; the build is kept, and the next "
            "dap pipeline publishes it without building again"
        ) from exc
    root = out.uri.rstrip("/")
    ordered = sorted(files, key=lambda f: f.content_type.startswith("text/html"))
    written = []
    for file in ordered:
        if isinstance(out, S3Lake):
            kind = file.content_type.split(";")[0].strip()
            cache = CACHE_CONTROL.get(kind, DEFAULT_CACHE_CONTROL)
            out.write_bytes(file.name, file.data, file.content_type, cache_control=cache)
        else:
            out.write_bytes(file.name, file.data, file.content_type)
        written.append(f"{root}/{file.name}")
        progress(f"published {root}/{file.name}")
    return written


def _load_metrics(
    session: boto3.Session | None, lake: Lake, result: PipelineResult, on_s3: bool
) -> None:
    if not on_s3 or session is None or result.load is None or result.load.audit_key is None:
        return
    from dap.lake.audit import read_record  # noqa: PLC0415
    from dap.ops.metrics import from_audit_record  # noqa: PLC0415

    key = result.load.audit_key
    _send_metrics(session, from_audit_record(read_record(lake, key), f"{lake.uri} {key}"), result)


def _send_metrics(session: boto3.Session, measurement: Measurement, result: PipelineResult) -> None:
    from dap.ops.metrics import NAMESPACE, publish  # noqa: PLC0415

    publish(session.client("cloudwatch"), measurement, NAMESPACE)
    result.metrics.append(
        f"{len(measurement.metrics)} {measurement.stage} metric(s) to CloudWatch {NAMESPACE}"
    )
