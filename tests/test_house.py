"""Defects of issue 22, each shown by a test that failed before its fix: real flows, a real CLI, real DuckDB."""

import json

import duckdb
from click.testing import CliRunner

from monitor import warehouse
from monitor.cli import cli
from tests.conftest import serve_seed, write_config


def test_run_since_keeps_the_time_of_day(tmp_path, prefect_harness):
    # `--since 2026-11-20T12:00` was refused (no such format) and a full timestamp lost its time (sent as a date)
    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        path = tmp_path / "w.duckdb"
        result = CliRunner().invoke(cli, ["--config", str(config_dir), "run", "--warehouse", str(path),
                                          "--since", "2026-11-20T12:00", "--task-runner", "threads"])
    assert result.exit_code == 0, result.output
    (parameters,), = warehouse.query(path, "SELECT parameters FROM runs")[1]
    assert json.loads(parameters)["since"] == "2026-11-20T12:00:00"


def test_a_triggered_run_takes_the_threads_runner(tmp_path, prefect_harness):
    # a deployment's run gets cpu_runner as a parameter, with the names `monitor run --task-runner` takes:
    # "threads" raised "cpu_runner='threads': use 'processes', ..." there
    from flows.ingest import ingest

    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        summary = ingest(warehouse_path=str(tmp_path / "w.duckdb"), config_dir=str(config_dir), dry_run=True,
                         cpu_runner="threads")
    assert summary["counts"].count("articles", "new") == 3


def test_export_of_a_database_without_the_warehouse_tables_exits_2_as_sql_does(tmp_path):
    # a query the warehouse refuses is exit 2 for every command (it was 1 for export, 2 for sql)
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE unrelated (a INTEGER)")
    exported = CliRunner().invoke(cli, ["export", "--out", str(tmp_path / "out"), "--warehouse", str(path)])
    queried = CliRunner().invoke(cli, ["sql", "SELECT * FROM articles", "--warehouse", str(path)])
    assert (exported.exit_code, queried.exit_code) == (2, 2)
    assert exported.output.startswith("Error: Catalog Error: Table with name articles does not exist")


def test_prefect_yaml_is_generated_from_the_one_definition_of_each_deployment():
    from flows.deployments import definitions, deployments, prefect_yaml
    from monitor import config
    from tests.conftest import CONFIG, ROOT

    cfg = config.load(CONFIG)
    assert (ROOT / "prefect.yaml").read_text(encoding="utf-8") == prefect_yaml(cfg), \
        "prefect.yaml is stale: run scripts/write_prefect_yaml.py"
    served = {d.name: d for d in deployments(cfg)}
    for d in definitions(cfg):
        (schedule,) = served[d.name].schedules
        if d.cron is not None:
            assert (schedule.schedule.cron, schedule.schedule.timezone) == (d.cron, "UTC")
        else:
            assert schedule.schedule.interval.total_seconds() == d.interval_seconds
    assert served["daily-report"].schedules[0].schedule.cron == "0 6 * * *"  # the morning's reading
