"""``dap load``: workbooks into the landing and raw zones.

For every workbook, in the order given:

1. read its bytes and hash them (sha256); a workbook whose manifest is already in the
   lake is skipped as unchanged, so loading the same file again changes nothing;
2. parse and check it (:mod:`dap.ingest.workbook`). Every workbook is checked before anything
   is written, so a whole-file problem in any of them leaves the lake as it was;
3. write the original bytes to ``landing/<dataset>/<sha256>.<ext>`` (content-addressed,
   never overwritten), then one Parquet file per year to
   ``raw/<dataset>/year=YYYY/<sha256>.parquet``, then (S3 lakes with a catalog) adds
   those years as partitions of the Glue table, then writes the manifest
   ``_manifests/<dataset>/<sha256>.json``, which marks the workbook as loaded. If a
   write or the registration fails, what this workbook wrote is removed again before the
   error is reported, and with no manifest the next load does the workbook again.

With a catalog (:class:`dap.lake.catalog.GlueCatalog`), every load, even one that skips every
workbook, first makes sure the Glue database and table exist and match the raw schema, and
registers the years already in the raw zone, so a lake landed before it had a catalog (or
whose table was dropped) is readable by Athena again.

Workbooks given together are ingested in the order given, one after the other. Where
they overlap, dbt decides which one's figures a day gets (``int_extract_precedence``):
the one whose data reaches the later date, then the most recently ingested. With
``supersede`` (``dap load --supersede``) every file given, landed now or before, is
recorded as a deliberate correction (a ``superseded`` event, with the reason, in the event
log and the audit record): dbt puts it first, a later supersede before an earlier one.

Personal data: every text cell of every sheet is scanned while the workbook is checked
(:mod:`dap.ingest.pii`). By default a hit stops the load before anything is written; with
``pii="mask"`` the workbook lands with the personal data masked in everything derived
from it (the landing copy stays the original file, in the landing zone that only the
loader can read) and the manifest lists the kinds and cells masked, never the values.

Every load that gets to the end writes an audit record (:mod:`dap.lake.audit`) last, just
after its rows in the extract event log (:mod:`dap.lake.extracts`: one per file, landed,
masked or unchanged). A refused file stops the load with one trace and nothing else: its
refusal record under ``_audit/refusals/`` and its ``refused`` row in the event log.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import multiprocessing
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from dap import __version__
from dap.errors import DapError, LakeError, Location, WorkbookError
from dap.ingest.formats import parse_file
from dap.ingest.pii import PiiPolicy
from dap.ingest.workbook import ParsedWorkbook
from dap.lake.audit import AuditRecord, Identity, WrittenObject, local_identity
from dap.lake.extracts import (
    RETRACTED,
    DateSpan,
    Event,
    ensure_event_log,
    latest_retractions,
    read_events,
    record_load,
    supersede_events,
    trace_refusal,
)
from dap.lake.integrity._register import (
    RawObject,
    ensure_register,
    fingerprint,
    register_bytes,
    register_key,
)
from dap.lake.storage import LANDING, MANIFESTS, RAW, Lake
from dap.schema import DATASET, NULL_PARTITION, PARTITION_COLUMN, RAW_SCHEMA

if TYPE_CHECKING:
    from dap.lake.catalog import GlueCatalog

Progress = Callable[[str], None]
Clock = Callable[[], datetime]


@dataclass
class FileOutcome:
    name: str
    sha256: str
    status: str  # "landed" or "unchanged"
    size_bytes: int = 0
    rows: int = 0
    partitions: list[str] = field(default_factory=list)
    rows_per_partition: dict[str, int] = field(default_factory=dict)
    pii_masked: list[dict[str, object]] = field(default_factory=list)
    unreadable_dates: dict[str, object] = field(default_factory=dict)
    """Dates that could not be read (``{count, examples: [{sheet, row, value}]}``): those
    rows land without a date, and dbt quarantines them."""
    supersede: dict[str, object] | None = None
    """``dap load --supersede``: its event id and reason (None for an ordinary load)."""

    def audit_entry(self) -> dict[str, object]:
        return {
            "supersede": self.supersede,
            "file_name": self.name,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "status": self.status,
            "rows": self.rows,
            "rows_per_partition": self.rows_per_partition,
            "pii_masked": self.pii_masked,
            "unreadable_dates": self.unreadable_dates,
        }


@dataclass
class LoadSummary:
    lake: str
    files: list[FileOutcome] = field(default_factory=list)
    audit_key: str | None = None

    @property
    def landed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "landed"]

    @property
    def unchanged(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "unchanged"]

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.landed)

    @property
    def partitions_written(self) -> int:
        return sum(len(f.partitions) for f in self.landed)

    @property
    def cells_masked(self) -> int:
        return sum(len(f.pii_masked) for f in self.landed)

    def describe(self) -> str:
        masked = (
            f"; personal data masked in {self.cells_masked} cell(s)" if self.cells_masked else ""
        )
        superseding = sum(1 for f in self.files if f.supersede is not None)
        corrections = (
            f"; {superseding} recorded as deliberate corrections (--supersede)"
            if superseding
            else ""
        )
        return (
            f"{len(self.files)} file(s): {len(self.landed)} landed, "
            f"{len(self.unchanged)} skipped as unchanged; {self.rows:,} rows; "
            f"{self.partitions_written} partition file(s) written to {self.lake}{masked}"
            f"{corrections}"
        )


def manifest_key(sha256: str) -> str:
    return f"{MANIFESTS}/{DATASET}/{sha256}.json"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def load_workbooks(
    paths: Sequence[Path],
    lake: Lake,
    *,
    progress: Progress = lambda _message: None,
    clock: Clock = _utc_now,
    catalog: GlueCatalog | None = None,
    pii: PiiPolicy = "stop",
    identify: Callable[[], Identity] = local_identity,
    supersede: bool = False,
    reason: str | None = None,
) -> LoadSummary:
    """Land ``paths`` in ``lake``; with ``catalog``, register the raw zone's partitions
    there too (S3 lakes only: the catalog points at the lake's s3:// location).

    ``supersede``: record every file given (landed now, or unchanged since an earlier
    load) as a deliberate correction, with ``reason``; see the module's docstring.

    ``pii``: ``stop`` (default) refuses a workbook with personal data in any text cell,
    ``mask`` lands it masked. ``identify`` says who is loading, for the audit record
    (default: the local user); it is asked once the lake is known to be reachable."""
    lake.check_ready()
    summary = LoadSummary(lake.uri)
    audit = AuditRecord(identify(), lake.uri, pii, clock())
    pending: list[tuple[int, Path, str, bytes, ParsedWorkbook]] = []
    seen: set[str] = set()
    unchanged: list[tuple[int, Path, str, bytes]] = []  # their landing copies are checked
    total = len(paths)

    to_parse: list[tuple[int, Path, str, bytes]] = []
    for number, path in enumerate(paths, start=1):
        data = _read(path)
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 in seen or lake.exists(manifest_key(sha256)):
            summary.files.append(FileOutcome(path.name, sha256, "unchanged", len(data)))
            progress(f"[{number}/{total}] {path.name}: unchanged (sha256 {sha256[:12]}), skipped")
            unchanged.append((number, path, sha256, data))
            continue
        seen.add(sha256)
        to_parse.append((number, path, sha256, data))

    for (number, path, sha256, data), in_worker in _parsed_in_order(to_parse, pii):
        try:
            # Not parsed in a worker, or failed there: parsed here, to meet the error itself.
            parsed = in_worker or parse_file(path.name, data, pii=pii)
        except DapError as exc:  # refused: its trace is written, and nothing else
            trace_refusal(
                lake,
                audit,
                exc,
                file_number=number,
                name=path.name,
                sha256=sha256,
                size_bytes=len(data),
                at=clock(),
                catalog=catalog,
                progress=progress,
            )
            raise
        progress(f"[{number}/{total}] {path.name}: checked ({_checked_words(parsed)})")
        pending.append((number, path, sha256, data, parsed))

    if catalog is not None:
        progress(f"registering the raw zone as Glue table {catalog.qualified_name}")
        catalog.ensure_table()
        catalog.add_partitions(_landed_partitions(lake))

    audit.objects_written.extend(ensure_event_log(lake, catalog))  # dap.lake.extracts
    audit.objects_written.extend(_integrity(lake, catalog, unchanged, total, progress))
    previous: datetime | None = None
    for number, path, sha256, data, parsed in pending:
        ingested_at = _next_instant(clock(), previous)
        previous = ingested_at
        out = _RecordingLake(lake)
        try:
            outcome = _write(out, path, sha256, data, parsed, ingested_at, catalog)
        except BaseException:
            out.undo()
            raise
        audit.objects_written.extend(out.written)
        summary.files.append(outcome)
        progress(
            f"[{number}/{total}] {path.name}: landed {outcome.rows:,} rows "
            f"in {len(outcome.partitions)} partition(s)"
        )
    order = {p.name: i for i, p in enumerate(paths)}
    summary.files.sort(key=lambda f: order.get(f.name, 0))
    superseding = (
        _supersede(lake, audit, summary.files, clock(), reason, progress) if supersede else []
    )
    audit.files = [f.audit_entry() for f in summary.files]
    audit.objects_written.append(  # event log
        record_load(lake, audit, summary.files, clock(), superseding=superseding)
    )
    summary.audit_key = audit.write(lake, clock())
    progress(f"audit record: {summary.audit_key}")
    return summary


def _checked_words(parsed: ParsedWorkbook) -> str:
    sheets = ", ".join(f"{s.name!r} {s.rows:,} rows" for s in parsed.sheets)
    if parsed.pii_findings:
        return f"{sheets}; personal data masked in {len(parsed.pii_findings)} cell(s)"
    return sheets


PARSE_PROCESSES = 2
"""Workbooks checked at once when a load has several: the machines have two cores, and the
cell-by-cell read is Python, which one process runs on one core."""
ENCODE_THREADS = 2
"""Years of a workbook encoded to Parquet at once (:func:`build_raw_objects`)."""
PARALLEL_PARSE_MIN_BYTES = 64 << 10
"""Below this many bytes to check in all, starting worker processes costs more than it
saves."""


def _parsed_in_order(
    files: Sequence[tuple[int, Path, str, bytes]], pii: PiiPolicy
) -> Iterator[tuple[tuple[int, Path, str, bytes], ParsedWorkbook | None]]:
    """Each file with its parsed workbook, in the order given. Several files are parsed
    in :data:`PARSE_PROCESSES` worker processes; a file whose parse fails there comes back
    with None, for the caller to parse again in this process and meet the error itself (an
    error names the file, sheet and row, and is raised here, not pickled from a worker).
    One file, or a few small ones, come back with None: parsed by the caller."""
    if len(files) < 2 or sum(len(f[3]) for f in files) < PARALLEL_PARSE_MIN_BYTES:
        for item in files:
            yield item, None
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=PARSE_PROCESSES, mp_context=context) as pool:
        futures = [pool.submit(_parse_in_worker, f[1].name, f[3], pii) for f in files]
        try:
            for item, future in zip(files, futures, strict=True):
                try:
                    parsed = future.result()
                except Exception:
                    parsed = None
                yield item, parsed
        finally:
            for future in futures:
                future.cancel()


def _parse_in_worker(name: str, data: bytes, pii: PiiPolicy) -> ParsedWorkbook | None:
    try:
        return parse_file(name, data, pii=pii)
    except DapError:
        return None


def _supersede(
    lake: Lake,
    audit: AuditRecord,
    files: Sequence[FileOutcome],
    at: datetime,
    reason: str | None,
    progress: Progress,
) -> list[Event]:
    """The ``superseded`` events of ``files``, saying so for each; a retracted extract is
    recorded too, with a warning that it counts only once restored."""
    events = supersede_events(audit, files, at, supersede_id=uuid.uuid4().hex, reason=reason)
    retracted = {
        sha
        for sha, event in latest_retractions(read_events(lake)).items()
        if event.event_type == RETRACTED
    }
    for number, outcome in enumerate(files, start=1):
        outcome.supersede = {"event_id": events[0].event_id, "reason": events[0].reason}
        progress(
            f"[{number}/{len(files)}] {outcome.name}: recorded as a deliberate correction "
            "(superseding): its figures win over every other extract's for the days and "
            "measures it carries"
        )
        if outcome.sha256 in retracted:
            progress(
                f"warning: {outcome.name} (sha256 {outcome.sha256[:12]}) is retracted: it "
                f"counts, superseding, only after `dap restore {outcome.sha256[:12]}`"
            )
    return events


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise WorkbookError(Location(str(path)), f"cannot read the file ({exc.strerror})") from exc


def _next_instant(now: datetime, previous: datetime | None) -> datetime:
    """Millisecond timestamps, strictly increasing within one run, so file order decides ties."""
    instant = now.astimezone(UTC).replace(tzinfo=None)
    instant = instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    if previous is not None and instant <= previous:
        instant = previous + timedelta(milliseconds=1)
    return instant


def _partition_value(year: int | None) -> str:
    return NULL_PARTITION if year is None else str(year)


def _partition_name(year: int | None) -> str:
    return f"{PARTITION_COLUMN}={_partition_value(year)}"


def _landed_partitions(lake: Lake) -> set[str]:
    """Partition values (``2021``, ``__HIVE_DEFAULT_PARTITION__``) with files in the raw zone."""
    values: set[str] = set()
    for key in lake.list_keys(f"{RAW}/{DATASET}/"):
        folder = key.removeprefix(f"{RAW}/{DATASET}/").split("/")[0]
        name, sep, value = folder.partition("=")
        if sep and name == PARTITION_COLUMN and value:
            values.add(value)
    return values


class _RecordingLake:
    """Writes through to the lake and remembers what it wrote, so a failed workbook
    can be undone."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.written: list[WrittenObject] = []

    def exists(self, key: str) -> bool:
        return self.lake.exists(key)

    def write_bytes(self, key: str, data: bytes, content_type: str) -> None:
        version = self.lake.write_bytes(key, data, content_type)
        self.written.append(WrittenObject(key, len(data), version))

    def undo(self) -> None:
        """Best effort: the error that caused the undo is the one to report."""
        for obj in reversed(self.written):
            with contextlib.suppress(LakeError):
                self.lake.delete(obj.key)


def _write(
    out: _RecordingLake,
    path: Path,
    sha256: str,
    data: bytes,
    parsed: ParsedWorkbook,
    ingested_at: datetime,
    catalog: GlueCatalog | None,
) -> FileOutcome:
    landing_key = landing_key_of(parsed, sha256)
    # The landing copy is written (and synced) on a thread while the raw files are built:
    # one waits on the disk, the other on the cores. Either failing fails the workbook,
    # and the caller removes what was written.
    with ThreadPoolExecutor(1, thread_name_prefix="dap-landing") as landing:
        written = landing.submit(_write_landing, out, landing_key, data, parsed)
        rows = parsed.rows
        dates = DateSpan()  # first and last date, for the manifest
        objects = build_raw_objects(parsed, sha256, ingested_at, dates)
        written.result()

    outcome = FileOutcome(path.name, sha256, "landed", len(data), rows=rows)
    outcome.pii_masked = [finding.as_record() for finding in parsed.pii_findings]
    outcome.unreadable_dates = parsed.unreadable_dates
    rows_per_partition = outcome.rows_per_partition
    partition_values: list[str] = []
    # The register first (dap.lake.integrity): a raw file never exists without its entry.
    register = register_bytes(
        objects, source_sha256=sha256, source_name=parsed.file_name, at=ingested_at
    )
    out.write_bytes(register_key(ingested_at, sha256), register, "application/vnd.apache.parquet")
    for obj in objects:
        out.write_bytes(obj.key, obj.data, "application/vnd.apache.parquet")
        outcome.partitions.append(obj.key)
        rows_per_partition[obj.partition] = obj.rows
        partition_values.append(obj.partition_value)

    # Registered before the manifest: a load that stops in between leaves no manifest,
    # so the next one lands this workbook again and registers its partitions.
    if catalog is not None:
        catalog.add_partitions(partition_values)

    manifest = {
        "dataset": DATASET,
        "file_name": parsed.file_name,  # masked if the name itself holds personal data
        "sha256": sha256,
        "size_bytes": len(data),
        "ingested_at": ingested_at.isoformat(timespec="milliseconds") + "Z",
        "loader_version": __version__,
        "landing_key": landing_key,
        "sheets": [
            {
                "name": s.name,
                "header_row": s.header_row,
                "rows": s.rows,
                "rows_with_issues": s.rows_with_issues,
                "columns_carried": s.columns_carried,
            }
            for s in parsed.sheets
        ],
        # The measures the extract carries (raw names, fixed order); a measure it does not
        # carry is absent from it, not blank (dap.schema.LINEAGE_FIELDS, carried_columns).
        "columns_carried": parsed.columns_carried,
        "skipped_sheets": parsed.skipped_sheets,
        "pii_masked": outcome.pii_masked,
        "unreadable_dates": outcome.unreadable_dates,
        "rows": rows,
        "first_date": dates.first_iso,
        "last_date": dates.last_iso,
        "rows_per_partition": rows_per_partition,
        "raw_keys": outcome.partitions,
        # Checksums of every object this load wrote (dap verify, dap repair).
        "landing_object": {"key": landing_key, "sha256": sha256, "size_bytes": len(data)},
        "raw_objects": [obj.manifest_entry() for obj in objects],
    }
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    out.write_bytes(manifest_key(sha256), body, "application/json")
    return outcome


def _write_landing(out: _RecordingLake, key: str, data: bytes, parsed: ParsedWorkbook) -> None:
    if not out.exists(key):
        detected = parsed.file_format  # from the content, never the name
        content_type = detected.content_type if detected else "application/octet-stream"
        out.write_bytes(key, data, content_type)


def landing_key_of(parsed: ParsedWorkbook, sha256: str) -> str:
    """``landing/<dataset>/<sha256><extension of the format found>``."""
    detected = parsed.file_format  # from the content, never the name
    suffix = detected.extension if detected is not None else ".bin"
    return f"{LANDING}/{DATASET}/{sha256}{suffix}"


def build_raw_objects(
    parsed: ParsedWorkbook, sha256: str, ingested_at: datetime, dates: DateSpan | None = None
) -> list[RawObject]:
    """The workbook's raw Parquet files, one per year, as bytes: the same workbook with the
    same ``ingested_at`` gives the same bytes (``dap repair`` relies on it)."""
    rows = parsed.rows
    parts = parsed.by_year(sha256)
    if dates is not None:
        parts = _including(parts, dates)
    def build(year: int | None, typed: pa.Table) -> RawObject:
        part = (
            typed.append_column(
                pa.field("ingested_at", pa.timestamp("ms"), nullable=False),
                pa.repeat(pa.scalar(ingested_at, pa.timestamp("ms")), typed.num_rows),
            )
            .append_column(
                pa.field("extract_rows", pa.int64(), nullable=False),
                pa.repeat(pa.scalar(rows, pa.int64()), typed.num_rows),
            )
            .select(RAW_SCHEMA.names)
        )
        part = part.cast(_encoding_schema(part))
        data = _parquet_bytes(part)
        return RawObject(
            key=f"{RAW}/{DATASET}/{_partition_name(year)}/{sha256}.parquet",
            partition=_partition_name(year),
            partition_value=_partition_value(year),
            data=data,
            rows=part.num_rows,
            fingerprint=fingerprint(part),
            sha256=hashlib.sha256(data).hexdigest(),
        )

    # A year at a time: its rows are gathered, encoded and hashed, then dropped (only its
    # bytes and fingerprint are kept), on ENCODE_THREADS threads: Arrow encodes Parquet into
    # its own buffer without the interpreter lock, so years are encoded side by side.
    # (Into an io.BytesIO every write took the lock back, and two threads were measured no
    # faster than one.) The files are the same bytes, in the same order, either way.
    if ENCODE_THREADS < 2:
        return [build(year, typed) for year, typed in parts]
    with ThreadPoolExecutor(ENCODE_THREADS, thread_name_prefix="dap-encode") as pool:
        return list(pool.map(lambda part: build(*part), parts))


def _including(
    parts: Iterator[tuple[int | None, pa.Table]], dates: DateSpan
) -> Iterator[tuple[int | None, pa.Table]]:
    for year, typed in parts:
        dates.include(typed)
        yield year, typed


def _integrity(
    lake: Lake,
    catalog: GlueCatalog | None,
    unchanged: Sequence[tuple[int, Path, str, bytes]],
    total: int,
    progress: Progress,
) -> list[WrittenObject]:
    """Before anything is landed: the raw-object register made readable
    (:mod:`dap.lake.integrity`), and the landing copy put back of each workbook given that
    is landed but whose landing copy was deleted since. Returns what was written."""
    written = ensure_register(lake, catalog)
    for number, path, sha256, data in unchanged:
        restored = restore_missing_landing(lake, sha256, data, path.name)
        if restored is not None:
            written.append(restored)
            progress(
                f"[{number}/{total}] {path.name}: its landing copy was missing; restored "
                f"{restored.key} (the file's sha256 is the one its manifest records)"
            )
    return written


def restore_missing_landing(
    lake: Lake, sha256: str, data: bytes, name: str
) -> WrittenObject | None:
    """Write ``data`` back as the landing copy of the landed workbook ``sha256`` when its
    manifest names a landing copy that is not there (``data`` hashes to ``sha256``, which
    names the manifest: it is the original by construction). Returns what was written."""
    if not lake.exists(manifest_key(sha256)):  # the same bytes twice in one load
        return None
    try:
        manifest = json.loads(lake.read_bytes(manifest_key(sha256)))
        landing_key = str(manifest["landing_key"])
    except (ValueError, KeyError, TypeError):  # a damaged manifest: dap verify reports it
        return None
    if lake.exists(landing_key):
        return None
    from dap.ingest.formats import detect_format  # noqa: PLC0415

    try:
        content_type = detect_format(name, data).format.content_type
    except DapError:
        content_type = "application/octet-stream"
    version = lake.write_bytes(landing_key, data, content_type)
    return WrittenObject(landing_key, len(data), version)


_STORED_SCHEMA = {b"ARROW:schema": base64.b64encode(RAW_SCHEMA.serialize().to_pybytes())}
"""The Arrow schema a raw file carries (as ``pq.write_table`` stores a table's): always
:data:`RAW_SCHEMA`'s, whichever columns were handed to the writer dictionary-encoded."""


def _encoding_schema(part: pa.Table) -> pa.Schema:
    """:data:`RAW_SCHEMA`, except that a text column holding one value in every row and
    held dictionary-encoded (the file's name and hash, the sheet and its measures) stays
    so. Parquet encodes such a column as a dictionary of that one value either way, to the
    same bytes (``tests/python/unit/lake/test_raw_bytes.py``); decoding it first would
    write the value out once a row (about 200 MB of text for a million rows) only for the
    writer to hash every copy back into that dictionary."""
    fields = []
    for field in RAW_SCHEMA:
        values = part.column(field.name)
        if pa.types.is_dictionary(values.type) and _one_value(values):
            field = field.with_type(pa.dictionary(pa.int32(), field.type))
        fields.append(field)
    return pa.schema(fields)


def _one_value(values: pa.ChunkedArray) -> bool:
    """Every row holds the same value, and every chunk says so with one dictionary."""
    first = values.chunks[0].dictionary if values.num_chunks else None
    return (
        first is not None
        and len(first) == 1
        and values.null_count == 0
        and all(chunk.dictionary.equals(first) for chunk in values.chunks)
    )


def _parquet_bytes(table: pa.Table) -> bytes:
    """The Parquet file of ``table`` (:data:`RAW_SCHEMA`'s columns, some dictionary-encoded:
    :func:`_encoding_schema`), byte for byte what ``pq.write_table`` makes of the same rows
    cast to :data:`RAW_SCHEMA`."""
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(
        sink, table.schema, compression="snappy", write_statistics=True, store_schema=False
    ) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata(_STORED_SCHEMA)
    data: bytes = sink.getvalue().to_pybytes()
    return data
