"""Lake maintenance (issue 23): the scheduled flow compacts a DuckLake warehouse, expires its old snapshots and
deletes the files they freed, and the data reads the same after."""

from pathlib import Path

from monitor import config, warehouse
from tests.conftest import serve_seed, write_config

ZERO_HORIZONS = "[lake]\nexpire_snapshots_days = 0\ncleanup_files_days = 0\n"


def parquet_files(folder: Path) -> set[Path]:
    return set(folder.rglob("*.parquet"))


def test_maintenance_compacts_expires_and_cleans_a_lake_without_changing_its_data(tmp_path, prefect_harness):
    from flows.ingest import ingest
    from flows.maintenance import maintenance

    lake = Path(f"ducklake:{tmp_path / 'lake' / 'catalog.ducklake'}")
    tables = ("articles", "entries", "article_countries", "article_topics", "article_clusters", "runs", "feed_state")
    rounds = []
    with serve_seed(tmp_path) as (_, feed):
        config_dir = write_config(tmp_path / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n', ZERO_HORIZONS)
        for _ in range(2):  # runs with maintenance between them: each flush leaves small files for the next merge
            ingest(warehouse_path=str(lake), config_dir=str(config_dir), force=True)
            before = {t: sorted(warehouse.query(lake, f"SELECT * FROM {t}")[1], key=repr) for t in tables}
            snapshots = warehouse.query(lake, "SELECT count(*) FROM ducklake_snapshots('warehouse')")[1][0][0]
            on_disk = parquet_files(tmp_path / "lake" / "catalog.ducklake.files")
            rounds.append(maintenance(warehouse_path=str(lake), config_dir=str(config_dir)))
            # the data reads the same after
            assert {t: sorted(warehouse.query(lake, f"SELECT * FROM {t}")[1], key=repr) for t in tables} == before
    left = warehouse.query(lake, "SELECT count(*) FROM ducklake_snapshots('warehouse')")[1][0][0]
    assert rounds[-1]["snapshots_expired"] >= snapshots - 1 and left < 5  # a zero horizon: only the last few stay
    assert all(r["rows_flushed"] > 0 for r in rounds)  # small loads are inlined in the catalog until flushed
    assert any(r["files_after"] < r["files_before"] for r in rounds)  # the flushed files of two rounds were merged
    assert sum(r["files_deleted"] for r in rounds) > 0
    deleted = on_disk - parquet_files(tmp_path / "lake" / "catalog.ducklake.files")
    # gone from the disk: at most what the round says it deleted (files that were there before the round, or ones
    # the round itself wrote and merged: which of the two depends on how the loads were cut into files, so a count
    # of pre-existing files gone is not asserted; in one CI run it was 0, in others more)
    assert len(deleted) <= rounds[-1]["files_deleted"]

    # with nothing loaded since, another round has only the upkeep's own bookkeeping (its lake_writes row) to do
    again = maintenance(warehouse_path=str(lake), config_dir=str(config_dir))
    assert again["rows_flushed"] <= 2 and again["files_after"] <= again["files_before"]
    assert {t: sorted(warehouse.query(lake, f"SELECT * FROM {t}")[1], key=repr) for t in tables} == before


def test_serve_tends_a_lake_on_the_settings_schedule_and_leaves_a_duckdb_file_alone(tmp_path):
    from flows.deployments import deployments

    config_dir = write_config(tmp_path / "config", '[[source]]\nname = "a"\nurl = "https://example.org/feed"\n',
                              '[lake]\nmaintenance_cron = "15 2 * * 0"\n')
    cfg = config.load(config_dir)
    lake = [d for d in deployments(cfg, str(config_dir), f"ducklake:{tmp_path / 'c.ducklake'}")
            if d.name == "lake-maintenance"]
    assert len(lake) == 1 and lake[0].schedules[0].schedule.cron == "15 2 * * 0"
    assert "lake-maintenance" not in [d.name for d in deployments(cfg, str(config_dir), str(tmp_path / "w.duckdb"))]
