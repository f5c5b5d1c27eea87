-- Migration 005 (issue 17): the language each tag row was read as, the regions an article is about (not only the
-- ones it mentions), and one tagging record per article, so an article the tagger could not read is visible in
-- SQL even though it has no tag rows. Rows written before this migration have NULL in the new columns (unknown:
-- the tagger then read every text the same way); `monitor retag --older` rewrites them.
ALTER TABLE article_countries ADD COLUMN IF NOT EXISTS language TEXT;  -- ISO 639-1 the text was read as
ALTER TABLE article_regions ADD COLUMN IF NOT EXISTS language TEXT;
ALTER TABLE article_regions ADD COLUMN IF NOT EXISTS is_about BOOLEAN;  -- a region of a focus country (is_about)
ALTER TABLE article_topics ADD COLUMN IF NOT EXISTS language TEXT;

-- One row per tagged article: how it was read and by which tagger, whether or not it got any tag rows.
CREATE TABLE IF NOT EXISTS article_tagging (
    article_id      TEXT PRIMARY KEY,
    language        TEXT,            -- ISO 639-1 the text was read as; NULL when not recorded (before 005)
    status          TEXT NOT NULL,   -- 'ok', or 'unsupported-language': stored with its language, left untagged
    tagger_version  TEXT,            -- as on the tag rows; NULL for rows from before tagger versions (002)
    tagged_at       TIMESTAMPTZ NOT NULL
);

-- Every article stored so far was tagged by the tagger of its day, which read every text alike: record it as 'ok'
-- with the version its tag rows name (topics always have a row; countries and regions may not).
INSERT INTO article_tagging
SELECT a.article_id, NULL, 'ok',
       coalesce((SELECT max(t.tagger_version) FROM article_topics t WHERE t.article_id = a.article_id),
                (SELECT max(c.tagger_version) FROM article_countries c WHERE c.article_id = a.article_id),
                (SELECT max(r.tagger_version) FROM article_regions r WHERE r.article_id = a.article_id)),
       a.first_seen
FROM articles a
WHERE NOT EXISTS (SELECT 1 FROM article_tagging g WHERE g.article_id = a.article_id);
