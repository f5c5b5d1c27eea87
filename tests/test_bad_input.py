"""Bad input an analyst types gets one line naming the thing and the fix (issue 16's smaller defects)."""

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import write_config


def check_schedule(tmp_path, cron: str):
    directory = write_config(tmp_path / "c", f'[schedule.daily]\ncron = "{cron}"\n'
                                             '[[source]]\nname = "a"\nurl = "http://127.0.0.1:9/f.xml"\n'
                                             'schedule = "daily"\n')
    return CliRunner().invoke(cli, ["--config", str(directory), "check-config"])


@pytest.mark.parametrize("cron", ["61 * * * *", "every day", "0 6 * *", "H * * * *"])
def test_an_invalid_cron_fails_check_config_in_one_line(tmp_path, cron):
    result = check_schedule(tmp_path, cron)
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("Error: ") and f"cron {cron!r} is not a cron expression" in result.output


@pytest.mark.parametrize("cron", ["0 6 * * *", "*/15 * * * MON-FRI", "0 6 * * thu", "@daily"])
def test_valid_crons_pass(tmp_path, cron):
    result = check_schedule(tmp_path, cron)
    assert result.exit_code == 0, result.output


def test_an_empty_query_is_one_line_and_exit_2(seed_warehouse):
    result = CliRunner().invoke(cli, ["sql", " ", "--warehouse", str(seed_warehouse)])
    assert result.exit_code == 2
    assert result.output == ('Error: the query is empty: give a SQL statement, for example '
                             '"SELECT count(*) FROM articles"\n')


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_out_file_in_a_missing_folder_is_one_line(seed_warehouse, tmp_path, fmt):
    out = tmp_path / "missing" / f"x.{fmt}"
    result = CliRunner().invoke(cli, ["sql", "SELECT 1", "--warehouse", str(seed_warehouse), "--format", fmt,
                                      "--out", str(out)])
    assert result.exit_code == 1 and not out.parent.exists()
    assert result.output == (f"Error: --out {out}: the folder {out.parent} does not exist; create it or choose "
                             "another path\n")

