"""The stage commands over JSON Lines (`monitor extract|tag|dedup --jsonl IN [--out OUT]`): one object per line
in, one per line out, keyed by "id"; a bad line becomes {"id", "error"} and never stops the batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from monitor.cli.common import fail_on_domain_errors, jsonable, load_config


def _read_jsonl(path: Path):
    """Yield (id, object or None, error) per non-blank line."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                yield None, None, f"line {number}: invalid JSON ({exc})"
                continue
            yield obj.get("id"), obj, None


def _write_jsonl(objects, out: Path | None) -> None:
    handle = open(out, "w", encoding="utf-8") if out else sys.stdout
    try:
        for obj in objects:
            handle.write(json.dumps(obj, ensure_ascii=False, default=jsonable) + "\n")
    finally:
        if out:
            handle.close()


class _BadLine(Exception):
    """One input line that cannot be processed; it becomes {"id", "error"} in the output."""


def _map_jsonl(path: Path, out: Path | None, process) -> None:
    """Apply `process(id, object) -> dict` to every line; a bad line yields an error object, never a crash."""
    def results():
        for doc_id, obj, error in _read_jsonl(path):
            try:
                if error:
                    raise _BadLine(error)
                yield {"id": doc_id, **process(doc_id, obj)}
            except _BadLine as exc:
                yield {"id": doc_id, "error": str(exc)}
    _write_jsonl(results(), out)


_jsonl_in = click.option("--jsonl", "jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         required=True, help="Input JSON Lines file.")
_jsonl_out = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                          help="Output JSON Lines file (default stdout).")


def _stage_command(name: str):
    """A `monitor NAME --jsonl IN [--out OUT]` command: config in the context, named errors as one line."""
    def wrap(func):
        for decorate in (fail_on_domain_errors, click.pass_context, _jsonl_out, _jsonl_in, click.command(name)):
            func = decorate(func)
        return func
    return wrap


@_stage_command("extract")
@click.option("--no-site-furniture", "keep_furniture", is_flag=True,
              help="Keep lines and captions that recur on many pages of one host in the batch (default: removed).")
def extract_cmd(ctx: click.Context, jsonl: Path, out: Path | None, keep_furniture: bool) -> None:
    """Extract articles from HTML files: {"id","url","html_path"} per line in, one article per line out.

    Lines and captions recurring on many of one site's pages in the batch (grouped by host) are that site's
    furniture and are removed, learned from the batch itself.

    Example: monitor extract --jsonl pages.jsonl --out articles.jsonl
    """
    from monitor.extract import extract, strip_site_furniture
    from monitor.fetch import decode_html
    from monitor.models import Article, Rejection

    def process(doc_id, obj: dict) -> Article:
        if not obj.get("html_path"):
            raise _BadLine("missing html_path")
        try:
            html = decode_html(Path(obj["html_path"]).read_bytes(), None)
        except OSError as exc:
            raise _BadLine(f"cannot read {obj['html_path']}: {exc.strerror}") from None
        # The batch contract returns whatever text was found; only an empty page is an error.
        found = extract(html, obj.get("url") or "", min_body_chars=1)
        if isinstance(found, Rejection):
            raise _BadLine(f"{found.reason}: {found.detail}".rstrip(": "))
        return found

    def as_json(found: Article) -> dict:
        return {"title": found.title, "body": found.body,
                "captions": [{"text": c.text, "credit": c.credit} for c in found.captions],
                "published": found.published, "language": found.language, "canonical_url": found.canonical_url,
                "published_source": found.published_source, "modified": found.modified,
                "language_declared": found.language_declared, "language_detected": found.language_detected,
                "author": found.author, "site_name": found.site_name, "lead_image": found.lead_image,
                "extraction_method": found.extraction_method}

    results: list[tuple] = []  # (id, article or error): furniture is learned from the whole batch first
    for doc_id, obj, error in _read_jsonl(jsonl):
        try:
            if error:
                raise _BadLine(error)
            results.append((doc_id, process(doc_id, obj)))
        except _BadLine as exc:
            results.append((doc_id, str(exc)))
    found = [r for _, r in results]
    cleaned = found if keep_furniture else strip_site_furniture(found)
    _write_jsonl(({"id": doc_id, **as_json(r)} if isinstance(r, Article) else {"id": doc_id, "error": r}
                  for (doc_id, _), r in zip(results, cleaned)), out)


@_stage_command("tag")
def tag_cmd(ctx: click.Context, jsonl: Path, out: Path | None) -> None:
    """Tag texts with countries, regions and topics: {"id","title","text"} per line in ("captions": [str] and
    "language": ISO 639-1 optional; without a language the tagger detects it).

    Example: monitor tag --jsonl texts.jsonl
    """
    from monitor.tagging import Tagger

    cfg = load_config(ctx)
    tagger = Tagger(cfg.regions, cfg.topics, cfg.settings.tagging)

    def process(doc_id, obj: dict) -> dict:
        captions = tuple(str(c.get("text") if isinstance(c, dict) else c) for c in obj.get("captions") or ())
        # every top-level topic with its score, best first, then the narrower ones (a warehouse stores only the
        # confident ones: tagging.max_topics, tagging.min_topic_score)
        tags = tagger.tag(str(doc_id), str(obj.get("title") or ""), str(obj.get("text") or ""), captions,
                          str(obj.get("language") or "") or None, every_topic=True)
        return {"countries": list(tags.countries), "about": list(tags.about), "regions": list(tags.regions),
                "regions_about": list(tags.regions_about), "language": tags.language, "status": tags.status,
                "topics": [{"code": t.code, "label": t.label, "score": t.score, "level": t.level}
                           for t in tags.topics],
                "mentions": tags.mentions, "confidence": tags.confidence,
                "caption_countries": list(tags.caption_countries), "tagger_version": tags.tagger_version}
    _map_jsonl(jsonl, out, process)


@_stage_command("dedup")
def dedup_cmd(ctx: click.Context, jsonl: Path, out: Path | None) -> None:
    """Cluster duplicates: {"id","url","title","text","published"} per line in, its cluster out.

    Example: monitor dedup --jsonl articles.jsonl --out clusters.jsonl
    """
    from monitor.dedup import cluster
    from monitor.extract.metadata import parse_date
    from monitor.models import DedupDoc

    settings = load_config(ctx).settings.dedup
    docs, errors, original_id = [], [], {}
    for doc_id, obj, error in _read_jsonl(jsonl):
        if error or doc_id is None:
            errors.append({"id": doc_id, "error": error or "missing id"})
            continue
        original_id[str(doc_id)] = doc_id  # ids go back out as they came in (a number stays a number)
        docs.append(DedupDoc(str(doc_id), str(obj.get("text") or ""), obj.get("url"), None, str(obj.get("title") or ""),
                             parse_date(obj.get("published")) if isinstance(obj.get("published"), str) else None))
    results = cluster(docs, shingle_size=settings.shingle_size, threshold=settings.near_threshold,
                      min_shingles=settings.min_shingles)
    _write_jsonl([*({"id": original_id[r.doc_id], "cluster": r.cluster, "duplicate_of": r.duplicate_of,
                     "match": r.match, "similarity": r.similarity} for r in results), *errors], out)


COMMANDS = (extract_cmd, tag_cmd, dedup_cmd)
