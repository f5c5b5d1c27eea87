"""The scheduled side on real parts: a Prefect server on 127.0.0.1, `monitor serve` running a deployment every
5 seconds over the seed newsroom, `monitor trigger` for an ad hoc run, and Ctrl-C leaving nothing running."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from monitor import warehouse
from monitor.cli.serve import LocalServer
from tests.conftest import serve_seed, write_config

MONITOR = [sys.executable, "-m", "monitor.cli"]
RUN_TIMEOUT = 150  # seconds for two scheduled runs: server start, deployment, two flow-run subprocesses


def runs(path: Path) -> list[dict]:
    if not path.exists():
        return []
    try:
        _, rows = warehouse.query(path, "SELECT flow_run_id, parameters FROM runs ORDER BY started_at")
    except warehouse.WarehouseError:
        return []  # still being created by the first run
    return [{"flow_run_id": r[0], "parameters": json.loads(r[1] or "{}")} for r in rows]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def unfinished_runs(api_url: str) -> list:
    body = json.dumps({"flow_runs": {"state": {"type": {"any_": ["RUNNING", "PENDING", "CANCELLING"]}}}}).encode()
    request = urllib.request.Request(f"{api_url}/flow_runs/filter", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def own_env() -> dict[str, str]:
    """This process's environment without any PREFECT_* setting: a `monitor serve` under test starts from what a
    user's shell has, not from what the in-process commands of earlier tests left in os.environ (in the full suite
    a served run's shutdown then hung past 60 s; alone it never did)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}


@pytest.mark.timeout(300)
def test_a_served_deployment_runs_on_its_own_and_on_demand(tmp_path):
    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", "[schedule.fast]\ninterval_seconds = 5\n\n"
                                  f'[[source]]\nname = "seed"\nurl = "{feed}"\nschedule = "fast"\n')
        path = tmp_path / "w.duckdb"
        server = LocalServer(tmp_path / "prefect-server").start()
        env = {**own_env(), "PREFECT_API_URL": server.url, "PREFECT_HOME": str(tmp_path / "prefect-client"),
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
        served = subprocess.Popen([*MONITOR, "--config", str(config_dir), "serve", "--warehouse", str(path),
                                   "--report-out", str(tmp_path / "report.html")],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            scheduled = wait_for(lambda: len([r for r in runs(path) if r["flow_run_id"]]) >= 2 and runs(path),
                                 RUN_TIMEOUT, "two scheduled runs in the warehouse")
            assert all(r["parameters"].get("limit") is None for r in scheduled[:2])
            triggered = subprocess.run([*MONITOR, "trigger", "ingest/ingest-fast", "--param", "limit=0",
                                        "--param", "dry_run=false"], env=env, capture_output=True, text=True,
                                       timeout=60)
            assert triggered.returncode == 0 and triggered.stdout.startswith("flow run "), triggered.stderr
            flow_run_id = triggered.stdout.split()[2]
            ad_hoc = wait_for(lambda: [r for r in runs(path) if r["flow_run_id"] == flow_run_id], 90,
                              "the triggered run in the warehouse")
            assert ad_hoc[0]["parameters"]["limit"] == 0
        finally:
            try:
                served.send_signal(signal.SIGINT)
                output = served.communicate(timeout=60)[0]
                assert served.returncode == 0, output
                assert unfinished_runs(server.url) == []
            finally:
                server.stop()  # whatever failed above
        assert len({r["flow_run_id"] for r in runs(path)}) >= 3
        assert warehouse.table_counts(path)["articles"] == 3  # many runs, each article once
    assert "  ingest/ingest-fast   every 5s\n" in output and "  report/daily-report  cron 0 6 * * * (UTC)" in output


def post(url: str, body: dict) -> list | dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.load(response)


@pytest.mark.timeout(420)
def test_serve_on_any_port_gives_a_ui_that_sees_its_deployments_and_runs_and_stops_cleanly(tmp_path):
    from monitor.cli.serve import free_port, healthy, running_server

    seed = serve_seed(tmp_path)
    _, feed = seed.__enter__()
    config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
    env = own_env()
    env.update({"PREFECT_HOME": str(tmp_path / "prefect-client"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "INFO"})
    port = free_port()  # not Prefect's 4200: the UI must be told where its API is
    served = subprocess.Popen([*MONITOR, "--config", str(config_dir), "serve", "--port", str(port), "--warehouse",
                               str(tmp_path / "w.duckdb")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in served.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C stops"):
                break
        base = f"http://127.0.0.1:{port}"
        assert lines[:3] == [f"Prefect UI   {base}\n",
                             f"Prefect API  {base}/api  (data in {tmp_path / '.monitor' / 'prefect'})\n",
                             "deployments:\n"], lines
        assert [line.split() for line in lines[3:-1]] == [["ingest/ingest-hourly", "every", "1h"],
                                                          ["report/daily-report", "cron", "0", "6", "*", "*", "*",
                                                           "(UTC)"]]
        assert not any("Schedule(" in line or "object at 0x" in line for line in lines)
        # What the UI page does: read its settings from the served address, then call the API they name.
        with urllib.request.urlopen(f"{base}/ui-settings", timeout=10) as response:  # noqa: S310 - loopback
            api_url = json.load(response)["api_url"]
        assert api_url == f"{base}/api"
        names = lambda: {d["name"] for d in post(f"{api_url}/deployments/filter", {})}  # noqa: E731
        assert wait_for(lambda: names() == {"ingest-hourly", "daily-report"}, 30, "the served deployments")
        # An ad hoc run beside it reports to it (and skips starting a temporary server of its own).
        adhoc = subprocess.run([*MONITOR, "--config", str(config_dir), "run", "--warehouse",
                                str(tmp_path / "adhoc.duckdb")], env=env, capture_output=True, text=True, timeout=120)
        assert adhoc.returncode == 0, adhoc.stderr
        assert f"reporting to the Prefect server of `monitor serve` at {base}" in adhoc.stderr
        runs = post(f"{api_url}/flow_runs/filter", {})
        assert any(r["deployment_id"] is None and r["state_type"] == "COMPLETED" for r in runs), runs
        # `monitor trigger` finds the server the same way, says in one line when a name is wrong, and waits.
        monitor = [*MONITOR, "--config", str(config_dir)]
        wrong = subprocess.run([*monitor, "trigger", "ingest/ingest-hourli"], env=env, capture_output=True,
                               text=True, timeout=60)
        assert (wrong.returncode, wrong.stdout) == (1, "")
        assert wrong.stderr == (f"Error: no deployment 'ingest/ingest-hourli' on {api_url}; served: "
                                "ingest/ingest-hourly, report/daily-report\n")
        waited = subprocess.run([*monitor, "trigger", "ingest/ingest-hourly", "--param", "force=true", "--wait"],
                                env=env, capture_output=True, text=True, timeout=120)
        assert waited.returncode == 0, waited.stderr
        started, final, counts = waited.stdout.splitlines()
        flow_run_id = started.split()[2]
        assert final == "Completed" and re.fullmatch(r"4 entries, 3 new, \d+ dups, \d+ rejected", counts), counts
        # Both runs in `monitor status`, with the id that opens each in the UI.
        status = subprocess.run([*monitor, "status", "--format", "json", "--warehouse", str(tmp_path / "adhoc.duckdb")],
                                env=env, capture_output=True, text=True, timeout=60)
        listed = {r["flow_run"]: r for r in json.loads(status.stdout)}  # the schedule's first run is there too
        assert (listed[flow_run_id]["deployment"], listed[flow_run_id]["state"]) == ("ingest-hourly", "Completed")
        (adhoc_run,) = [r for r in listed.values() if r["deployment"] == "ad hoc"]
        assert (adhoc_run["state"], adhoc_run["new"]) == ("Completed", 3)
        with urllib.request.urlopen(f"{api_url}/flow_runs/{flow_run_id}", timeout=10) as response:  # noqa: S310
            assert json.load(response)["parameters"]["force"] is True
        # The run's summary is an artifact on it, and the library's own log lines are in its log, as the UI shows.
        artifacts = post(f"{api_url}/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})
        assert [a["key"] for a in artifacts] == ["ingest-summary"]
        logs = post(f"{api_url}/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run_id]}}})
        assert any(log["name"] == "monitor.warehouse" and log["message"].startswith("loaded run ") for log in logs)
    finally:
        served.send_signal(signal.SIGINT)
        rest = served.communicate(timeout=60)[0]
        seed.__exit__(None, None, None)
    assert served.returncode == 0, rest
    # the runs' own log lines came before (INFO here); Ctrl-C adds one line and no traceback
    assert rest.endswith("\nstopped serving; stopped the Prefect server\n") and "Traceback" not in rest, rest
    assert not healthy(f"http://127.0.0.1:{port}/api")
    assert running_server(config_dir) is None and not (tmp_path / ".monitor" / "prefect" / "server.json").exists()


def test_the_served_ui_is_told_the_api_url_of_its_own_port_unless_one_is_set(tmp_path, monkeypatch):
    from monitor.cli.serve import LocalServer

    monkeypatch.delenv("PREFECT_UI_API_URL", raising=False)
    assert LocalServer(tmp_path, 8123).environment()["PREFECT_UI_API_URL"] == "http://127.0.0.1:8123/api"
    monkeypatch.setenv("PREFECT_UI_API_URL", "https://monitor.example.org/prefect/api")  # behind a proxy
    assert LocalServer(tmp_path, 8123).environment()["PREFECT_UI_API_URL"] == "https://monitor.example.org/prefect/api"


def test_the_server_we_start_keeps_a_bounded_history_and_the_environment_can_say_otherwise(tmp_path, monkeypatch):
    """SERVER_SETTINGS are settings Prefect accepts, with the values meant (docs/scaling.md, "Prefect's server over
    time"); one set in the environment wins."""
    from datetime import timedelta

    from prefect.settings import Settings

    from monitor.cli.serve import SERVER_SETTINGS, LocalServer

    for key in SERVER_SETTINGS:
        monkeypatch.delenv(key, raising=False)
    env = LocalServer(tmp_path, 8123).environment()
    for key, value in SERVER_SETTINGS.items():
        monkeypatch.setenv(key, env[key])
    server = Settings().server
    assert server.services.triggers.enabled is False
    assert server.events.retention_period == timedelta(days=1)
    vacuum = server.services.db_vacuum
    assert {"events", "flow_runs"} <= vacuum.enabled_vacuum_types and vacuum.retention_period == timedelta(days=7)
    assert vacuum.event_retention_overrides["prefect.task-run.Completed"] == timedelta(hours=1)
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_DB_VACUUM_LOOP_SECONDS", "10")
    assert LocalServer(tmp_path, 8123).environment()["PREFECT_SERVER_SERVICES_DB_VACUUM_LOOP_SECONDS"] == "10"


def test_prefect_yaml_declares_what_serve_serves():
    import yaml

    from flows.deployments import deployments
    from monitor import config
    from tests.conftest import CONFIG, ROOT

    declared = {d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}
    served = {d.name: d for d in deployments(config.load(CONFIG))}
    assert set(declared) == set(served)
    for name, d in declared.items():
        path, _, function = d["entrypoint"].partition(":")
        assert f"def {function}(" in (ROOT / path).read_text()
        (schedule,) = d["schedules"]
        (want,) = served[name].schedules
        if "interval" in schedule:
            assert want.schedule.interval.total_seconds() == schedule["interval"]
        else:
            assert (want.schedule.cron, want.schedule.timezone) == (schedule["cron"], schedule["timezone"])
        if "schedule" in d["parameters"]:
            assert d["parameters"]["schedule"] == served[name].parameters["schedule"]
