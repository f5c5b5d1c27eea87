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



def test_extreme_dates_already_stored_count_on_their_first_seen_day(seed_warehouse, tmp_path):
    """Rows stored before dates were checked (0001-01-01, 9999-12-31) cannot stretch the daily series: the views
    count them on the day first seen, so spikes and the report span the real days only."""
    import shutil

    import duckdb

    from monitor import warehouse

    path = tmp_path / "w.duckdb"
    shutil.copyfile(seed_warehouse, path)
    with duckdb.connect(str(path)) as con:
        for article_id, date in (("ancient", "0001-01-01"), ("future", "9999-12-31")):
            con.execute(f"""INSERT INTO articles SELECT * REPLACE ('{article_id}' AS article_id,
                                'http://x.test/{article_id}' AS url, 'http://x.test/{article_id}' AS canonical_url,
                                TIMESTAMPTZ '{date} 00:00:00+00' AS published)
                            FROM articles ORDER BY first_seen DESC LIMIT 1""")
    span = warehouse.query(path, "SELECT min(day), max(day), count(*) FROM article_days")[1][0]
    seen = warehouse.query(path, "SELECT CAST(max(first_seen) AS DATE), min(CAST(coalesce(published, first_seen) "
                                 "AS DATE)) FROM articles WHERE article_id NOT IN ('ancient', 'future')")[1][0]
    assert span[0].year >= 1990 and span[1] <= seen[0] and span[2] == 5
    days = warehouse.query(path, "SELECT count(DISTINCT day) FROM daily_volume")[1][0][0]
    assert days <= (span[1] - span[0]).days + 1  # the series covers the real span, not ten thousand years
    assert warehouse.query(path, "SELECT count(*) FROM spikes")[1][0][0] >= 0
