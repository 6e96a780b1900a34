"""What people see: the dbt docs site (lineage), the published report, docs coverage.

The browser tests drive Debian's Chromium through Playwright (no browser download) the
way a person uses the pages, and skip with instructions when Chromium is not installed.
"""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
import requests

from athena_local import AthenaLocal
from dap.errors import DapError
from dap.lake.storage import open_lake
from dap.publish.report import write_report
from testkit.support import (
    ATHENA_REGION,
    BIN,
    CHROMIUM_ARGS,
    REAL_CSV,
    REPO_ROOT,
    DbtResult,
    chromium_or_skip,
    copy_project,
    is_blank,
    run_dap,
    run_dbt_cli,
)

pytestmark = pytest.mark.dbt


@dataclass
class Built:
    lake: Path
    target: Path
    env: dict[str, str]
    report: Path


def _dbt(args: list[str], env: dict[str, str], cwd: Path = REPO_ROOT) -> DbtResult:
    return run_dbt_cli(args, cwd=cwd, env=env)


def _build(tmp: Path, dbt_profiles_dir: Path, extracts: list[str], *, docs: bool) -> Built:
    """``extracts`` landed in a lake of their own, built (and docs generated when
    ``docs``), report written."""
    lake, target = tmp / "lake", tmp / "target"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAP_", "DBT_", "AWS_"))}
    env.update(
        DAP_LAKE=str(lake),
        DBT_PROFILES_DIR=str(dbt_profiles_dir),
        DBT_TARGET_PATH=str(target),
        DBT_LOG_PATH=str(tmp / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    loaded = run_dap("load", *extracts, lake=lake)
    assert loaded.returncode == 0, loaded.stderr
    for args in [["build"], ["docs", "generate"]] if docs else [["build"]]:
        result = _dbt(args, env)
        assert result.returncode == 0, result.output[-3000:]
    report = tmp / "report"
    made = run_dap("report", "--lake", str(lake), "--out", str(report))
    assert made.returncode == 0, made.stderr
    return Built(lake, target, env, report)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, dbt_profiles_dir: Path) -> Built:
    """The sample workbooks landed and built, docs generated, report written."""
    tmp = tmp_path_factory.mktemp("published")
    workbooks = tmp / "workbooks"
    assert run_dap("sample", "--out", str(workbooks)).returncode == 0
    return _build(tmp, dbt_profiles_dir, sorted(map(str, workbooks.iterdir())), docs=True)


@pytest.fixture(scope="module")
def built_real(tmp_path_factory: pytest.TempPathFactory, dbt_profiles_dir: Path) -> Built:
    """The City's real export (../shared/data) landed as it is, built, report written;
    skipped when the data is absent."""
    if not REAL_CSV.is_file():
        pytest.skip(f"real dataset not found at {REAL_CSV} (see ../shared/data/README.md)")
    tmp = tmp_path_factory.mktemp("published-real")
    return _build(tmp, dbt_profiles_dir, [str(REAL_CSV)], docs=False)


# Documentation coverage ---------------------------------------------------------------


def test_documentation_coverage_is_complete(built: Built) -> None:
    result = run_dap("docs-coverage", "--target", str(built.target))
    assert result.returncode == 0, result.stdout + result.stderr
    for kind in ("models", "columns", "sources", "macros", "model grains"):
        assert re.search(rf"^{kind}\s+(\d+) / \1\s+100\.0 %$", result.stdout, re.MULTILINE), kind


def test_documentation_coverage_fails_when_a_column_description_is_deleted(
    built: Built, tmp_path: Path
) -> None:
    scratch = copy_project(tmp_path / "project")
    models = scratch / "models" / "marts" / "_marts__models.yml"
    text = models.read_text()
    yearly = text.index("  - name: fct_calls_handled_yearly")
    column = text.index("      - name: calls_abandoned\n", yearly)
    line = re.compile(r"        description: .*\n")
    found = line.search(text, column)
    assert found is not None
    assert text[column : found.start()].count("- name:") == 1  # still calls_abandoned's
    # Delete the yearly mart's description of calls_abandoned, nothing else.
    models.write_text(text[: found.start()] + text[found.end() :])
    env = {**built.env, "DBT_TARGET_PATH": str(tmp_path / "target")}
    result = _dbt(["docs", "generate"], env, cwd=scratch)
    assert result.returncode == 0, result.output[-3000:]
    coverage = run_dap("docs-coverage", "--target", str(tmp_path / "target"))
    assert coverage.returncode == 1
    assert "missing columns: fct_calls_handled_yearly.calls_abandoned" in coverage.stdout
    assert "below 100%" in coverage.stderr


# The docs site, in a browser ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def docs_url(built: Built) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            str(BIN / "dbt"),
            "docs",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
        ],
        cwd=REPO_ROOT,
        env=built.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "manifest.json", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


_CYTOSCAPE_NODES = """() => {
    const el = Array.from(document.querySelectorAll("*")).find(e => e._cyreg && e._cyreg.cy);
    if (!el) return null;
    const box = el.getBoundingClientRect();
    return el._cyreg.cy.nodes().filter(n => n.visible()).map(n => {
        const p = n.renderedPosition();
        return {id: n.id(), inside: p.x >= 0 && p.y >= 0 && p.x <= box.width && p.y <= box.height};
    });
}"""


def test_docs_site_draws_the_lineage_upstream_of_the_yearly_mart(
    browser: object, docs_url: str
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})  # type: ignore[attr-defined]
    page.goto(docs_url)
    page.fill("input[placeholder='Search for models...']", "fct_calls_handled_yearly")
    # Each result's title is an <h4>: the model's name, then its kind.
    page.locator("h4", has_text=re.compile(r"^\s*fct_calls_handled_yearly\s+model\s*$")).click()
    page.wait_for_selector("h1:has-text('fct_calls_handled_yearly')", timeout=30_000)
    page.click('a[title="View Lineage Graph"]')
    page.click('[title="View Fullscreen"]')
    page.wait_for_function(
        f"() => (({_CYTOSCAPE_NODES})() || []).length > 8",
        timeout=30_000,
    )
    page.wait_for_timeout(1000)  # the layout animates into place
    nodes = {n["id"]: n["inside"] for n in page.evaluate(_CYTOSCAPE_NODES)}
    upstream = [
        "source.vancouver_311.contact_centre.contact_centre_metrics",
        "model.vancouver_311.stg_contact_centre__daily_metrics",
        "model.vancouver_311.int_daily_metrics_validated",
        "model.vancouver_311.fct_contact_centre_daily",
        "model.vancouver_311.fct_calls_handled_yearly",
    ]
    for node in upstream:
        assert nodes.get(node) is True, f"{node} is not drawn in the lineage graph"
    assert not is_blank(page.screenshot())
    page.close()


# The published report -----------------------------------------------------------------


class _Cells(HTMLParser):
    """{(year, field): text} from the report's yearly table."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], str] = {}
        self._year: str | None = None
        self._field: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and found.get("data-year"):
            self._year = found["data-year"]
        if tag == "td" and self._year and found.get("data-field"):
            self._field = found["data-field"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":  # a later table's cells are not the year's
            self._year = None

    def handle_data(self, data: str) -> None:
        if self._year and self._field:
            self.cells[(self._year, self._field)] = data.strip()
            self._field = None


_SAME_DAYS = (
    "select round(100.0 * sum(calls_handled) / sum(calls_offered), 2)"
    " from trusted.fct_contact_centre_daily"
    " where year(date) = ? and strftime(date, '%m-%d') between ? and ?"
)
"""A year's calls handled (%) over the days of the year from one MM-DD to another."""


def _expected_cells(lake: Path) -> dict[tuple[str, str], str]:
    """The yearly table as the marts say it should read. The change compares like with
    like: whole years with whole years; a partial year (the sample's 2024, January to
    September) with the same days of the year before, summed from the daily mart."""
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select year, calls_offered, calls_handled, calls_handled_pct, service_level,"
            " avg_speed_of_answer_seconds, days_reported,"
            " strftime(first_reported_date, '%m-%d'), strftime(last_reported_date, '%m-%d')"
            " from trusted.fct_calls_handled_yearly order by year"
        ).fetchall()
        expected: dict[tuple[str, str], str] = {}
        previous = None
        for year, offered, handled, pct, level, answer, days, first, last in rows:
            key = str(year)
            expected[(key, "calls_offered")] = f"{offered:,}"
            expected[(key, "calls_handled")] = f"{handled:,}"
            expected[(key, "calls_handled_pct")] = f"{pct:.2f}"
            if previous is None:
                change = "\u2013"
            elif (first, last, previous[1], previous[2]) == ("01-01", "12-31", "01-01", "12-31"):
                change = f"{round(pct - previous[0], 2):+.2f}"
            else:
                start, end = max(first, previous[1]), min(last, previous[2])
                (now,) = con.execute(_SAME_DAYS, [year, start, end]).fetchone() or (None,)
                (then,) = con.execute(_SAME_DAYS, [year - 1, start, end]).fetchone() or (None,)
                change = f"{round(now - then, 2):+.2f}"
            expected[(key, "change")] = change
            expected[(key, "service_level")] = f"{level * 100:.2f}"
            expected[(key, "avg_speed_of_answer_seconds")] = f"{answer:.2f}"
            expected[(key, "days_reported")] = str(days)
            previous = (pct, first, last)
    return expected


def test_report_shows_the_marts_figures(built: Built) -> None:
    cells = _Cells()
    cells.feed((built.report / "index.html").read_text(encoding="utf-8"))
    assert cells.cells == _expected_cells(built.lake)
    page = (built.report / "index.html").read_text(encoding="utf-8")

    def days(list_id: str) -> list[str]:
        found = re.search(rf'<ul id="{list_id}">(.*?)</ul>', page)
        assert found is not None, list_id
        return re.findall(r'data-day="([0-9-]+)"', found.group(1))

    # The planted error is held back; the sample's two gaps are missing from every extract.
    assert days("quarantined") == ["2023-06-14"]
    assert days("missing") == ["2021-03-07", "2023-03-08"]
    assert '<span data-field="first_day">2020-01-01</span>' in page
    assert '<span data-field="last_day">2024-09-30</span>' in page
    assert "2024: 2024-01-01 to 2024-09-30 (274 days)" in page  # a partial year is marked
    # ...and compared with the same months of the year before, in words.
    assert re.search(
        r"2024 compares January\u2013September 2024 with January\u2013September 2023: "
        r"[\d.]+ % against [\d.]+ %, [+\u2212][\d.]+ points\.",
        page,
    )
    assert not re.search(r"(src|href)=\"https?:", page)  # nothing fetched
    png = (built.report / "calls-handled.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert not is_blank(png)
    # The daily download: the mart's rows, one line each, linked from the page.
    assert '<a href="calls-handled-daily.csv" download>' in page
    text = (built.report / "calls-handled-daily.csv").read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    with duckdb.connect(str(built.lake / "warehouse.duckdb"), read_only=True) as con:
        (days_in_mart,) = con.execute(
            "select count(*) from trusted.fct_contact_centre_daily"
        ).fetchone()
    assert lines[0][:2] == ["date", "calls_offered"]
    assert len(lines) - 1 == days_in_mart


def test_report_in_a_browser_renders_charts_without_network(browser: object, built: Built) -> None:
    context = browser.new_context(offline=True, viewport={"width": 900, "height": 1200})  # type: ignore[attr-defined]
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.goto((built.report / "index.html").as_uri())
    shown = {
        (row.get_attribute("data-year"), cell.get_attribute("data-field")): cell.inner_text()
        for row in page.locator("#yearly tbody tr").all()
        for cell in row.locator("td[data-field]").all()
    }
    assert shown == _expected_cells(built.lake)
    bars = {
        bar.get_attribute("data-year"): bar.get_attribute("data-value")
        for bar in page.locator("svg[data-chart=yearly] rect.bar").all()
    }
    assert bars == {year: shown[(year, "calls_handled_pct")] for year, _ in shown}
    # Bars from zero: each bar stands on the axis, its drawn height proportional to its value.
    assert page.locator("svg[data-chart=yearly]").get_attribute("data-low") == "0.0"
    boxes = {
        bar.get_attribute("data-year"): bar.bounding_box()
        for bar in page.locator("svg[data-chart=yearly] rect.bar").all()
    }
    bottoms = {round(box["y"] + box["height"]) for box in boxes.values() if box is not None}
    assert len(bottoms) == 1
    ratios = [
        box["height"] / float(bars[year] or "nan")
        for year, box in boxes.items()
        if box is not None and year is not None
    ]
    assert max(ratios) - min(ratios) < 0.02 * max(ratios)
    # The partial year's bar is marked, and its exact value is there on hover.
    partial = page.locator("svg[data-chart=yearly] rect.bar.partial")
    assert [bar.get_attribute("data-year") for bar in partial.all()] == ["2024"]
    assert "January\u2013September only" in (partial.locator("title").text_content() or "")
    for chart in ("monthly", "service-level", "speed-of-answer"):
        assert page.locator(f"svg[data-chart={chart}] polyline").count() == 1, chart
        box = page.locator(f"svg[data-chart={chart}]").bounding_box()
        assert box is not None
        assert box["width"] > 300
    assert not is_blank(page.locator("svg[data-chart=yearly]").screenshot())
    assert not is_blank(page.screenshot(full_page=True))
    assert [url for url in requested if not url.startswith("file://")] == []
    page.set_viewport_size({"width": 390, "height": 900})  # a phone: nothing overflows
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def _axe_violations(page: object) -> list[str]:
    """axe-core's violations on the page, one line each (rule, impact, where)."""
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("width", [900, 390])
def test_report_has_no_accessibility_violations(browser: object, built: Built, width: int) -> None:
    """axe-core (WCAG 2 A and AA and best practices) finds nothing, on a desktop and a
    phone's width."""
    context = browser.new_context(offline=True, viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto((built.report / "index.html").as_uri())
    assert _axe_violations(page) == []
    context.close()


def test_axe_finds_a_violation_on_a_broken_page(browser: object, tmp_path: Path) -> None:
    """The check can fail: an image without a text alternative and grey text on white."""
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!doctype html><html lang="en"><head><title>x</title></head><body><main>'
        '<svg role="img" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'
        '<p style="color:#bbb">faint</p></main></body></html>'
    )
    context = browser.new_context(offline=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(broken.as_uri())
    found = " ".join(_axe_violations(page))
    assert "svg-img-alt" in found
    assert "color-contrast" in found
    context.close()


def test_report_layout_holds_at_390_px(browser: object, built: Built) -> None:
    """A phone: no horizontal scroll; the charts fit the screen; the wide tables scroll
    inside their own region, which a keyboard can reach."""
    context = browser.new_context(  # type: ignore[attr-defined]
        offline=True, viewport={"width": 390, "height": 844}, device_scale_factor=2
    )
    page = context.new_page()
    page.goto((built.report / "index.html").as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("document.body.scrollWidth") <= 390
    for chart in page.locator("svg.chart").all():
        box = chart.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
    region = page.locator("div.scroll:has(#yearly)")
    assert region.get_attribute("tabindex") == "0"
    box = region.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 390
    assert not is_blank(page.screenshot(full_page=True))
    context.close()


def test_report_uploads_to_s3_for_publishing(
    built: Built, athena_local: AthenaLocal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", athena_local.url)
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=ATHENA_REGION
    )
    s3 = session.client("s3")
    s3.create_bucket(
        Bucket="public-report", CreateBucketConfiguration={"LocationConstraint": ATHENA_REGION}
    )
    with pytest.raises(
        DapError, match="refusing to write: versioning is not enabled and it has no"
    ):
        write_report(built.lake, open_lake("s3://public-report/311/", session))
    assert s3.list_objects_v2(Bucket="public-report").get("KeyCount") == 0
    # A public page needs no KMS key (readers could not decrypt it): SSE-S3 is enough.
    s3.put_bucket_versioning(Bucket="public-report", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket="public-report",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    written = write_report(
        built.lake, open_lake("s3://public-report/311/", session), now=datetime(2026, 1, 1)
    )
    assert written == [
        "s3://public-report/311/index.html",
        "s3://public-report/311/calls-handled.png",
        "s3://public-report/311/calls-handled-daily.csv",
    ]
    page = s3.get_object(Bucket="public-report", Key="311/index.html")
    assert page["ContentType"].startswith("text/html")
    assert b"calls handled" in page["Body"].read()
    chart = s3.get_object(Bucket="public-report", Key="311/calls-handled.png")
    assert chart["ContentType"] == "image/png"
    assert chart["Body"].read() == (built.report / "calls-handled.png").read_bytes()


# The planning sections, on the real data ----------------------------------------------
#
# The City's export (../shared/data), built as it is: each figure the page shows in the
# heatmap, the strain days and the volume table is the mart's, read here with duckdb; the
# readings' figures are derived here from the marts with SQL of their own.


def _mart(lake: Path, query: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(lake / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def _share(value: float | None) -> str:
    return "\u2013" if value is None else f"{value * 100:.1f}"


def _signed(value: float | None, digits: int = 1) -> str:
    return "\u2013" if value is None else f"{value:+.{digits}f}"


@pytest.fixture(scope="module")
def real_page(browser: Any, built_real: Built) -> Iterator[Any]:
    context = browser.new_context(offline=True, viewport={"width": 900, "height": 1200})
    page = context.new_page()
    page.goto((built_real.report / "index.html").as_uri())
    yield page
    context.close()


def _reading(page: Any, name: str) -> str:
    return str(page.locator(f"p.reading#{name}").inner_text())


def test_real_report_heatmap_shows_the_profile_marts_medians(
    real_page: Any, built_real: Built
) -> None:
    shown = {
        (row.get_attribute("data-month"), cell.get_attribute("data-weekday")): (
            cell.inner_text(),
            cell.get_attribute("class"),
        )
        for row in real_page.locator("#weekday-profile tbody tr").all()
        for cell in row.locator("td").all()
    }
    mart = _mart(
        built_real.lake,
        "select month_of_year, iso_weekday, calls_offered_median"
        " from trusted.fct_contact_centre_weekday_profile"
        " order by calls_offered_median, month_of_year, iso_weekday",
    )
    assert len(mart) == 12 * 7  # the default window (three years) has every cell
    assert {key: text for key, (text, _) in shown.items()} == {
        (str(month), str(weekday)): f"{median:,.0f}" for month, weekday, median in mart
    }
    # The shade follows the figure: the quietest cell lightest, the busiest darkest.
    shades = [int(str(shown[(str(m), str(w))][1]).removeprefix("h")) for m, w, _ in mart]
    assert shades == sorted(shades)
    assert (shades[0], shades[-1]) == (0, 4)
    # The reading names the busiest and the quietest cell of the mart, with their medians.
    ((first, last),) = _mart(
        built_real.lake,
        "select min(first_year), max(last_year) from trusted.fct_contact_centre_weekday_profile",
    )
    extreme = (
        "select weekday_name, month_name, calls_offered_median"
        " from trusted.fct_contact_centre_weekday_profile"
        " order by calls_offered_median {}, month_of_year, iso_weekday limit 1"
    )
    ((busy_day, busy_month, busy),) = _mart(built_real.lake, extreme.format("desc"))
    ((quiet_day, quiet_month, quiet),) = _mart(built_real.lake, extreme.format("asc"))
    assert _reading(real_page, "profile-reading") == (
        f"Over {first}\u2013{last}, {busy_day}s in {busy_month} are the busiest: "
        f"{busy:,.0f} calls offered on a typical day, {busy / quiet:.1f}\u00d7 a typical "
        f"{quiet_day} in {quiet_month} ({quiet:,.0f})."
    )


def test_real_report_lists_the_last_years_strain_days_from_the_mart(
    real_page: Any, built_real: Built
) -> None:
    ((last_year,),) = _mart(
        built_real.lake, "select max(year) from trusted.fct_contact_centre_daily"
    )
    mart = _mart(
        built_real.lake,
        "select date, weekday_name, calls_offered, baseline_median, service_level,"
        " baseline_service_level, avg_speed_of_answer_seconds, calls_abandoned_pct"
        " from trusted.fct_contact_centre_strain_days where year = ? order by date",
        [last_year],
    )
    shown = {
        (row.get_attribute("data-day"), cell.get_attribute("data-field")): cell.inner_text()
        for row in real_page.locator("#strain-days tbody tr").all()
        for cell in row.locator("td[data-field]").all()
    }
    expected: dict[tuple[str, str], str] = {}
    for day, weekday, offered, typical, level, typical_level, answer, abandoned in mart:
        key = str(day)
        expected |= {
            (key, "weekday_name"): weekday,
            (key, "calls_offered"): f"{offered:,}",
            (key, "baseline_median"): f"{typical:,.0f}",
            (key, "service_level"): _share(level),
            (key, "baseline_service_level"): _share(typical_level),
            (key, "avg_speed_of_answer_seconds"): f"{answer:.1f}",
            (key, "calls_abandoned_pct"): f"{abandoned:.1f}",
        }
    assert shown == expected
    reading = _reading(real_page, "strain-reading")
    if not mart:
        assert reading.endswith("no strain days.")
        return
    ((days, on_them, around),) = _mart(
        built_real.lake,
        "select count(*), avg(service_level), avg(baseline_service_level)"
        " from trusted.fct_contact_centre_strain_days where year = ?"
        " and service_level is not null and baseline_service_level is not null",
        [last_year],
    )
    assert days == len(mart)  # every strain day has both figures on the real data
    found = re.fullmatch(
        rf"In {last_year}(?: \([^)]*\))?, (\d+) days? (?:was a strain day|were strain days); "
        r"on them service level averaged ([\d.]+) % against ([\d.]+) % on the same "
        r"weekdays around them\.",
        reading,
    )
    assert found is not None, reading
    assert found.groups() == (str(days), _share(on_them), _share(around))


def test_real_report_shows_service_level_against_volume_as_the_marts_say(
    real_page: Any, built_real: Built
) -> None:
    mart = _mart(
        built_real.lake,
        "select year, days, calls_offered_mean, service_level,"
        " service_level_slope_per_1000_calls, calls_abandoned_pct_slope_per_1000_calls,"
        " service_level_volume_correlation"
        " from trusted.fct_contact_centre_volume_response_yearly order by year",
    )
    shown = {
        (row.get_attribute("data-response-year"), cell.get_attribute("data-field")): (
            cell.inner_text()
        )
        for row in real_page.locator("#volume-response tbody tr").all()
        for cell in row.locator("td[data-field]").all()
    }
    expected: dict[tuple[str, str], str] = {}
    for year, days, mean, level, slope, abandoned, correlation in mart:
        key = str(year)
        expected |= {
            (key, "days"): f"{days:,}",
            (key, "calls_offered_mean"): f"{mean:,.0f}",
            (key, "service_level"): _share(level),
            # The slope of a share (0-1) on the page is in percentage points.
            (key, "service_level_slope_per_1000_calls"): _signed(
                None if slope is None else slope * 100
            ),
            (key, "calls_abandoned_pct_slope_per_1000_calls"): _signed(abandoned),
            (key, "service_level_volume_correlation"): _signed(correlation, 2),
        }
    assert shown == expected
    # A scatter for each of the latest years: one dot per day with a service level.
    panels = {
        svg.get_attribute("data-chart"): svg.locator("circle").count()
        for svg in real_page.locator("svg.scatter").all()
    }
    dots = _mart(
        built_real.lake,
        "select year, count(*) from trusted.fct_contact_centre_daily"
        " where service_level is not null group by year order by year",
    )
    assert panels == {f"volume-{year}": count for year, count in dots[-len(panels) :]}
    assert len(panels) == 4
    for name in panels:
        label = real_page.locator(f"svg[data-chart={name}]").get_attribute("aria-labelledby")
        assert label == f"{name}-title {name}-words"
        assert (
            real_page.locator(f"#{name}-words")
            .inner_text()
            .startswith(f"In {name.removeprefix('volume-')}, ")
        )
    # The reading: the last year's slope, in points, and the days behind it.
    year, days, _, _, slope, abandoned, _ = mart[-1]
    assert slope is not None
    assert _reading(real_page, "response-reading") == (
        f"In {year}, each 1,000 more calls in a day went with a service level "
        f"{abs(slope * 100):.1f} points {'lower' if slope < 0 else 'higher'} and abandonment "
        f"{abs(abandoned):.1f} points {'lower' if abandoned < 0 else 'higher'} "
        f"(based on {days:,} days)."
    )


@pytest.mark.parametrize("width", [900, 390])
def test_real_report_has_no_accessibility_violations(
    browser: Any, built_real: Built, width: int
) -> None:
    """axe-core finds nothing on the real data's page (the heatmap's shades, its
    legend, the scatter plots), and a phone scrolls only inside the tables' regions."""
    context = browser.new_context(offline=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto((built_real.report / "index.html").as_uri())
    assert _axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
