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


def test_005_records_how_every_old_article_was_tagged(old_warehouse):
    warehouse.init(old_warehouse)
    with duckdb.connect(str(old_warehouse), read_only=True) as con:
        # tagged by the tagger of its day, which recorded no version and read every text alike
        assert con.execute("SELECT article_id, language, status, tagger_version FROM article_tagging "
                           "ORDER BY 1").fetchall() == [("a1", None, "ok", None), ("a2", None, "ok", None)]
        assert con.execute("SELECT count(*) FROM article_tagging g JOIN articles a USING (article_id) "
                           "WHERE g.tagged_at = a.first_seen").fetchone()[0] == 2
        for table in ("article_countries", "article_regions", "article_topics"):
            assert con.execute(f"SELECT count(*) FROM {table} WHERE language IS NOT NULL").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM article_regions WHERE is_about IS NOT NULL").fetchone()[0] == 0
        assert con.execute("SELECT sum(articles), sum(tagged_ok) FROM tagging_coverage").fetchone() == (2, 2)


def test_005_takes_the_tagger_version_from_the_rows_of_a_versioned_warehouse(tmp_path):
    path = tmp_path / "v4.duckdb"
    with duckdb.connect(str(path)) as con:  # what the releases before 005 left, with one tagged article
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL, "
                    "name TEXT)")
        for version, name, file in warehouse.migrations():
            if version < 5:
                con.execute(file.read_text(encoding="utf-8"))
                con.execute("INSERT INTO schema_version VALUES (?, now(), ?)", [version, name])
        con.execute("INSERT INTO articles (article_id, url, canonical_url, source, first_seen, body, body_hash, "
                    "extraction_method, run_id) VALUES ('a1', 'u', 'u', 's', TIMESTAMPTZ '2026-11-01 10:00:00+00', "
                    "'Armenia.', 'h', 'trafilatura', 'r')")
        con.execute("INSERT INTO article_countries (article_id, country, mentions, is_about, in_caption, "
                    "tagger_version) VALUES ('a1', 'AM', 3, true, false, 'monitor-tagger/0.1.0+old')")
    warehouse.init(path)
    assert warehouse.schema_version(path) >= 5
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT article_id, status, tagger_version FROM article_tagging").fetchall() == \
            [("a1", "ok", "monitor-tagger/0.1.0+old")]
