"""Landed extracts: listing them, naming one, and the extract event log.

The event log is append-only: one Parquet file per ``dap`` run that did something to an
extract, ``_audit/events/<time>-<run id>.parquet``, one row per file
(:data:`EVENT_SCHEMA`). ``dap load`` writes the outcome of every file it was given
(``landed``, ``masked``: landed with personal data masked, ``unchanged``, ``refused``),
``dap retract`` and ``dap restore`` write ``retracted`` and ``restored``, and ``dap load
--supersede`` adds a ``superseded`` row per file (a deliberate correction: dbt puts the
extract first in precedence order, ``models/intermediate/int_extract_precedence.sql``;
retract and restore leave it superseding). It is the
machine-readable half of the audit trail, so it lives in ``_audit/`` beside the JSON
records people read (:mod:`dap.lake.audit`): a refused load adds to the audit trail and
changes nothing else in the lake. dbt reads it on both engines: locally through DuckDB, on
Athena as the Glue table ``<raw database>.contact_centre_extract_events`` over
``<landing zone>/_audit/events/`` (registered by the loader,
:class:`dap.lake.catalog.GlueEventLog`).

A retraction is a tombstone, not a deletion: every landed byte stays, and dbt leaves out
the rows of an extract whose latest retract/restore event is a retraction
(``models/intermediate/int_extracts_landed.sql``). Restoring it is another event.

The folder always holds a zero-row file, ``_empty.parquet``, once anything was loaded:
DuckDB cannot read a folder without Parquet files, and a lake may have none of its own
events yet (Athena skips files whose name starts with ``_``).

What is landed comes from the manifests (``_manifests/<dataset>/<sha256>.json``, written
last by a load); first and last date from the manifest where the loader recorded them,
else from the raw Parquet.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dap import __version__
from dap.errors import (
    CatalogError,
    DapError,
    ExtractNotFoundError,
    LakeError,
    WorkbookError,
    printable,
)
from dap.ingest.pii import PiiFinding, mask_pii
from dap.lake.audit import (
    EXTRACT_EVENTS_PREFIX,
    REFUSALS_PREFIX,
    AuditRecord,
    Identity,
    WrittenObject,
    write_record,
)
from dap.lake.storage import AUDIT, LANDING, MANIFESTS, RAW, Lake
from dap.schema import DATASET, DATE_COLUMN, MEASURE_COLUMNS

if TYPE_CHECKING:
    from dap.lake.catalog import GlueCatalog
    from dap.lake.load import FileOutcome

Progress = Callable[[str], None]

EVENTS = "contact_centre_extract_events"
"""The event log's Glue table."""
EVENTS_PREFIX = f"{AUDIT}/events/"
"""The event log's folder: part of the audit trail, which lives with the landing zone."""
EMPTY_KEY = f"{EVENTS_PREFIX}_empty.parquet"
"""A zero-row file with the log's columns, so that readers find a file before any event."""

LANDED, MASKED, UNCHANGED, REFUSED = "landed", "masked", "unchanged", "refused"
RETRACTED, RESTORED = "retracted", "restored"
SUPERSEDED = "superseded"
"""``dap load --supersede``: the file is a deliberate correction, first in precedence."""
LOAD_OUTCOMES = (LANDED, MASKED, UNCHANGED, REFUSED)
"""What ``dap load`` did with a file."""
EVENT_TYPES = (*LOAD_OUTCOMES, RETRACTED, RESTORED, SUPERSEDED)

EVENT_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("file_number", pa.int64(), nullable=False),
        pa.field("recorded_at", pa.timestamp("ms"), nullable=False),
        pa.field("actor", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("source_file_sha256", pa.string(), nullable=False),
        pa.field("source_file_name", pa.string()),
        pa.field("reason_code", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("pii_kinds", pa.string()),
        pa.field("pii_cells", pa.int64(), nullable=False),
        pa.field("rows_landed", pa.int64()),
    ]
)
"""One row per file per ``dap`` run. ``event_id`` is the run's id (a load's ``load_id``);
``file_number`` the file's place among the run's files (for a load, in the order its audit
record lists them; for a refusal, as given; 1 for retract and restore; for a supersede,
as the load's; a supersede has an ``event_id`` of its own, since its load's row has the
load's);
``recorded_at`` UTC; ``actor`` who (an AWS ARN, or user@host); ``source_file_name`` with
any personal data masked; ``reason_code`` and ``reason`` why a file was refused
(:data:`dap.errors.REFUSAL_CODES`, the message with personal data masked) or why an
extract was retracted, restored or superseded (the operator's words, masked likewise); ``pii_kinds``
the kinds of personal data found, comma-separated, never the values, and ``pii_cells`` in
how many places (cells, sheet names, the file name); ``rows_landed`` the rows a landed
file put in the raw zone."""

_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEX_PREFIX = re.compile(r"[0-9a-f]{8,63}")
MIN_PREFIX = 8
"""A sha256 prefix must have at least this many hex digits."""


@dataclass(frozen=True)
class Event:
    """One row of the event log (see :data:`EVENT_SCHEMA`)."""

    event_id: str
    file_number: int
    recorded_at: datetime
    actor: str
    event_type: str
    source_file_sha256: str
    source_file_name: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    pii_kinds: str | None = None
    pii_cells: int = 0
    rows_landed: int | None = None


def actor_of(who: Identity) -> str:
    """Who, as the event log records it: the AWS caller's ARN, or user@host."""
    if who.kind == "local" and who.host:
        return f"{who.name}@{who.host}"
    return who.name


def _ms(moment: datetime) -> datetime:
    """UTC, naive, to the millisecond: how the raw zone stores times (``ingested_at``)."""
    instant = moment.astimezone(UTC).replace(tzinfo=None)
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


def _kinds(records: Iterable[dict[str, object]]) -> str | None:
    kinds = list(dict.fromkeys(str(r["kind"]) for r in records))
    return ",".join(kinds) or None


def _parquet(events: Sequence[Event]) -> bytes:
    columns = {f.name: [getattr(e, f.name) for e in events] for f in EVENT_SCHEMA}
    columns["recorded_at"] = [_ms(e.recorded_at) for e in events]
    table = pa.table(columns, schema=EVENT_SCHEMA)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def event_key(at: datetime, event_id: str) -> str:
    """``raw/contact_centre_extract_events/20261123T101500.123456Z-<id>.parquet``: sortable
    by time, one flat folder (Athena reads a table's folder, not its subfolders)."""
    return f"{EVENTS_PREFIX}{at.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}-{event_id}.parquet"


def write_events(lake: Lake, events: Sequence[Event], at: datetime) -> WrittenObject:
    """One file holding ``events`` (all of one run)."""
    key = event_key(at, events[0].event_id)
    data = _parquet(events)
    version = lake.write_bytes(key, data, "application/vnd.apache.parquet")
    return WrittenObject(key, len(data), version)


def read_events(lake: Lake) -> list[Event]:
    """Every event in the log, oldest first (by time, then by the file they are in)."""
    events: list[tuple[datetime, str, int, Event]] = []
    for key in lake.list_keys(EVENTS_PREFIX):
        if not key.endswith(".parquet") or key == EMPTY_KEY:
            continue
        # A few rows each: no thread pool. Under load, a short-lived `dap` whose Arrow pool
        # was still winding down at exit was once seen to abort ("terminate called").
        table = pq.read_table(io.BytesIO(lake.read_bytes(key)), use_threads=False)
        names = set(table.column_names)
        for position, row in enumerate(table.to_pylist()):
            values = {f: row[f] for f in Event.__dataclass_fields__ if f in names}
            event = Event(**values)
            events.append((event.recorded_at, key, position, event))
    events.sort(key=lambda item: item[:3])
    return [event for *_, event in events]


def ensure_event_log(lake: Lake, catalog: GlueCatalog | None) -> list[WrittenObject]:
    """Make the log readable before anything is landed: its zero-row file, and (S3 lakes
    with a catalog) its Glue table. Returns what was written (nothing, most times)."""
    written: list[WrittenObject] = []
    if not lake.exists(EMPTY_KEY):
        data = _parquet([])
        version = lake.write_bytes(EMPTY_KEY, data, "application/vnd.apache.parquet")
        written.append(WrittenObject(EMPTY_KEY, len(data), version))
    if catalog is not None:
        from dap.lake.catalog import GlueEventLog  # noqa: PLC0415 - boto3 types load lazily

        GlueEventLog.beside(
            catalog, table=EVENTS, schema=EVENT_SCHEMA, location=events_location(lake)
        ).ensure_table()
    return written


def events_location(lake: Lake) -> str:
    """``s3://…/_audit/events/`` of an S3 lake: the landing zone's bucket where the zones
    live apart, since the audit trail stays with the landing zone."""
    from dap.lake.storage import S3Lake, ZonedLake  # noqa: PLC0415

    store = lake.zones[LANDING] if isinstance(lake, ZonedLake) else lake
    if not isinstance(store, S3Lake):
        raise LakeError(f"{lake.uri}: the Glue catalog registers s3:// lakes only")
    return f"{store.root.rstrip('/')}/{EVENTS_PREFIX}"


# -- dap load ----------------------------------------------------------------------------


def load_events(audit: AuditRecord, files: Sequence[FileOutcome], at: datetime) -> list[Event]:
    """One event per file a load was given, in the order given."""
    actor = actor_of(audit.who)
    events: list[Event] = []
    for number, outcome in enumerate(files, start=1):
        landed = outcome.status == "landed"
        event_type = (MASKED if outcome.pii_masked else LANDED) if landed else UNCHANGED
        events.append(
            Event(
                event_id=audit.load_id,
                file_number=number,
                recorded_at=at,
                actor=actor,
                event_type=event_type,
                source_file_sha256=outcome.sha256,
                source_file_name=mask_pii(outcome.name),
                pii_kinds=_kinds(outcome.pii_masked),
                pii_cells=len(outcome.pii_masked),
                rows_landed=outcome.rows if landed else 0,
            )
        )
    return events


def supersede_events(
    audit: AuditRecord,
    files: Sequence[FileOutcome],
    at: datetime,
    *,
    supersede_id: str,
    reason: str | None,
) -> list[Event]:
    """``dap load --supersede``: one ``superseded`` event per file the load was given
    (landed now or before), numbered as the load's, under the event id ``supersede_id``."""
    actor = actor_of(audit.who)
    return [
        Event(
            event_id=supersede_id,
            file_number=number,
            recorded_at=at,
            actor=actor,
            event_type=SUPERSEDED,
            source_file_sha256=outcome.sha256,
            source_file_name=mask_pii(outcome.name),
            reason=None if reason is None else mask_pii(reason),
        )
        for number, outcome in enumerate(files, start=1)
    ]


def record_load(
    lake: Lake,
    audit: AuditRecord,
    files: Sequence[FileOutcome],
    at: datetime,
    *,
    superseding: Sequence[Event] = (),
) -> WrittenObject:
    """The load's rows in the event log, with its supersede events if any, in one file
    (written before its audit record)."""
    return write_events(lake, [*load_events(audit, files, at), *superseding], at)


@dataclass(frozen=True)
class Refused:
    """A file ``dap load`` refused, as it is recorded: nothing of its content."""

    file_number: int
    file_name: str
    """Masked where the name holds personal data."""
    sha256: str
    size_bytes: int
    code: str
    message: str
    """The error's message with any personal data masked."""
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    personal_data: list[dict[str, object]] = field(default_factory=list)
    """Kind and place of each finding (sheet, row, column, kind), never the value."""

    @classmethod
    def of(
        cls, error: DapError, *, file_number: int, name: str, sha256: str, size_bytes: int
    ) -> Refused:
        sheet = row = column = None
        if isinstance(error, WorkbookError):
            where = error.location
            sheet = None if where.sheet is None else mask_pii(where.sheet)
            row, column = where.row, where.column
        findings: Sequence[PiiFinding] = getattr(error, "findings", [])
        places = [{k: v for k, v in f.as_record().items() if k != "file"} for f in findings]
        return cls(
            file_number=file_number,
            file_name=mask_pii(name),
            sha256=sha256,
            size_bytes=size_bytes,
            code=error.code,
            message=mask_pii(str(error)),
            sheet=sheet,
            row=row,
            column=column,
            personal_data=places,
        )


def record_refusal(
    lake: Lake,
    audit: AuditRecord,
    refused: Refused,
    at: datetime,
    *,
    catalog: GlueCatalog | None = None,
) -> str:
    """The trace a refused load leaves, and nothing else: its row in the event log, then
    its audit record ``_audit/refusals/YYYY/MM/DD/<time>-<load id>.json``. Returns the
    audit record's key."""
    event = Event(
        event_id=audit.load_id,
        file_number=refused.file_number,
        recorded_at=at,
        actor=actor_of(audit.who),
        event_type=REFUSED,
        source_file_sha256=refused.sha256,
        source_file_name=refused.file_name,
        reason_code=refused.code,
        reason=refused.message,
        pii_kinds=_kinds(refused.personal_data),
        pii_cells=len(refused.personal_data),
        rows_landed=0,
    )
    written = write_events(lake, [event], at)
    if catalog is not None:  # so that Athena sees the refusal even in a new lake
        from dap.lake.catalog import GlueEventLog  # noqa: PLC0415

        GlueEventLog.beside(
            catalog, table=EVENTS, schema=EVENT_SCHEMA, location=events_location(lake)
        ).ensure_table()
    body = {
        "record": "refusal",
        "load_id": audit.load_id,
        "who": audit.who_record(),
        "at": _iso(at),
        "loader_version": __version__,
        "lake": audit.lake,
        "pii_policy": audit.pii_policy,
        "file": {
            "file_number": refused.file_number,
            "file_name": refused.file_name,
            "sha256": refused.sha256,
            "size_bytes": refused.size_bytes,
        },
        "reason_code": refused.code,
        "message": refused.message,
        "where": {"sheet": refused.sheet, "row": refused.row, "column": refused.column},
        "personal_data": refused.personal_data,
        "objects_written": [written.as_record()],
    }
    return write_record(lake, REFUSALS_PREFIX, audit.load_id, body, at)


class DateSpan:
    """First and last date of an extract's rows, gathered partition by partition."""

    def __init__(self) -> None:
        self.first: date | None = None
        self.last: date | None = None

    def include(self, table: pa.Table) -> None:
        bounds = pc.min_max(table.column(DATE_COLUMN.raw_name))
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is not None:
            self.first = low if self.first is None else min(self.first, low)
        if high is not None:
            self.last = high if self.last is None else max(self.last, high)

    @property
    def first_iso(self) -> str | None:
        return None if self.first is None else self.first.isoformat()

    @property
    def last_iso(self) -> str | None:
        return None if self.last is None else self.last.isoformat()


# -- what is landed ------------------------------------------------------------------------


@dataclass
class LandedExtract:
    """A landed extract as ``dap extracts`` shows it."""

    sha256: str
    file_name: str
    rows: int
    """As the manifest declares."""
    rows_in_raw: int
    """Of those, the rows whose partition files are in the raw zone."""
    first_date: date | None
    last_date: date | None
    columns_carried: list[str]
    ingested_at: str
    years: list[str]
    """Partition values (``2021``, ``__HIVE_DEFAULT_PARTITION__``) the extract has rows in."""
    retraction: Event | None = None
    """The latest retract or restore event, if any."""

    @property
    def is_retracted(self) -> bool:
        return self.retraction is not None and self.retraction.event_type == RETRACTED

    @property
    def status(self) -> str:
        if self.is_retracted:
            return "retracted"
        if self.rows_in_raw < self.rows:
            return "incomplete"
        return "active"

    def as_json(self) -> dict[str, Any]:
        last = self.retraction
        return {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "rows": self.rows,
            "rows_in_raw": self.rows_in_raw,
            "first_date": None if self.first_date is None else self.first_date.isoformat(),
            "last_date": None if self.last_date is None else self.last_date.isoformat(),
            "columns_carried": self.columns_carried,
            "ingested_at": self.ingested_at,
            "status": self.status,
            "last_retract_or_restore": None
            if last is None
            else {
                "event_type": last.event_type,
                "at": _iso(last.recorded_at),
                "by": last.actor,
                "reason": last.reason,
            },
        }


def _manifests(lake: Lake) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in lake.list_keys(f"{MANIFESTS}/{DATASET}/"):
        if key.endswith(".json"):
            found.append(json.loads(lake.read_bytes(key)))
    return found


def _partition_of(key: str) -> str:
    """``raw/<dataset>/year=2021/<sha>.parquet`` -> ``year=2021``."""
    return key.removeprefix(f"{RAW}/{DATASET}/").split("/", 1)[0]


def _dates_from_raw(lake: Lake, keys: Iterable[str]) -> tuple[date | None, date | None]:
    span = DateSpan()
    for key in keys:
        table = pq.read_table(
            io.BytesIO(lake.read_bytes(key)), columns=[DATE_COLUMN.raw_name], use_threads=False
        )
        span.include(table)
    return span.first, span.last


def latest_supersedes(events: Iterable[Event]) -> dict[str, Event]:
    """sha256 -> its latest supersede event (``dap load --supersede``)."""
    return {e.source_file_sha256: e for e in events if e.event_type == SUPERSEDED}


def latest_retractions(events: Iterable[Event]) -> dict[str, Event]:
    """sha256 -> its latest retract or restore event."""
    latest: dict[str, Event] = {}
    for event in events:  # oldest first
        if event.event_type in (RETRACTED, RESTORED):
            latest[event.source_file_sha256] = event
    return latest


def list_extracts(lake: Lake, events: Sequence[Event] | None = None) -> list[LandedExtract]:
    """Every landed extract, in the order they were ingested."""
    raw_keys = set(lake.list_keys(f"{RAW}/{DATASET}/"))
    retractions = latest_retractions(read_events(lake) if events is None else events)
    all_measures = [c.raw_name for c in MEASURE_COLUMNS]
    extracts: list[LandedExtract] = []
    for manifest in _manifests(lake):
        sha = str(manifest["sha256"])
        per_partition: dict[str, int] = manifest.get("rows_per_partition", {})
        keys = [str(k) for k in manifest.get("raw_keys", [])]
        present = [k for k in keys if k in raw_keys]
        rows_in_raw = sum(per_partition.get(_partition_of(k), 0) for k in present)
        if "first_date" in manifest:
            first = manifest["first_date"] and date.fromisoformat(manifest["first_date"])
            last = manifest["last_date"] and date.fromisoformat(manifest["last_date"])
        else:  # landed before the loader recorded them
            first, last = _dates_from_raw(lake, present)
        extracts.append(
            LandedExtract(
                sha256=sha,
                file_name=str(manifest.get("file_name", "")),
                rows=int(manifest.get("rows", 0)),
                rows_in_raw=rows_in_raw,
                first_date=first or None,
                last_date=last or None,
                columns_carried=list(manifest.get("columns_carried") or all_measures),
                ingested_at=str(manifest.get("ingested_at", "")),
                years=sorted(p.partition("=")[2] for p in per_partition),
                retraction=retractions.get(sha),
            )
        )
    extracts.sort(key=lambda e: (e.ingested_at, e.sha256))
    return extracts


def _describe(extracts: Sequence[LandedExtract], limit: int = 10) -> str:
    shown = [
        f"{e.sha256[:12]} {printable(e.file_name)} (ingested {e.ingested_at})" for e in extracts
    ]
    more = f"; and {len(shown) - limit} more" if len(shown) > limit else ""
    return "; ".join(shown[:limit]) + more


def resolve(
    lake: Lake, text: str, extracts: Sequence[LandedExtract] | None = None
) -> LandedExtract:
    """The one landed extract ``text`` names: a full sha256, a unique prefix of at least
    :data:`MIN_PREFIX` hex digits, a file (its sha256 is computed) or a landed file name
    when only one extract has it. Raises :class:`ExtractNotFoundError` naming the
    candidates when none or several match."""
    extracts = list_extracts(lake) if extracts is None else list(extracts)
    by_sha = {e.sha256: e for e in extracts}
    wanted = text.strip()
    path = Path(wanted)
    if path.is_file():
        try:
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise ExtractNotFoundError(f"{wanted}: cannot read the file ({exc.strerror})") from exc
        if sha in by_sha:
            return by_sha[sha]
        raise ExtractNotFoundError(
            f"{wanted}: this file (sha256 {sha}) is not a landed extract; "
            f"landed: {_describe(extracts) or 'none'}"
        )
    lowered = wanted.lower()
    if _SHA256.fullmatch(lowered):
        if lowered in by_sha:
            return by_sha[lowered]
        raise ExtractNotFoundError(
            f"no landed extract has sha256 {lowered}; landed: {_describe(extracts) or 'none'}"
        )
    matches: list[LandedExtract] = []
    if _HEX_PREFIX.fullmatch(lowered):
        matches = [e for e in extracts if e.sha256.startswith(lowered)]
    if not matches:
        names = {wanted, mask_pii(path.name)}  # as given, or as landed (masked)
        matches = [e for e in extracts if e.file_name in names]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ExtractNotFoundError(
            f"{wanted!r} matches {len(matches)} landed extracts; give more of the sha256: "
            + _describe(matches)
        )
    hint = (
        f" (a sha256 prefix needs at least {MIN_PREFIX} hex digits)"
        if re.fullmatch(r"[0-9a-f]{1,7}", lowered)
        else ""
    )
    raise ExtractNotFoundError(
        f"{wanted!r} is not a landed extract's sha256, sha256 prefix, file or file name{hint}; "
        f"landed: {_describe(extracts) or 'none'}"
    )


# -- retract and restore -----------------------------------------------------------------


@dataclass
class Change:
    """What ``dap retract`` or ``dap restore`` did."""

    extract: LandedExtract
    action: str
    changed: bool
    """False when the extract already was in that state (nothing written)."""
    event: Event | None = None
    event_key: str | None = None
    audit_key: str | None = None
    orphan_years: list[str] = field(default_factory=list)
    """Years only this extract reports among the active ones (retract only)."""


def _orphan_years(extract: LandedExtract, extracts: Sequence[LandedExtract]) -> list[str]:
    others = {
        year
        for e in extracts
        if e.sha256 != extract.sha256 and e.status == "active"
        for year in e.years
    }
    return [y for y in extract.years if y not in others and y.isdigit()]


def change_retraction(
    lake: Lake,
    text: str,
    action: str,
    *,
    who: Identity,
    reason: str | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    catalog: GlueCatalog | None = None,
) -> Change:
    """Retract (``action`` :data:`RETRACTED`) or restore (:data:`RESTORED`) the extract
    ``text`` names: append the event to the log, then write the audit record
    ``_audit/extracts/YYYY/MM/DD/<time>-<event id>.json``. Nothing else is written or
    removed. An extract already in that state is left alone (``changed`` False)."""
    if action not in (RETRACTED, RESTORED):
        raise ValueError(f"action must be {RETRACTED} or {RESTORED}, not {action!r}")
    lake.check_ready()
    events = read_events(lake)
    extracts = list_extracts(lake, events)
    extract = resolve(lake, text, extracts)
    if extract.is_retracted == (action == RETRACTED):
        return Change(extract, action, changed=False)
    orphans = _orphan_years(extract, extracts) if action == RETRACTED else []
    # Strictly after the extract's previous event, so the latest one is never a tie.
    at = _ms(clock())
    if extract.retraction is not None and at <= extract.retraction.recorded_at:
        at = extract.retraction.recorded_at + timedelta(milliseconds=1)
    at_utc = at.replace(tzinfo=UTC)
    event = Event(
        event_id=uuid.uuid4().hex,
        file_number=1,
        recorded_at=at,
        actor=actor_of(who),
        event_type=action,
        source_file_sha256=extract.sha256,
        source_file_name=extract.file_name,
        reason=None if reason is None else mask_pii(reason),
    )
    if catalog is not None:
        from dap.lake.catalog import GlueEventLog  # noqa: PLC0415

        GlueEventLog.beside(
            catalog, table=EVENTS, schema=EVENT_SCHEMA, location=events_location(lake)
        ).ensure_table()
    written = write_events(lake, [event], at_utc)
    body = {
        "record": action,
        "event_id": event.event_id,
        "who": {"kind": who.kind, "name": who.name, "account": who.account, "host": who.host},
        "at": _iso(at_utc),
        "loader_version": __version__,
        "lake": lake.uri,
        "sha256": extract.sha256,
        "file_name": extract.file_name,
        "reason": event.reason,
        "years": extract.years,
        "objects_written": [written.as_record()],
    }
    try:
        audit_key = write_record(lake, EXTRACT_EVENTS_PREFIX, event.event_id, body, at_utc)
    except LakeError:
        # The event is what dbt reads; without its audit record it must not stay.
        lake.delete(written.key)
        raise
    return Change(extract, action, True, event, written.key, audit_key, orphans)


def _iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def trace_refusal(
    lake: Lake,
    audit: AuditRecord,
    error: DapError,
    *,
    file_number: int,
    name: str,
    sha256: str,
    size_bytes: int,
    at: datetime,
    catalog: GlueCatalog | None = None,
    progress: Progress = lambda _message: None,
) -> str | None:
    """What ``dap load`` does when a file is refused, before it reports the refusal:
    :func:`record_refusal`. If the trace cannot be written, that is said on ``progress``
    and the refusal is still the error reported. Returns the audit record's key."""
    refused = Refused.of(
        error, file_number=file_number, name=name, sha256=sha256, size_bytes=size_bytes
    )
    try:
        key = record_refusal(lake, audit, refused, at, catalog=catalog)
    except (LakeError, CatalogError) as exc:
        progress(f"could not record the refusal of {refused.file_name}: {exc}")
        return None
    progress(f"{refused.file_name}: refused ({refused.code}); refusal recorded: {key}")
    return key
