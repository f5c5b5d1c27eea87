-- Migration 001: the warehouse as of the first releases (issues 2-5). Idempotent on purpose: warehouses made
-- before migrations existed have some or all of these tables and columns, and this brings any of them up to it.
-- Identity comes from the data: article_id = stable hash of the canonical URL, entry_id = hash of
-- (source, guid), so loading the same run twice adds no rows.

CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS sources (
    name        TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    site        TEXT,
    language    TEXT,
    country     TEXT,
    tags        TEXT[],
    schedule    TEXT,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- One row per run of the ingest flow, with its counts per (stage, outcome).
CREATE TABLE IF NOT EXISTS runs (
    run_id       TEXT PRIMARY KEY,
    flow_run_id  TEXT,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ NOT NULL,
    status       TEXT NOT NULL,
    sources      TEXT[],
    counts       JSON
);

-- One row per feed request: a log, so feed health is a query.
CREATE TABLE IF NOT EXISTS feed_fetches (
    run_id         TEXT NOT NULL,
    source         TEXT NOT NULL,
    url            TEXT NOT NULL,
    fetched_at     TIMESTAMPTZ NOT NULL,
    status         TEXT NOT NULL,   -- ok | not-modified | unchanged | error
    http_status    INTEGER,
    etag           TEXT,
    last_modified  TEXT,
    body_hash      TEXT,
    entries        INTEGER,
    new_entries    INTEGER,
    bozo           BOOLEAN,
    error          TEXT,
    elapsed_ms     INTEGER,
    PRIMARY KEY (run_id, source)
);

-- Per feed, the polling state carried between runs: validators, health, and when to look again.
CREATE TABLE IF NOT EXISTS feed_state (
    source                TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,     -- the validators below belong to this URL
    etag                  TEXT,
    last_modified         TEXT,
    body_hash             TEXT,              -- sha1 of the last body: "unchanged" even when validators lie
    last_status           TEXT,              -- ok | not-modified | unchanged | error
    last_error            TEXT,
    last_attempt          TIMESTAMPTZ,
    last_success          TIMESTAMPTZ,
    consecutive_failures  INTEGER NOT NULL,
    poll_minutes          DOUBLE,            -- adaptive: stretches while polls bring nothing new
    next_check            TIMESTAMPTZ,       -- max(poll interval, <ttl>, max-age, Retry-After) or the backoff
    dead                  BOOLEAN NOT NULL,  -- skipped until a forced run succeeds
    last_entries          INTEGER,
    last_new_entries      INTEGER,
    idle_polls            INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS entries (
    entry_id    TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    guid        TEXT NOT NULL,
    link        TEXT,             -- normalised; NULL when the item had no usable link
    raw_link    TEXT,
    title       TEXT,
    published   TIMESTAMPTZ,
    first_seen  TIMESTAMPTZ NOT NULL,
    article_id  TEXT              -- set once the page became an article
);

CREATE TABLE IF NOT EXISTS articles (
    article_id         TEXT PRIMARY KEY,
    url                TEXT NOT NULL,
    canonical_url      TEXT NOT NULL,
    source             TEXT,
    title              TEXT,
    published          TIMESTAMPTZ,
    first_seen         TIMESTAMPTZ NOT NULL,
    language           TEXT,
    author             TEXT,
    site_name          TEXT,
    body               TEXT NOT NULL,
    body_hash          TEXT NOT NULL,
    extraction_method  TEXT NOT NULL,  -- trafilatura | paragraphs (the fallback when trafilatura finds too little)
    run_id             TEXT,
    published_source   TEXT,           -- json-ld | meta | page | feed | url
    modified           TIMESTAMPTZ,
    language_declared  TEXT,           -- what the page says; `language` follows the detector when it is sure
    language_detected  TEXT,
    lead_image         TEXT
);
-- Warehouses made before these columns existed get them (at the end, as above).
ALTER TABLE articles ADD COLUMN IF NOT EXISTS published_source TEXT;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS modified TIMESTAMPTZ;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS language_declared TEXT;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS language_detected TEXT;
ALTER TABLE articles ADD COLUMN IF NOT EXISTS lead_image TEXT;

CREATE TABLE IF NOT EXISTS captions (
    article_id  TEXT NOT NULL,
    position    INTEGER NOT NULL,
    text        TEXT NOT NULL,
    credit      TEXT,
    PRIMARY KEY (article_id, position)
);

CREATE TABLE IF NOT EXISTS article_countries (
    article_id  TEXT NOT NULL,
    country     TEXT NOT NULL,     -- ISO 3166-1 alpha-2
    mentions    DOUBLE NOT NULL,   -- weighted: title and lead count more
    is_about    BOOLEAN NOT NULL,  -- what the article is primarily about, not merely mentioned
    in_caption  BOOLEAN NOT NULL,
    PRIMARY KEY (article_id, country)
);

CREATE TABLE IF NOT EXISTS article_regions (
    article_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    PRIMARY KEY (article_id, region)
);

CREATE TABLE IF NOT EXISTS article_topics (
    article_id        TEXT NOT NULL,
    code              TEXT NOT NULL,   -- medtop:NNNNNNNN
    label             TEXT NOT NULL,
    score             DOUBLE NOT NULL,
    rank              INTEGER NOT NULL,
    taxonomy          TEXT NOT NULL,
    taxonomy_version  TEXT,
    PRIMARY KEY (article_id, code)
);

-- Every article is in exactly one story cluster; the cluster is named after its first member.
CREATE TABLE IF NOT EXISTS article_clusters (
    article_id    TEXT PRIMARY KEY,
    cluster_id    TEXT NOT NULL,
    duplicate_of  TEXT,
    match         TEXT,      -- url | canonical | exact | near | NULL for a cluster's first article
    similarity    DOUBLE,    -- 1.0 for url/canonical/exact; estimated containment of word 3-grams for near
    signature     BLOB,      -- MinHash signature (dedup.sketch): later runs match against it without the body
    shingle_count INTEGER
);
ALTER TABLE article_clusters ADD COLUMN IF NOT EXISTS signature BLOB;
ALTER TABLE article_clusters ADD COLUMN IF NOT EXISTS shingle_count INTEGER;

-- Agencies an article credits: in its dateline ("BAKU (Reuters) -"), a closing credit, or its photo credits.
CREATE TABLE IF NOT EXISTS article_agencies (
    article_id  TEXT NOT NULL,
    agency      TEXT NOT NULL,
    found_in    TEXT NOT NULL,   -- dateline | body | caption
    PRIMARY KEY (article_id, agency, found_in)
);

-- Expected failures, one row per (url, stage), updated when seen again.
CREATE TABLE IF NOT EXISTS rejections (
    url         TEXT NOT NULL,
    stage       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT,
    source      TEXT,
    transient   BOOLEAN NOT NULL,   -- true: a later run tries again
    first_seen  TIMESTAMPTZ NOT NULL,
    last_seen   TIMESTAMPTZ NOT NULL,
    run_id      TEXT,
    PRIMARY KEY (url, stage)
);
