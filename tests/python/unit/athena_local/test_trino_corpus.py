"""The local endpoint against Trino's own expectations: a differential corpus.

Each probe in trino_corpus.yaml is one fact taken from Trino's function tests or its
documentation (the probe names which): a query and the value and type Athena returns for
it, or the error it fails with. Every probe runs through the endpoint's query path (the
engine that StartQueryExecution calls, rows rendered as GetQueryResults renders them).

A probe passes when the value and type (or the error name) are Athena's. The endpoint may
instead refuse a construct it cannot emulate, with NOT_SUPPORTED naming it: such probes
are listed in the corpus (`refuse: NOT_SUPPORTED`) so the list of refusals is in one place.
A different value returned silently is never allowed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import duckdb
import pytest
import yaml
from sqlglot import exp

from athena_local.dialect import AthenaQueryError, check_query, parse, to_duckdb
from athena_local.engine import Engine, Outcome
from athena_local.errors import runtime_error
from athena_local.store import Warehouse
from athena_local.types import arrow_to_athena, format_rows

CORPUS = Path(__file__).with_name("trino_corpus.yaml")
REQUIRED_PASSING_OR_REFUSED = 0.95
_EXPECTATIONS = ("value", "rows", "error")


@dataclass(frozen=True)
class Probe:
    klass: str
    source: str
    sql: str
    rows: list[list[str | None]] | None
    type: str | None
    error: str | None
    refuse: bool


@dataclass(frozen=True)
class Verdict:
    probe: Probe
    outcome: str  # pass | refused | wrong_value | wrong_error | unlisted_refusal
    detail: str = ""


def _load() -> list[Probe]:
    raw = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    probes = []
    for entry in raw:
        rows: list[list[str | None]] | None = None
        if "value" in entry:
            rows = [[entry["value"]]]
        elif "rows" in entry:
            rows = [[value] for value in entry["rows"]]
        probes.append(
            Probe(
                klass=entry["class"],
                source=entry["source"],
                sql=entry["sql"],
                rows=rows,
                type=entry.get("type"),
                error=entry.get("error"),
                refuse=entry.get("refuse") == "NOT_SUPPORTED",
            )
        )
    return probes


PROBES = _load()


class Endpoint:
    """The endpoint's query path for probes that read no table.

    ``engine`` runs a probe exactly as StartQueryExecution does (Engine.execute). ``fast``
    runs the same steps as Engine's SELECT path (parse, Athena's checks, translation,
    DuckDB in UTC, Athena's error names, GetQueryResults' rendering) on one DuckDB
    connection for all probes instead of one per query, which keeps the corpus to seconds;
    test_the_fast_path_is_the_engines_path shows the two agree.
    """

    def __init__(self) -> None:
        # Probes read no tables (scalars and VALUES only), so the catalog is never called.
        self._engine = Engine(Warehouse(cast(Any, None), None))
        self._connection = duckdb.connect(":memory:")
        self._connection.execute("set TimeZone = 'UTC'")

    def engine(self, sql: str) -> Outcome:
        return self._engine.execute(sql, "default", "corpus", "s3://corpus/results/")

    def fast(self, sql: str) -> Outcome:
        statement = parse(sql)
        if not isinstance(statement, exp.Query):
            return self.engine(sql)
        check_query(sql, statement)
        translated = to_duckdb(statement, {}, "default")
        try:
            result = self._connection.execute(translated).to_arrow_table()
        except duckdb.Error as error:
            raise runtime_error(error) from error
        columns = [(field.name, arrow_to_athena(field.type)) for field in result.schema]
        return Outcome("DML", "SELECT", columns=columns, rows=format_rows(result))


def _judge(run: Callable[[str], Outcome], probe: Probe) -> Verdict:
    try:
        outcome = run(probe.sql)
    except AthenaQueryError as error:
        if probe.error is not None and error.name == probe.error:
            return Verdict(probe, "pass")
        if error.name == "NOT_SUPPORTED" and error.message.strip():
            kind = "refused" if probe.refuse else "unlisted_refusal"
            return Verdict(probe, kind, error.message)
        return Verdict(probe, "wrong_error", f"{error.name}: {error.message}")
    if probe.error is not None:
        return Verdict(
            probe, "wrong_value", f"returned {outcome.rows}, Athena fails with {probe.error}"
        )
    got_type = outcome.columns[0][1] if outcome.columns else None
    if outcome.rows != probe.rows or got_type != probe.type:
        return Verdict(
            probe, "wrong_value", f"{outcome.rows} {got_type}, Athena {probe.rows} {probe.type}"
        )
    return Verdict(probe, "pass")


def test_every_probe_names_its_source_and_one_expectation() -> None:
    assert len(PROBES) >= 300
    for probe in PROBES:
        assert probe.source.strip(), probe.sql
        assert (probe.rows is None) != (probe.error is None), probe.sql
        assert probe.rows is None or probe.type, probe.sql
    duplicates = [sql for sql, n in Counter(p.sql for p in PROBES).items() if n > 1]
    assert not duplicates


def test_the_endpoint_agrees_with_trino_or_refuses_by_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint = Endpoint()
    verdicts = [_judge(endpoint.fast, probe) for probe in PROBES]
    by_class: dict[str, Counter[str]] = {}
    for verdict in verdicts:
        by_class.setdefault(verdict.probe.klass, Counter())[verdict.outcome] += 1
    lines = [f"{'class':<12} {'probes':>6} {'pass':>5} {'refused':>7} {'fail':>5}"]
    for klass, counts in sorted(by_class.items()):
        total = sum(counts.values())
        failed = total - counts["pass"] - counts["refused"]
        lines.append(
            f"{klass:<12} {total:>6} {counts['pass']:>5} {counts['refused']:>7} {failed:>5}"
        )
    totals = Counter(v.outcome for v in verdicts)
    failed_total = len(verdicts) - totals["pass"] - totals["refused"]
    lines.append(
        f"{'all':<12} {len(verdicts):>6} {totals['pass']:>5} {totals['refused']:>7} "
        f"{failed_total:>5}"
    )
    refused = [v for v in verdicts if v.outcome == "refused"]
    lines.append("refused (NOT_SUPPORTED):")
    lines += [f"  {v.probe.sql}  -- {v.detail}" for v in refused]
    failures = [v for v in verdicts if v.outcome not in ("pass", "refused")]
    lines.append("failures:")
    lines += [f"  [{v.outcome}] {v.probe.sql}  ({v.probe.source}): {v.detail}" for v in failures]
    report = "\n".join(lines)
    with capsys.disabled():
        print("\n" + report)
    wrong = [v for v in verdicts if v.outcome == "wrong_value"]
    assert not wrong, report
    # A probe listed as refused that now passes: the list must say so.
    stale = [v.probe.sql for v in verdicts if v.probe.refuse and v.outcome == "pass"]
    assert not stale, f"listed as refused but answered exactly: {stale}"
    share = (totals["pass"] + totals["refused"]) / len(verdicts)
    assert share >= REQUIRED_PASSING_OR_REFUSED, report


def test_the_fast_path_is_the_engines_path() -> None:
    """Every tenth probe, one per class at least, through Engine.execute as well."""
    endpoint = Endpoint()
    first_of_class: dict[str, Probe] = {}
    for probe in PROBES:
        first_of_class.setdefault(probe.klass, probe)
    sample = {p.sql: p for p in [*PROBES[::10], *first_of_class.values()]}
    for probe in sample.values():
        fast, full = _judge(endpoint.fast, probe), _judge(endpoint.engine, probe)
        assert (fast.outcome, fast.detail) == (full.outcome, full.detail), probe.sql
