"""``dap cost``: what the platform costs a month and a year on AWS, from measured figures.

Measured: the bytes and objects in each zone of the lake (landing, raw, curated, trusted)
and in Athena's results location, with the noncurrent versions S3 keeps of them; the bytes
each query of the last dbt build scanned (``adapter_response.data_scanned_in_bytes`` in
dbt's ``run_results.json``, as Athena reports it); on S3, the Glue catalog's objects.
Everything else is an assumption, and :class:`Estimate` carries each one in words, so that
the command prints them beside the figures. Prices come from a dated price file
(``prices/aws-<region>-<yyyy-mm>.json``), each price with its source page.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dap.errors import DapError

if TYPE_CHECKING:
    import boto3

PRICES_DIR = Path(__file__).parent / "prices"
MEGABYTE = 1024 * 1024
GIGABYTE = 1024 * MEGABYTE
TERABYTE = 1024 * GIGABYTE
ATHENA_MINIMUM_BYTES = 10 * MEGABYTE
ZONES = ("landing", "raw", "curated", "trusted", "results")
ZONE_OF_TOP_FOLDER = {
    "landing": "landing",
    "_audit": "landing",
    "raw": "raw",
    "_manifests": "raw",
    "curated": "curated",
    "trusted": "trusted",
}
"""Which zone a top-level folder of the lake belongs to (dap.lake.storage.ZONE_OF_PREFIX,
plus the prefixes dbt-athena writes the curated and trusted tables under)."""

# Assumptions, each printed where it is used (infra/platform.yaml for the infra ones).
NONCURRENT_DAYS = 90
"""infra/platform.yaml NoncurrentVersionExpirationDays: replaced versions kept 90 days."""
CLOUDWATCH_ALARMS = 4
"""infra/platform.yaml: four AWS::CloudWatch::Alarm resources."""
CUSTOM_METRICS = (
    "load: RowsLanded, FilesLanded, DurationSeconds, Failures",
    "dbt: Failures, TestFailures, Warnings, DurationSeconds, RowsQuarantined",
)
"""What `dap metrics` publishes, one metric per name and Stage (dap.ops.metrics)."""
CUSTOM_METRIC_COUNT = 9
GLUE_REQUESTS_PER_QUERY = 3
"""Athena's own catalog calls per query (GetDatabase, GetTable, GetPartitions)."""
GLUE_REQUESTS_PER_NODE = 10
"""dbt-athena's Glue calls per model (get/update/delete table, partitions, columns)."""
RESULT_OBJECTS_PER_QUERY = 2
"""Athena writes a result file and its .metadata per query."""


# prices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    key: str
    usd: float
    per: str
    units: float  # how many of the quantity's units `usd` buys: 1,000 requests -> 1000
    free_per_month: float
    source: str
    as_of: str


@dataclass(frozen=True)
class PriceBook:
    path: Path
    region: str
    as_of: str
    prices: Mapping[str, Price]
    design_per_year: Mapping[str, float]

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]


def _units(per: str) -> float:
    """``'1,000 requests'`` -> 1000.0; ``'GB-month'`` -> 1.0."""
    first = per.split(" ", 1)[0].replace(",", "")
    return float(first) if first.replace(".", "", 1).isdigit() else 1.0


def newest_price_file(directory: Path = PRICES_DIR) -> Path:
    files = sorted(directory.glob("aws-*.json"))
    if not files:
        raise DapError(f"{directory}: no price file (aws-<region>-<yyyy-mm>.json)")
    return files[-1]


def load_prices(path: Path | None = None) -> PriceBook:
    path = path or newest_price_file()
    try:
        document = json.loads(path.read_text())
        prices = {
            key: Price(
                key=key,
                usd=float(entry["usd"]),
                per=str(entry["per"]),
                units=_units(str(entry["per"])),
                free_per_month=float(entry.get("free_per_month", 0)),
                source=str(entry["source"]),
                as_of=str(entry["as_of"]),
            )
            for key, entry in document["prices"].items()
        }
        design = {
            str(k): float(v)
            for k, v in document.get("design_estimate_per_year", {}).get("usd", {}).items()
        }
        return PriceBook(path, str(document["region"]), str(document["as_of"]), prices, design)
    except OSError as exc:
        raise DapError(f"{path}: cannot read the price file ({exc.strerror})") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DapError(
            f"{path}: not a price file ({exc!r}); each price needs usd, per, source, as_of"
        ) from exc


def charge(price: Price, quantity: float) -> float:
    """USD for ``quantity`` units in a month, after the monthly free allowance."""
    billable = max(quantity - price.free_per_month, 0.0)
    return billable / price.units * price.usd


def athena_billed_bytes(scanned: int) -> int:
    """What Athena bills for a query that scanned data: rounded up to the megabyte, at
    least 10 MB. (A query reporting 0 bytes is DDL or read no table: see :func:`scan_of`.)"""
    return max(math.ceil(max(scanned, 0) / MEGABYTE) * MEGABYTE, ATHENA_MINIMUM_BYTES)


# measurements ---------------------------------------------------------------------------


@dataclass
class ZoneUsage:
    zone: str
    locations: list[str] = field(default_factory=list)
    objects: int = 0
    current_bytes: int = 0
    noncurrent_versions: int = 0
    noncurrent_bytes: int = 0
    folders: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class BuildScan:
    """The Athena queries of one dbt invocation, from its run_results.json."""

    source: str
    nodes: int
    queries: int  # nodes that reported bytes scanned > 0: billed
    free_nodes: int  # reported 0 (views are DDL; unit tests and the like read no table)
    scanned_bytes: int
    billed_bytes: int
    models: int


def scan_of(run_results: Mapping[str, Any], source: str) -> BuildScan:
    try:
        results = list(run_results["results"])
    except (KeyError, TypeError) as exc:
        raise DapError(f"{source}: not dbt's run_results.json (no results)") from exc
    scanned = [
        int(r["adapter_response"]["data_scanned_in_bytes"] or 0)
        for r in results
        if (r.get("adapter_response") or {}).get("data_scanned_in_bytes") is not None
    ]
    if not scanned:
        raise DapError(
            f"{source}: no data_scanned_in_bytes in any result: not a dbt-athena run "
            "(build on the athena target, or on the local endpoint: make run-athena)"
        )
    billed = [n for n in scanned if n > 0]
    models = sum(1 for r in results if str(r.get("unique_id", "")).startswith("model."))
    return BuildScan(
        source=source,
        nodes=len(scanned),
        queries=len(billed),
        free_nodes=len(scanned) - len(billed),
        scanned_bytes=sum(scanned),
        billed_bytes=sum(athena_billed_bytes(n) for n in billed),
        models=models,
    )


def read_run_results(path: Path) -> BuildScan:
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise DapError(
            f"{path}: cannot read dbt's run results ({exc.strerror}); run `dbt build` on "
            "the athena target first, or give --run-results"
        ) from exc
    except json.JSONDecodeError as exc:
        raise DapError(f"{path}: not JSON ({exc})") from exc
    return scan_of(document, str(path))


def zone_of(key: str) -> str | None:
    return ZONE_OF_TOP_FOLDER.get(key.split("/", 1)[0])


def measure_local(root: Path, usage: dict[str, ZoneUsage]) -> list[str]:
    """Files of a local lake by zone; the DuckDB warehouse stands in for curated + trusted."""
    notes: list[str] = []
    if not root.is_dir():
        raise DapError(f"{root}: no such lake folder (give --lake, or set DAP_LAKE)")
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        key = path.relative_to(root).as_posix()
        zone = zone_of(key)
        if zone is None and path.name == "warehouse.duckdb":
            zone = "trusted"
            notes.append(
                f"local lake: the curated and trusted zones are tables in {key} "
                f"({path.stat().st_size:,} bytes), counted as trusted; on Athena they are "
                "Parquet, usually smaller: measure an s3:// lake for the real figure"
            )
        if zone is None:
            continue
        zone_usage = usage[zone]
        zone_usage.objects += 1
        zone_usage.current_bytes += path.stat().st_size
        zone_usage.folders.add(key.rsplit("/", 1)[0])
        if str(root) not in zone_usage.locations:
            zone_usage.locations.append(str(root))
    notes.append("local lake: no object versions (S3 keeps them; see versions kept below)")
    return notes


def measure_s3(
    session: boto3.Session, uri: str, usage: dict[str, ZoneUsage], *, zone: str | None = None
) -> None:
    """Object versions under an s3:// location, current and noncurrent, by zone (``zone``:
    all of it in one zone; otherwise by top-level folder)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    client = session.client("s3")
    try:
        pages = client.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix=f"{prefix}/" if prefix else ""
        )
        for page in pages:
            for version in page.get("Versions", []):
                key = version["Key"][len(prefix) + 1 :] if prefix else version["Key"]
                found = zone or zone_of(key)
                if found is None:
                    continue
                zone_usage = usage[found]
                if uri not in zone_usage.locations:
                    zone_usage.locations.append(uri)
                if version.get("IsLatest"):
                    zone_usage.objects += 1
                    zone_usage.current_bytes += int(version.get("Size", 0))
                    zone_usage.folders.add(key.rsplit("/", 1)[0])
                else:
                    zone_usage.noncurrent_versions += 1
                    zone_usage.noncurrent_bytes += int(version.get("Size", 0))
    except (ClientError, BotoCoreError) as exc:
        raise DapError(f"{uri}: cannot list object versions: {exc}") from exc


def glue_objects(session: boto3.Session) -> int | None:
    """Databases, tables and partitions in the account's Glue catalog (None: not readable)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    glue = session.client("glue")
    try:
        count = 0
        for page in glue.get_paginator("get_databases").paginate():
            for database in page["DatabaseList"]:
                count += 1
                for tables in glue.get_paginator("get_tables").paginate(
                    DatabaseName=database["Name"]
                ):
                    for table in tables["TableList"]:
                        count += 1
                        if table.get("PartitionKeys"):
                            for parts in glue.get_paginator("get_partitions").paginate(
                                DatabaseName=database["Name"], TableName=table["Name"]
                            ):
                                count += len(parts["Partitions"])
    except (ClientError, BotoCoreError):
        return None
    return count


# the estimate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    runs_per_month: float = 30.0
    loads_per_month: float = 1.0
    page_views_per_month: float = 2000.0
    requests_per_page_view: float = 3.0  # the page, its PNG, its favicon
    bytes_per_page_view: float = 400_000.0  # HTML with the charts' data, and the PNG
    noncurrent_days: float = NONCURRENT_DAYS


@dataclass(frozen=True)
class Line:
    service: str
    monthly: float
    basis: str

    @property
    def yearly(self) -> float:
        return self.monthly * 12


@dataclass
class Estimate:
    lines: list[Line]
    assumptions: list[str]
    prices: PriceBook

    @property
    def monthly(self) -> float:
        return sum(line.monthly for line in self.lines)

    @property
    def yearly(self) -> float:
        return self.monthly * 12


def _gb(n: float) -> float:
    return n / GIGABYTE


def estimate(
    zones: Mapping[str, ZoneUsage],
    scan: BuildScan,
    prices: PriceBook,
    workload: Workload,
    *,
    glue_object_count: int | None = None,
    notes: Iterable[str] = (),
) -> Estimate:
    lines: list[Line] = []
    said: list[str] = list(notes)
    runs, loads = workload.runs_per_month, workload.loads_per_month
    said.append(
        f"{runs:g} dbt builds a month (an upper bound for a nightly pipeline: a night with "
        f"nothing new builds nothing), {loads:g} load(s) of a new export a month"
    )

    # S3 storage, by zone, with the versions kept.
    storage = prices["s3_standard_storage"]
    replaced_per_month = {"raw": loads, "curated": runs, "trusted": runs}
    for zone in ZONES:
        usage = zones.get(zone) or ZoneUsage(zone)
        projected = usage.current_bytes * replaced_per_month.get(zone, 0)
        projected *= workload.noncurrent_days / 30
        kept = max(usage.noncurrent_bytes, int(projected))
        monthly = charge(storage, _gb(usage.current_bytes + kept))
        lines.append(
            Line(
                f"S3 storage, {zone}",
                monthly,
                f"{usage.current_bytes:,} B in {usage.objects:,} objects + {kept:,} B of "
                f"versions kept ({usage.noncurrent_versions:,} noncurrent measured)",
            )
        )
    said.append(
        "versions kept: the larger of the noncurrent versions measured and the steady state, "
        f"where every build replaces every curated and trusted object and every load every raw "
        f"one, each replaced version kept {workload.noncurrent_days:g} days "
        "(infra/platform.yaml NoncurrentVersionExpirationDays); landing is never replaced; "
        "results are counted as measured (they expire after AthenaResultsExpirationDays; the "
        "local endpoint keeps them in memory: 0 there)"
    )

    # S3 requests.
    data = [zones[z] for z in ("raw", "curated", "trusted") if z in zones]
    data_objects = sum(z.objects for z in data)
    data_folders = sum(len(z.folders) for z in data)
    written_per_build = sum(z.objects for z in data if z.zone in ("curated", "trusted"))
    written_per_load = sum(zones[z].objects for z in ("landing", "raw") if z in zones)
    gets = scan.queries * data_objects * runs
    puts = (written_per_build + RESULT_OBJECTS_PER_QUERY * scan.nodes) * runs
    puts += written_per_load * loads
    lists = scan.queries * data_folders * runs
    lines.append(
        Line(
            "S3 requests",
            charge(prices["s3_get_requests"], gets)
            + charge(prices["s3_put_requests"], puts + lists),
            f"{gets:,.0f} GET, {puts:,.0f} PUT, {lists:,.0f} LIST a month",
        )
    )
    said.append(
        "S3 requests, an order of magnitude: each billed query GETs every data object of raw, "
        f"curated and trusted once ({data_objects:,}; Athena reads only the tables it needs, "
        "but a footer and column ranges of each) and LISTs every folder "
        f"({data_folders:,}); each build "
        f"rewrites every curated and trusted object ({written_per_build:,}) and writes "
        f"{RESULT_OBJECTS_PER_QUERY} result objects per query; each load rewrites the landing "
        f"and raw objects ({written_per_load:,})"
    )

    # Athena.
    athena = prices["athena_scanned"]
    billed_tb = scan.billed_bytes * runs / TERABYTE
    lines.append(
        Line(
            "Athena",
            billed_tb * athena.usd,
            f"{scan.queries} queries a build scanning {scan.scanned_bytes:,} B, billed "
            f"{scan.billed_bytes:,} B (10 MB minimum each) x {runs:g} builds",
        )
    )
    said.append(
        f"Athena: the bytes each query of the last build scanned ({scan.source}); "
        f"{scan.free_nodes} nodes reported 0 bytes and are counted free (views are DDL; "
        "unit tests read no table); "
        "dbt's run results hold one query per node: the catalog calls dbt-athena makes besides "
        "are Glue requests, not Athena queries"
    )

    # Glue Data Catalog.
    if glue_object_count is None:
        glue_object_count = scan.models + sum(len(z.folders) for z in data) + 4
        said.append(
            "Glue objects: not measured (a local lake, or no catalog access): estimated as one "
            "per model and per data folder, plus the databases"
        )
    glue_requests = (
        scan.nodes * GLUE_REQUESTS_PER_QUERY + scan.models * GLUE_REQUESTS_PER_NODE
    ) * runs
    lines.append(
        Line(
            "Glue Data Catalog",
            charge(prices["glue_catalog_objects"], glue_object_count)
            + charge(prices["glue_catalog_requests"], glue_requests),
            f"{glue_object_count:,} objects, {glue_requests:,.0f} requests a month "
            "(first million of each free)",
        )
    )
    said.append(
        f"Glue requests: {GLUE_REQUESTS_PER_QUERY} per query (Athena's catalog look-ups) and "
        f"{GLUE_REQUESTS_PER_NODE} per model (dbt-athena's table and partition calls)"
    )

    # KMS.
    zone_requests = gets + puts
    lines.append(
        Line(
            "KMS",
            charge(prices["kms_key"], 1) + charge(prices["kms_requests"], zone_requests),
            f"1 key, up to {zone_requests:,.0f} requests a month (20,000 free)",
        )
    )
    said.append(
        "KMS: one customer managed key for every zone; requests: at most one per S3 object "
        "GET or PUT (S3 Bucket Keys, on in infra/platform.yaml, cut this by a large factor)"
    )

    # CloudTrail data events on the zone buckets.
    events = gets + puts
    lines.append(
        Line(
            "CloudTrail data events",
            charge(prices["cloudtrail_data_events"], events),
            f"{events:,.0f} S3 object events a month",
        )
    )
    said.append(
        "CloudTrail: the trail logs every S3 object event on the four zone buckets "
        "(infra/platform.yaml): one event per GET and PUT above; management events: first "
        "copy free; the trail's own log files are not counted"
    )

    # CloudWatch.
    puts_to_cloudwatch = 2 * runs
    lines.append(
        Line(
            "CloudWatch",
            charge(prices["cloudwatch_alarms"], CLOUDWATCH_ALARMS)
            + charge(prices["cloudwatch_metrics"], CUSTOM_METRIC_COUNT)
            + charge(prices["cloudwatch_put_requests"], puts_to_cloudwatch),
            f"{CLOUDWATCH_ALARMS} alarms, {CUSTOM_METRIC_COUNT} custom metrics, "
            f"{puts_to_cloudwatch:,.0f} PutMetricData a month (10 alarms, 10 metrics free)",
        )
    )
    said.append(
        f"CloudWatch: {CLOUDWATCH_ALARMS} alarms (infra/platform.yaml); custom metrics from "
        f"`dap metrics`: {'; '.join(CUSTOM_METRICS)}; one PutMetricData per stage per run"
    )

    # CloudFront, for the public page.
    views = workload.page_views_per_month
    requests = views * workload.requests_per_page_view
    transfer_gb = _gb(views * workload.bytes_per_page_view)
    lines.append(
        Line(
            "CloudFront",
            charge(prices["cloudfront_requests"], requests)
            + charge(prices["cloudfront_transfer"], transfer_gb),
            f"{requests:,.0f} requests, {transfer_gb:,.2f} GB a month (10 M requests, 1 TB free)",
        )
    )
    said.append(
        f"CloudFront: {views:,.0f} page views a month, {workload.requests_per_page_view:g} "
        f"requests and {workload.bytes_per_page_view / 1000:,.0f} kB each (the page, its PNG "
        "and favicon), North American viewers; the origin bucket's storage is under a few MB"
    )
    said.append(
        f"prices: {prices.path.name} ({prices.region}, as of {prices.as_of}), on-demand, "
        "always-free tiers applied, no taxes; data transfer out of S3 other than CloudFront "
        "not counted"
    )
    return Estimate(lines, said, prices)


def format_estimate(result: Estimate) -> str:
    width = max(len(line.service) for line in result.lines)
    rows = [f"{'service':<{width}}  {'monthly':>10}  {'yearly':>10}  basis"]
    rows.append(f"{'-' * width}  {'-' * 10}  {'-' * 10}  -----")
    for line in result.lines:
        rows.append(
            f"{line.service:<{width}}  {_usd(line.monthly):>10}  {_usd(line.yearly):>10}  "
            f"{line.basis}"
        )
    rows.append(f"{'Total':<{width}}  {_usd(result.monthly):>10}  {_usd(result.yearly):>10}")
    design = result.prices.design_per_year
    if design:
        parts = ", ".join(f"{k} ${v:,.2f}" for k, v in design.items())
        rows.append("")
        rows.append(
            f"the platform design's yearly estimate: {parts}; total ${sum(design.values()):,.2f}"
        )
    rows.append("")
    rows.append("assumptions:")
    rows.extend(f"- {text}" for text in result.assumptions)
    return "\n".join(rows)


def _usd(amount: float) -> str:
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:.4f}"
