"""Export articles with their tags and stories to Parquet or CSV: one folder per day (hive style), or one file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from monitor.warehouse import QueryError, WarehouseError, read_only

FORMATS = ("parquet", "csv")
PARTITIONS = ("day", "none")
# Parquet is partitioned by day unless asked otherwise (readers prune by folder); CSV is read by people and
# spreadsheets, so it is one file.
DEFAULT_PARTITION = {"parquet": "day", "csv": "none"}
# Rows per Arrow batch streamed from DuckDB to the writer: memory stays at a batch, not the warehouse.
BATCH_ROWS = 50_000

# One row per article. Parquet keeps lists and structs; CSV gets them joined with "; " (and topics as labels).
_SELECT = """
SELECT CAST(d.day AS VARCHAR) AS day, a.article_id, a.source, a.title, a.published, a.first_seen, a.url,
       a.canonical_url, a.language, a.author, a.site_name, a.extraction_method,
       c.cluster_id, c.duplicate_of, c.match, c.similarity,
       {countries} AS countries, {about} AS about, {regions} AS regions, {regions_about} AS regions_about,
       {topics} AS topics, g.status AS tagging_status, {captions} AS captions, a.body
FROM articles a JOIN article_days d USING (article_id) LEFT JOIN article_clusters c USING (article_id)
     LEFT JOIN article_tagging g USING (article_id)
WHERE (CAST(? AS TIMESTAMPTZ) IS NULL OR coalesce(a.published, a.first_seen) >= ?)
ORDER BY d.day, a.article_id
"""
_NESTED = {
    "countries": "(SELECT list(x.country ORDER BY x.mentions DESC, x.country) FROM article_countries x "
                 "WHERE x.article_id = a.article_id)",
    "about": "(SELECT list(x.country ORDER BY x.mentions DESC, x.country) FROM article_countries x "
             "WHERE x.article_id = a.article_id AND x.is_about)",
    "regions": "(SELECT list(x.region ORDER BY x.region) FROM article_regions x WHERE x.article_id = a.article_id)",
    "regions_about": "(SELECT list(x.region ORDER BY x.region) FROM article_regions x "
                     "WHERE x.article_id = a.article_id AND x.is_about)",
    "topics": "(SELECT list({{'code': x.code, 'label': x.label, 'score': x.score, 'level': x.level}} ORDER BY x.rank) "
              "FROM article_topics x WHERE x.article_id = a.article_id)",
    "captions": "(SELECT list({{'text': x.text, 'credit': x.credit}} ORDER BY x.position) FROM captions x "
                "WHERE x.article_id = a.article_id)",
}
_FLAT = {
    "countries": "array_to_string(" + _NESTED["countries"] + ", '; ')",
    "about": "array_to_string(" + _NESTED["about"] + ", '; ')",
    "regions": "array_to_string(" + _NESTED["regions"] + ", '; ')",
    "regions_about": "array_to_string(" + _NESTED["regions_about"] + ", '; ')",
    "topics": "(SELECT string_agg(x.label, '; ' ORDER BY x.rank) FROM article_topics x WHERE x.article_id = a.article_id)",
    "captions": "(SELECT string_agg(x.text, ' | ' ORDER BY x.position) FROM captions x WHERE x.article_id = a.article_id)",
}


def export(path: Path, out: Path, fmt: str = "parquet", since: datetime | None = None,
           partition: str | None = None) -> dict[str, int]:
    """Write every article (published or first seen since `since`) to `out`. Partitioned by day (the default for
    Parquet): `out`/day=YYYY-MM-DD/part-0.<fmt>, replacing the files of the same days and leaving other days alone.
    Not partitioned (the default for CSV): one file, `out` itself when it ends in .<fmt>, else `out`/articles.<fmt>.
    Returns rows and days written."""
    if fmt not in FORMATS:
        raise WarehouseError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    partition = partition or DEFAULT_PARTITION[fmt]
    if partition not in PARTITIONS:
        raise WarehouseError(f"unknown partitioning {partition!r}: use one of {', '.join(PARTITIONS)}")
    columns = {k: v.replace("{{", "{").replace("}}", "}") for k, v in (_NESTED if fmt == "parquet" else _FLAT).items()}
    sql = _SELECT.format(**columns)
    written = {"rows": 0, "days": 0}
    days: set[str] = set()

    def counted(reader):
        for batch in reader:
            written["rows"] += batch.num_rows
            days.update(batch.column("day").to_pylist())
            yield batch

    single = partition == "none"
    target = written_to(out, fmt, partition)
    folder = target.parent if single else target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot create {folder}: {exc.strerror}; choose another --out") from None
    with read_only(path) as con:
        try:
            reader = con.execute(sql, [since, since]).fetch_record_batch(BATCH_ROWS)
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from None
        if not single:
            ds.write_dataset(counted(reader), out, schema=reader.schema, format=fmt, partitioning=["day"],
                             partitioning_flavor="hive", existing_data_behavior="delete_matching",
                             basename_template="part-{i}." + fmt)
        else:
            try:
                writer = (pq.ParquetWriter(target, reader.schema) if fmt == "parquet"
                          else pacsv.CSVWriter(target, reader.schema))
                with writer:
                    for batch in counted(reader):
                        writer.write_batch(batch)
            except OSError as exc:
                raise WarehouseError(f"cannot write {target}: {exc.strerror or exc}; choose another --out") from None
    written["days"] = len(days)
    return written


def written_to(out: Path, fmt: str, partition: str | None = None) -> Path:
    """The file (unpartitioned) or folder (by day) that `export` writes for this --out."""
    if (partition or DEFAULT_PARTITION[fmt]) == "day":
        return out
    return out if out.suffix == f".{fmt}" else out / f"articles.{fmt}"
