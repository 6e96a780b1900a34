"""`dap pipeline` end to end: a stand-in portal on 127.0.0.1 (tools/portal.py) serves the
export; the pipeline fetches, loads, builds with dbt when something is new and publishes.

On the local DuckDB target: the first run publishes; a second run with the same export
starts no dbt process (a recording `dbt` first on PATH proves it); a re-issued export
(same dates, figures changed) is built and published. On the local Athena endpoint: one
run, the page published to an s3:// site bucket with its content types and cache headers,
encrypted as the bucket says (SSE-S3), not with the lake's key.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType

import boto3
import pytest
import requests

from dap.samples.synthetic import generate_day
from testkit.support import ATHENA_REGION, BIN, REPO_ROOT, aws_env

pytestmark = pytest.mark.dbt

START, END = date(2024, 8, 1), date(2024, 9, 30)
"""Two months: enough for every model, small enough for a quick build."""
BUMP = 100
"""The re-issue adds this many calls offered and handled to each of the newest 7 days."""
SITE_FILES = {"index.html", "calls-handled.png", "calls-handled-daily.csv"}


def _portal() -> ModuleType:
    spec = importlib.util.spec_from_file_location("portal", REPO_ROOT / "tools" / "portal.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("portal", module)
    spec.loader.exec_module(module)
    return module


portal = _portal()


def _recording_dbt(folder: Path, log: Path, *extra: str) -> Path:
    """A `dbt` that records each call in ``log``, then runs the real one (plus ``extra``)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "dbt"
    quoted = " ".join(f"'{a}'" for a in extra)
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{BIN / "dbt"}" "$@" {quoted}\n')
    script.chmod(0o755)
    return folder


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.is_file() else []


def _base_env(profiles: Path, tmp: Path, recorder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DAP_", "DBT_"))}
    env.update(
        DBT_PROFILES_DIR=str(profiles),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_TARGET_PATH=str(tmp / "target"),
        DBT_LOG_PATH=str(tmp / "logs"),
        DAP_DBT_PROJECT_DIR=str(REPO_ROOT),
        PATH=f"{recorder}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def _pipeline(
    url: str, lake: str, publish: str, env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "dap"), "pipeline", "--url", url, "--lake", lake, "--publish", publish],
        cwd=cwd,  # not the project's folder: DAP_DBT_PROJECT_DIR says where it is
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _daily(data: bytes) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return {row["date"]: row for row in rows}


@dataclass
class Run:
    process: subprocess.CompletedProcess[str]
    dbt_calls: list[str]
    site: dict[str, bytes]

    @property
    def output(self) -> str:
        return self.process.stdout + self.process.stderr


def _site(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory: pytest.TempPathFactory, dbt_profiles_dir: Path) -> dict[str, Run]:
    """First run, the same export again, then a re-issued export; on the DuckDB target."""
    tmp = tmp_path_factory.mktemp("pipeline")
    log = tmp / "dbt-calls.log"
    env = _base_env(dbt_profiles_dir, tmp, _recording_dbt(tmp / "recorder", log))
    export = portal.write_sample_csv(tmp / "portal" / "export.csv", start=START, end=END)
    lake, site = tmp / "lake", tmp / "site"
    runs: dict[str, Run] = {}
    with portal.serving(export) as url:
        for name in ("first", "same", "reissued"):
            if name == "reissued":
                portal.write_sample_csv(export, start=START, end=END, bump=BUMP)
            process = _pipeline(url, str(lake), str(site), env, tmp)
            runs[name] = Run(process, _calls(log), _site(site))
    return runs


def test_the_first_run_builds_and_publishes(local_runs: dict[str, Run]) -> None:
    run = local_runs["first"]
    assert run.process.returncode == 0, run.output[-4000:]
    assert run.dbt_calls == ["build"]
    assert set(run.site) == SITE_FILES
    daily = _daily(run.site["calls-handled-daily.csv"])
    assert len(daily) == (END - START).days + 1
    expected = generate_day(311, END)
    assert int(daily[END.isoformat()]["calls_offered"]) == expected.offered
    summary = run.process.stdout
    assert "landed" in summary
    assert "dbt build on duckdb" in summary
    assert " pass" in summary
    assert "no build of this lake recorded yet" in summary
    assert "published: 3 file(s) to " in summary


def test_the_same_export_again_starts_no_dbt(local_runs: dict[str, Run]) -> None:
    first, run = local_runs["first"], local_runs["same"]
    assert run.process.returncode == 0, run.output[-4000:]
    assert run.dbt_calls == first.dbt_calls  # the recording dbt was not called again
    assert run.process.stdout.startswith("nothing new: ")
    assert "no dbt process started" in run.process.stdout
    assert "1 skipped as unchanged" in run.process.stdout
    assert run.site == first.site  # nothing published again


def test_a_reissued_export_is_built_and_published(local_runs: dict[str, Run]) -> None:
    first, run = local_runs["first"], local_runs["reissued"]
    assert run.process.returncode == 0, run.output[-4000:]
    assert run.dbt_calls == ["build", "build"]
    assert "1 new extract(s)" in run.process.stdout
    before = _daily(first.site["calls-handled-daily.csv"])
    after = _daily(run.site["calls-handled-daily.csv"])
    assert after.keys() == before.keys()
    changed = {day for day in after if after[day]["calls_offered"] != before[day]["calls_offered"]}
    assert len(changed) == 7
    assert int(after[END.isoformat()]["calls_offered"]) == generate_day(311, END).offered + BUMP
    assert run.site["index.html"] != first.site["index.html"]


def test_a_failed_build_publishes_nothing_and_builds_again_next_time(
    tmp_path: Path, dbt_profiles_dir: Path
) -> None:
    log = tmp_path / "calls.log"
    failing = tmp_path / "failing"
    failing.mkdir()
    (failing / "dbt").write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexit 1\n')
    (failing / "dbt").chmod(0o755)
    env = _base_env(dbt_profiles_dir, tmp_path, failing)
    export = portal.write_sample_csv(tmp_path / "export.csv", start=END, end=END)
    lake, site = tmp_path / "lake", tmp_path / "site"
    with portal.serving(export) as url:
        first = _pipeline(url, str(lake), str(site), env, tmp_path)
        second = _pipeline(url, str(lake), str(site), env, tmp_path)
    for process in (first, second):
        assert process.returncode == 1
        assert "dap pipeline: error: dbt build failed (exit status 1" in process.stderr
        assert "nothing was published" in process.stderr
        assert "Traceback" not in process.stderr
    assert _calls(log) == ["build", "build"]  # no state was recorded: it builds again
    assert not site.exists()
    assert not (lake / "_audit" / "pipeline").exists()


def test_a_portal_error_names_the_url_and_lands_nothing(
    tmp_path: Path, dbt_profiles_dir: Path
) -> None:
    env = _base_env(dbt_profiles_dir, tmp_path, tmp_path)
    export = portal.write_sample_csv(tmp_path / "export.csv", start=END, end=END)
    lake = tmp_path / "lake"
    with portal.serving(export) as url:
        wrong = url.replace("/exports/csv", "/exports/xlsx")  # the portal has no such export
        process = _pipeline(wrong, str(lake), str(tmp_path / "site"), env, tmp_path)
    assert process.returncode == 1
    assert f"could not download {wrong}: HTTP 404" in process.stderr
    assert not (lake / "_manifests").exists()


# On the local Athena endpoint ------------------------------------------------------------

LAKE_BUCKET = "pipeline-lake"
RESULTS_BUCKET = "pipeline-athena-results"
SITE_BUCKET = "pipeline-site"


def _session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=ATHENA_REGION
    )


@dataclass
class AthenaRun:
    process: subprocess.CompletedProcess[str]
    objects: dict[str, dict[str, object]]
    daily: bytes


@pytest.fixture(scope="module")
def athena_run(tmp_path_factory: pytest.TempPathFactory, dbt_profiles_dir: Path) -> AthenaRun:
    from athena_local import AthenaLocal  # noqa: PLC0415
    from athena_local.serve import create_lake_key, create_protected_bucket  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("pipeline-athena")
    # The models, not their 165 tests (the Athena build with its tests is
    # integration/athena/test_athena_pipeline.py): this run is about the pipeline around dbt.
    recorder = _recording_dbt(
        tmp / "recorder",
        tmp / "calls.log",
        "--exclude",
        "resource_type:test",
        "resource_type:unit_test",
    )
    export = portal.write_sample_csv(tmp / "export.csv", start=START, end=END)
    with AthenaLocal() as endpoint, portal.serving(export) as url:
        requests.post(f"{endpoint.url}/moto-api/reset", timeout=30).raise_for_status()
        session = _session()
        s3 = session.client("s3", endpoint_url=endpoint.url)
        key_arn = create_lake_key(session.client("kms", endpoint_url=endpoint.url))
        for bucket in (LAKE_BUCKET, RESULTS_BUCKET):
            create_protected_bucket(s3, bucket, ATHENA_REGION, key_arn)
        # The site bucket as infra/platform.yaml makes it: versioned, SSE-S3 (CloudFront
        # reads it), refusing SSE-KMS uploads; the lake's key must not reach it.
        s3.create_bucket(
            Bucket=SITE_BUCKET,
            CreateBucketConfiguration={"LocationConstraint": ATHENA_REGION},
        )
        s3.put_bucket_versioning(Bucket=SITE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(
            Bucket=SITE_BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        env = {
            **_base_env(dbt_profiles_dir, tmp, recorder),
            **aws_env(endpoint.url),
            "DBT_TARGET": "athena",
            "DAP_ATHENA_S3_STAGING_DIR": f"s3://{RESULTS_BUCKET}/dbt/",
            "DAP_ATHENA_S3_DATA_DIR": f"s3://{LAKE_BUCKET}/",
            "DAP_ATHENA_POLL_INTERVAL": "0.2",
            "DAP_ATHENA_NUM_RETRIES": "0",
            "DAP_KMS_KEY_ID": key_arn,
        }
        process = _pipeline(url, f"s3://{LAKE_BUCKET}", f"s3://{SITE_BUCKET}/report", env, tmp)
        objects: dict[str, dict[str, object]] = {}
        for name in SITE_FILES if process.returncode == 0 else ():
            head = s3.head_object(Bucket=SITE_BUCKET, Key=f"report/{name}")
            objects[name] = dict(head)
        daily = (
            s3.get_object(Bucket=SITE_BUCKET, Key="report/calls-handled-daily.csv")["Body"].read()
            if process.returncode == 0
            else b""
        )
    return AthenaRun(process, objects, daily)


@pytest.mark.s3
def test_on_athena_the_page_is_published_to_the_site_bucket(athena_run: AthenaRun) -> None:
    process = athena_run.process
    assert process.returncode == 0, (process.stdout + process.stderr)[-4000:]
    assert "dbt build on athena" in process.stdout
    assert "read trusted.fct_contact_centre_daily from Athena" in process.stderr
    assert "load metric(s) to CloudWatch" in process.stdout
    assert "dbt metric(s) to CloudWatch" in process.stdout
    daily = _daily(athena_run.daily)
    assert len(daily) == (END - START).days + 1
    assert int(daily[END.isoformat()]["calls_offered"]) == generate_day(311, END).offered
    heads = athena_run.objects
    assert heads["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert heads["calls-handled-daily.csv"]["ContentType"] == "text/csv; charset=utf-8"
    assert heads["calls-handled.png"]["ContentType"] == "image/png"
    assert heads["index.html"]["CacheControl"] == "public, max-age=300"
    assert heads["calls-handled.png"]["CacheControl"] == "public, max-age=3600"
    for head in heads.values():
        assert head["ServerSideEncryption"] == "AES256"  # DAP_KMS_KEY_ID is the lake's only
