"""Schema migrations: a warehouse made by the release before migrations opens with this one and keeps every row."""

from pathlib import Path

import duckdb
import pytest

from monitor import warehouse

OLD = Path(__file__).parent / "fixtures" / "warehouse_before_migrations.sql"


def counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_type = 'BASE TABLE' AND table_name <> 'schema_version'").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


@pytest.fixture()
def old_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(OLD.read_text(encoding="utf-8"))
    return path


def test_an_old_warehouse_is_migrated_without_losing_a_row(old_warehouse):
    before = counts(old_warehouse)
    assert before["articles"] == 2 and before["article_topics"] == 2
    warehouse.init(old_warehouse)
    after = counts(old_warehouse)
    assert {name: after[name] for name in before} == before
    versions = [v for v, _, _ in warehouse.migrations()]
    with duckdb.connect(str(old_warehouse), read_only=True) as con:
        assert con.execute("SELECT version, name FROM schema_version ORDER BY 1").fetchall() == \
            [(v, n) for v, n, _ in warehouse.migrations()]
        assert con.execute("SELECT title, body FROM articles WHERE article_id = 'a1'").fetchone() == \
            ("Talks resume in Baku", "Armenia and Azerbaijan resumed talks in Baku.")
        # columns added by later migrations exist, empty for the old rows
        assert con.execute("SELECT count(*) FROM article_countries WHERE tagger_version IS NULL").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM story_clusters").fetchone()[0] == 2  # views are in place
    assert warehouse.schema_version(old_warehouse) == max(versions)


def test_migrations_apply_once(old_warehouse):
    warehouse.init(old_warehouse)
    with duckdb.connect(str(old_warehouse)) as con:
        assert warehouse.migrate(con) == []


def test_a_new_warehouse_gets_every_migration(tmp_path):
    path = tmp_path / "new.duckdb"
    warehouse.init(path)
    assert warehouse.schema_version(path) == max(v for v, _, _ in warehouse.migrations())


def test_migrations_are_numbered_without_gaps():
    assert [v for v, _, _ in warehouse.migrations()] == list(range(1, len(warehouse.migrations()) + 1))
