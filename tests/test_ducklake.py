"""The warehouse on DuckLake with a local catalog: the same flow, the same rows, the same commands."""

from pathlib import Path

from click.testing import CliRunner

from monitor import warehouse
from monitor.cli import cli
from tests.conftest import serve_seed, write_config

SAME = {
    "articles": "SELECT article_id, title, body FROM articles ORDER BY 1",
    "countries": "SELECT article_id, country, is_about FROM article_countries ORDER BY 1, 2",
    "clusters": "SELECT cluster_id, articles, outlets FROM story_clusters ORDER BY 1",
    "topics": "SELECT article_id, code FROM article_topics ORDER BY 1, 2",
}


def test_ingest_into_ducklake_matches_a_duckdb_file_and_stays_idempotent(tmp_path, prefect_harness):
    from flows.ingest import ingest

    lake = Path(f"ducklake:{tmp_path / 'lake' / 'catalog.ducklake'}")
    plain = tmp_path / "plain.duckdb"
    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        ingest(warehouse_path=str(plain), config_dir=str(config_dir))
        first = ingest(warehouse_path=str(lake), config_dir=str(config_dir))
        again = ingest(warehouse_path=str(lake), config_dir=str(config_dir), force=True)
    assert first["counts"].count("articles", "new") == 3 and again["counts"].count("articles", "new") == 0
    assert (tmp_path / "lake" / "catalog.ducklake.files").is_dir()  # the data lives in Parquet files
    for name, sql in SAME.items():
        assert warehouse.query(lake, sql)[1] == warehouse.query(plain, sql)[1], name
    assert warehouse.schema_version(lake) == max(v for v, _, _ in warehouse.migrations())
    assert warehouse.query(lake, "SELECT count(*) FROM runs")[1] == [(2,)]

    runner = CliRunner()
    found = runner.invoke(cli, ["search", "ceasefire", "--warehouse", str(lake), "--format", "json"])
    assert found.exit_code == 0 and '"title"' in found.output
    page = tmp_path / "report.html"
    assert runner.invoke(cli, ["report", "--out", str(page), "--warehouse", str(lake)]).exit_code == 0
    assert page.read_text().count("<svg id=") == 3
    retagged = runner.invoke(cli, ["retag", "--warehouse", str(lake)])
    assert retagged.exit_code == 0 and retagged.output.startswith("re-tagged 3 articles")
    assert warehouse.query(lake, SAME["countries"])[1] == warehouse.query(plain, SAME["countries"])[1]


def test_a_missing_ducklake_catalog_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["sql", "SELECT 1", "--warehouse", f"ducklake:{tmp_path / 'none.ducklake'}"])
    assert result.exit_code == 1 and result.output.startswith("Error: no warehouse at ducklake:")


def test_sql_on_a_ducklake_warehouse_reads_but_cannot_copy_out(tmp_path, prefect_harness):
    from flows.ingest import ingest

    lake = Path(f"ducklake:{tmp_path / 'catalog.ducklake'}")
    with serve_seed(tmp_path) as (_, feed):
        ingest(warehouse_path=str(lake), config_dir=str(write_config(tmp_path / "config",
                                                                      f'[[source]]\nname = "seed"\nurl = "{feed}"\n')))
    ok = CliRunner().invoke(cli, ["sql", "SELECT count(*) AS n FROM articles", "--warehouse", str(lake),
                                  "--format", "csv"])
    assert ok.exit_code == 0 and ok.output == "n\n3\n"
    blocked = CliRunner().invoke(cli, ["sql", f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'", "--warehouse", str(lake)])
    assert blocked.exit_code == 2 and not (tmp_path / "x.csv").exists()
