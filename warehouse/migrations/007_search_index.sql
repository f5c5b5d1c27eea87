-- Migration 007 (issue 19): the full-text search index (monitor/warehouse/search.py), kept by every load.
-- One row per indexed article, and one per (article, word) it holds. Articles are never rewritten by a load, so
-- rows are only added; the load indexes every article not in search_docs yet (all of them, the first time).
CREATE TABLE IF NOT EXISTS search_docs (
    article_id  TEXT PRIMARY KEY,
    stemmer     TEXT NOT NULL,     -- the Snowball stemmer of the article's language; 'none' when it has none
    length      DOUBLE NOT NULL    -- weighted words (title 3, lead 2, captions 1.5, rest of the body 1): BM25's dl
);

-- No key on purpose: a primary key over tens of millions of rows costs more than the index it guards; search_docs
-- is the record of what is indexed, written in the same transaction.
CREATE TABLE IF NOT EXISTS search_postings (
    article_id  TEXT NOT NULL,
    word        TEXT NOT NULL,     -- lower case, as written (prefix* queries)
    stem        TEXT NOT NULL,     -- stem(word, stemmer) (word and "phrase" queries)
    stemmer     TEXT NOT NULL,
    weight      DOUBLE NOT NULL,   -- weighted occurrences in the article: BM25's tf
    length      DOUBLE NOT NULL    -- the article's search_docs.length, here so a query needs no join for it
);

-- Rows a query reads outside the stem-ordered part of search_postings since it was last rewritten in stem order
-- (search._compact_if_due): one row.
CREATE TABLE IF NOT EXISTS search_index_state (
    pending_reads  BIGINT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
