"""The ``dap`` command as people run it: exit codes, messages on stderr, summary on stdout."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path

import pytest

from dap.cli import main
from dap.schema import DATASET
from testkit.workbooks import (
    HEADER,
    SHEET,
    assert_refused,
    clean_env,
    raw_table,
    row,
    run_dap,
    sha256_of,
    simple_book,
    tree_state,
    xlsx,
)


@pytest.fixture
def books(tmp_path: Path) -> list[Path]:
    """Three workbooks: 2021 (3 rows), 2022-2023 across the new year (4 rows), 2024 (2 rows)."""
    folder = tmp_path / "in"
    return [
        simple_book(folder / "a-2021.xlsx", date(2021, 5, 1), 3),
        simple_book(folder / "b-2022-2023.xlsx", date(2022, 12, 30), 4, start_n=10),
        simple_book(folder / "c-2024.xlsx", date(2024, 9, 29), 2, start_n=20),
    ]


def _no_date(path: Path) -> Path:
    header = [h for h in HEADER if h != "Date"]
    return xlsx(path, {"Daily": [["Extract"], header, [5, 4, 1, 2.0, 0.5, 1]]})


def test_help_explains_the_commands():
    result = run_dap("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: dap ")
    for word in ["load", "sample", "fetch", "Vancouver 3-1-1"]:
        assert word in result.stdout
    assert result.stderr == ""


def test_load_help_explains_the_options():
    result = run_dap("load", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert text.startswith(
        "usage: dap load [-h] [--lake LAKE] [--landing S3_URI] [--raw S3_URI] "
        "[--pii {stop,mask}] [--allow-unprotected-bucket] "
        "[--glue-database NAME | --no-glue] [--kms-key-id KEY] [--supersede] "
        "[--reason TEXT] WORKBOOK [WORKBOOK ...]"
    )
    for phrase in [
        "--lake LAKE",
        "s3://bucket/prefix",
        "$DAP_LAKE",
        "./lake",
        "named by sha256",
        "typed Parquet by year",
        "load_issues",
        "--glue-database NAME Glue database of the raw table",
        "$DAP_RAW_DATABASE, else raw",
        "--no-glue land the files without touching the Glue catalog",
        "a local lake never uses Glue",
        "--kms-key-id KEY SSE-KMS key for every object written",
        "SSE-KMS",
        "key id, ARN or alias/NAME",
        "$DAP_KMS_KEY_ID",
        "the bucket's default encryption",
        "--pii {stop,mask}",
        "email, phone, postal code, card number, SIN",
        "never the value",
        "--allow-unprotected-bucket write to s3:// buckets even without default encryption",
        "audit record to _audit/loads/",
        "--landing S3_URI",
        "--raw S3_URI",
    ]:
        assert phrase in text


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["load"], id="no-workbook"),
        pytest.param(["unload", "x.xlsx"], id="unknown-command"),
        pytest.param(["load", "x.xlsx", "--bogus"], id="unknown-option"),
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: dap")
    assert "Traceback" not in err


def test_usage_error_exits_2_as_a_process():
    result = run_dap("load")
    assert result.returncode == 2
    assert "the following arguments are required: WORKBOOK" in result.stderr
    assert result.stdout == ""


def test_missing_required_column_exits_1_and_leaves_the_lake_alone(books, tmp_path):
    lake = tmp_path / "lake"
    assert run_dap("load", books[0], "--lake", lake).returncode == 0
    before = tree_state(lake, audit=True)
    bad = _no_date(tmp_path / "in" / "no date.xlsx")

    result = run_dap("load", books[1], books[2], bad, "--lake", lake)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    last = result.stderr.splitlines()[-1]
    assert last == (
        "dap load: error: no date.xlsx, sheet 'Daily', row 2, column 'Date': "
        "required column missing: 'Date'; the header row has 'CallsOffered', 'CallsHandled', "
        "'CallsAbandoned', 'AverageSpeedofAnswer', 'ServiceLevel', 'BI_ID'"
    )
    # The lake outside _audit/ as it was; only the refusal's record and event-log row more.
    record = assert_refused(lake, before, sha256=sha256_of(bad), code="missing_column")
    assert record["file"] == {
        "file_number": 3,
        "file_name": "no date.xlsx",
        "sha256": sha256_of(bad),
        "size_bytes": bad.stat().st_size,
    }


def test_nonexistent_path_exits_1_cleanly(tmp_path):
    missing = tmp_path / "missing.xlsx"
    lake = tmp_path / "lake"
    result = run_dap("load", missing, "--lake", lake)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"dap load: error: {missing}: cannot read the file (No such file or directory)"
    )
    assert not lake.exists()


def test_not_a_workbook_exits_1_cleanly(tmp_path):
    fake = tmp_path / "report.xlsx"
    fake.write_text("<html>Service unavailable</html>")
    result = run_dap("load", fake, "--lake", tmp_path / "lake")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "dap load: error: report.xlsx: not a readable Excel workbook"
    )


def test_three_file_load_reports_progress_and_summary(books, tmp_path):
    lake = tmp_path / "lake"
    result = run_dap("load", *books, "--lake", lake)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"loaded: 3 file(s): 3 landed, 0 skipped as unchanged; 9 rows; "
        f"4 partition file(s) written to {lake}\n"
    )
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("audit record: _audit/loads/")
    assert lines[:-1] == [
        f"loading 3 workbook(s) into {lake}",
        f"loading as {getpass.getuser()}",
        f"[1/3] a-2021.xlsx: checked ({SHEET!r} 3 rows)",
        f"[2/3] b-2022-2023.xlsx: checked ({SHEET!r} 4 rows)",
        f"[3/3] c-2024.xlsx: checked ({SHEET!r} 2 rows)",
        "[1/3] a-2021.xlsx: landed 3 rows in 1 partition(s)",
        "[2/3] b-2022-2023.xlsx: landed 4 rows in 2 partition(s)",
        "[3/3] c-2024.xlsx: landed 2 rows in 1 partition(s)",
    ]
    table = raw_table(lake)
    assert table.num_rows == 9
    assert table.column("year").to_pylist() == [2021] * 3 + [2022, 2022, 2023, 2023, 2024, 2024]
    assert table.column("callsoffered").to_pylist() == [
        1001,
        1002,
        1003,
        1010,
        1011,
        1012,
        1013,
        1020,
        1021,
    ]

    before = tree_state(lake)
    again = run_dap("load", *books, "--lake", lake)
    assert again.returncode == 0, again.stderr
    assert again.stdout == (
        f"loaded: 3 file(s): 0 landed, 3 skipped as unchanged; 0 rows; "
        f"0 partition file(s) written to {lake}\n"
    )
    shas = [sha256_of(p) for p in books]
    assert again.stderr.splitlines()[2:-1] == [
        f"[{i}/3] {p.name}: unchanged (sha256 {sha[:12]}), skipped"
        for i, (p, sha) in enumerate(zip(books, shas, strict=True), start=1)
    ]
    assert again.stderr.splitlines()[-1].startswith("audit record: _audit/loads/")
    assert tree_state(lake) == before


def test_lake_from_dap_lake_then_default_folder(books, tmp_path):
    env_lake = tmp_path / "env-lake"
    result = run_dap("load", books[0], env=clean_env(DAP_LAKE=str(env_lake)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (env_lake / "_manifests" / DATASET / f"{sha256_of(books[0])}.json").is_file()

    option_lake = tmp_path / "option-lake"
    result = run_dap(
        "load",
        books[1],
        "--lake",
        option_lake,
        env=clean_env(DAP_LAKE=str(env_lake)),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (option_lake / "_manifests" / DATASET / f"{sha256_of(books[1])}.json").is_file()
    assert not (env_lake / "_manifests" / DATASET / f"{sha256_of(books[1])}.json").exists()

    result = run_dap("load", books[2], env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("written to lake\n")
    assert (tmp_path / "lake" / "_manifests" / DATASET / f"{sha256_of(books[2])}.json").is_file()


def test_main_in_process_row_level_issue_still_exits_0(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DAP_LAKE", raising=False)
    rows = [HEADER, row(date(2023, 1, 1), 1), [date(2023, 1, 2), "abc", 1, 1, 1.0, 0.5, 2]]
    book = xlsx(tmp_path / "issues.xlsx", {"Data": rows})
    assert main(["load", str(book), "--lake", str(tmp_path / "lake")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("loaded: 1 file(s): 1 landed, 0 skipped as unchanged; 2 rows;")
    issues = raw_table(tmp_path / "lake").column("load_issues").to_pylist()
    assert issues == [None, "CallsOffered (B3): 'abc' is not a number"]
