"""`dap cost`: prices times quantities, free tiers, Athena's minimum, and the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dap.cli import main
from dap.errors import DapError
from dap.ops import cost
from dap.ops.cost import GIGABYTE, MEGABYTE, TERABYTE, Price, ZoneUsage

PRICES = cost.load_prices()


def _price(usd: float, per: str, free: float = 0) -> Price:
    return Price("x", usd, per, cost._units(per), free, "https://example.invalid", "2026-11")


def _run_results(*scanned: int | None) -> dict[str, Any]:
    results = []
    for index, n in enumerate(scanned):
        response: dict[str, Any] = {"_message": "OK"}
        if n is not None:
            response["data_scanned_in_bytes"] = n
        kind = "model" if index % 2 == 0 else "test"
        results.append({"unique_id": f"{kind}.p.n{index}", "adapter_response": response})
    return {"results": results}


def test_the_price_file_names_a_source_and_date_for_every_price() -> None:
    path = cost.newest_price_file()
    assert path.name == "aws-ca-central-1-2026-11.json"
    document = json.loads(path.read_text())
    assert document["region"] == "ca-central-1"
    for key, entry in document["prices"].items():
        assert entry["source"].startswith("https://aws.amazon.com/"), key
        assert entry["as_of"] == "2026-11", key
    assert PRICES["athena_scanned"].usd == 5.0
    assert PRICES["s3_put_requests"].units == 1000
    assert PRICES["cloudtrail_data_events"].units == 100_000
    assert sum(PRICES.design_per_year.values()) == pytest.approx(592.81)


@pytest.mark.parametrize(
    ("price", "quantity", "usd"),
    [
        (_price(0.025, "GB-month"), 40, 1.0),  # price x quantity
        (_price(0.0055, "1,000 requests"), 20_000, 0.11),  # per thousand
        (_price(1.0, "100,000 objects-month", free=1_000_000), 999_999, 0.0),  # free tier
        (_price(1.0, "100,000 objects-month", free=1_000_000), 1_200_000, 2.0),  # beyond it
        (_price(0.03, "10,000 requests", free=20_000), 50_000, 0.09),
        (_price(0.10, "alarm-month", free=10), 4, 0.0),
        (_price(0.30, "metric-month", free=10), 12, 0.60),
    ],
)
def test_charge_is_price_times_quantity_after_the_free_tier(
    price: Price, quantity: float, usd: float
) -> None:
    assert cost.charge(price, quantity) == pytest.approx(usd)


@pytest.mark.parametrize(
    ("scanned", "billed"),
    [
        (1, 10 * MEGABYTE),
        (10 * MEGABYTE - 1, 10 * MEGABYTE),
        (10 * MEGABYTE + 1, 11 * MEGABYTE),
        (3 * GIGABYTE, 3 * GIGABYTE),
    ],
)
def test_athena_bills_at_least_10_mb_rounded_up_to_the_megabyte(scanned: int, billed: int) -> None:
    assert cost.athena_billed_bytes(scanned) == billed


def test_a_build_scan_bills_each_query_and_counts_zero_byte_nodes_free() -> None:
    # A model that scanned 2 MB, a test that scanned 30 MB, a view (0: DDL), a node with
    # no figure (a seed, an operation) which is left out.
    scan = cost.scan_of(_run_results(2 * MEGABYTE, 30 * MEGABYTE, 0, None), "rr.json")
    assert (scan.nodes, scan.queries, scan.free_nodes) == (3, 2, 1)
    assert scan.scanned_bytes == 32 * MEGABYTE
    assert scan.billed_bytes == 10 * MEGABYTE + 30 * MEGABYTE
    assert scan.models == 2


def test_run_results_without_bytes_scanned_are_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(_run_results(None, None)))
    with pytest.raises(DapError, match=r"not a dbt-athena run.*athena target"):
        cost.read_run_results(path)
    with pytest.raises(DapError, match="cannot read dbt's run results"):
        cost.read_run_results(tmp_path / "absent.json")


def _zones(**current: int) -> dict[str, ZoneUsage]:
    zones = {zone: ZoneUsage(zone) for zone in cost.ZONES}
    for zone, size in current.items():
        zones[zone].current_bytes = size
        zones[zone].objects = 10
        zones[zone].folders = {f"{zone}/a", f"{zone}/b"}
    return zones


def _line(estimate: cost.Estimate, service: str) -> cost.Line:
    return next(line for line in estimate.lines if line.service == service)


def test_athena_line_is_billed_bytes_times_runs_at_5_dollars_a_terabyte() -> None:
    scan = cost.scan_of(_run_results(*[MEGABYTE] * 100), "rr.json")  # 100 queries, 1 MB each
    result = cost.estimate(_zones(), scan, PRICES, cost.Workload(runs_per_month=30))
    athena = _line(result, "Athena")
    # 100 queries x 10 MB minimum x 30 runs = 30,000 MB a month.
    assert athena.monthly == pytest.approx(100 * 10 * MEGABYTE * 30 / TERABYTE * 5.0)
    assert athena.yearly == pytest.approx(athena.monthly * 12)
    assert "100 queries" in athena.basis


def test_storage_counts_each_zone_and_the_versions_kept() -> None:
    scan = cost.scan_of(_run_results(MEGABYTE), "rr.json")
    zones = _zones(landing=GIGABYTE, trusted=GIGABYTE)
    zones["landing"].noncurrent_bytes = GIGABYTE  # measured noncurrent versions
    workload = cost.Workload(runs_per_month=30, noncurrent_days=90)
    result = cost.estimate(zones, scan, PRICES, workload)
    # landing: 1 GB current + 1 GB kept (measured; never replaced by builds).
    assert _line(result, "S3 storage, landing").monthly == pytest.approx(2 * 0.025)
    # trusted: each of 30 builds a month replaces 1 GB, each version kept 90 days.
    assert _line(result, "S3 storage, trusted").monthly == pytest.approx((1 + 30 * 3) * 0.025)
    assert _line(result, "S3 storage, raw").monthly == 0
    services = [line.service for line in result.lines]
    for zone in cost.ZONES:
        assert f"S3 storage, {zone}" in services


def test_small_platform_stays_in_the_free_tiers_but_pays_for_its_key() -> None:
    scan = cost.scan_of(_run_results(*[MEGABYTE] * 10), "rr.json")
    result = cost.estimate(_zones(raw=MEGABYTE), scan, PRICES, cost.Workload())
    assert _line(result, "Glue Data Catalog").monthly == 0
    assert _line(result, "CloudWatch").monthly == 0  # 4 alarms, 9 metrics: under 10 each
    assert _line(result, "CloudFront").monthly == 0  # 2,000 views: under 1 TB, 10 M requests
    assert _line(result, "KMS").monthly == pytest.approx(1.0)  # the key; requests are free
    assert result.yearly == pytest.approx(sum(line.monthly for line in result.lines) * 12)


def test_every_service_is_printed_with_its_assumptions() -> None:
    scan = cost.scan_of(_run_results(MEGABYTE, 0), "rr.json")
    result = cost.estimate(_zones(raw=MEGABYTE), scan, PRICES, cost.Workload())
    text = cost.format_estimate(result)
    for service in (
        "S3 storage, landing",
        "S3 requests",
        "Athena",
        "Glue Data Catalog",
        "KMS",
        "CloudTrail data events",
        "CloudWatch",
        "CloudFront",
        "Total",
    ):
        assert service in text
    assert "assumptions:" in text
    assert "aws-ca-central-1-2026-11.json" in text
    assert "S3 $285.85" in text


def test_dap_cost_on_a_local_lake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = tmp_path / "lake"
    (lake / "landing" / "x").mkdir(parents=True)
    (lake / "landing" / "x" / "a.csv").write_bytes(b"x" * 1000)
    (lake / "raw" / "t" / "year=2024").mkdir(parents=True)
    (lake / "raw" / "t" / "year=2024" / "p.parquet").write_bytes(b"y" * 500)
    (lake / "warehouse.duckdb").write_bytes(b"z" * 3000)
    run_results = tmp_path / "run_results.json"
    run_results.write_text(json.dumps(_run_results(MEGABYTE, 2 * MEGABYTE, 0)))
    status = main(
        [
            "cost",
            "--lake",
            str(lake),
            "--run-results",
            str(run_results),
            "--runs-per-month",
            "10",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "1,000 B in 1 objects" in out  # landing
    assert "500 B in 1 objects" in out  # raw
    assert "3,000 B in 1 objects" in out  # the DuckDB file, standing in for trusted
    assert "2 queries a build" in out
    assert "10 builds" in out


def test_dap_cost_without_a_build_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["cost", "--lake", str(tmp_path), "--run-results", str(tmp_path / "no.json")])
    assert status == 1
    assert "run `dbt build` on the athena target" in capsys.readouterr().err
