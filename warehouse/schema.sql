-- monitor warehouse schema. Idempotent: every statement can run on an existing warehouse.
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
    confidence  DOUBLE,            -- the country's share of the article's weighted mentions
    tagger_version TEXT,           -- what tagged this row: release + digest of model, rules and settings
    PRIMARY KEY (article_id, country)
);
ALTER TABLE article_countries ADD COLUMN IF NOT EXISTS confidence DOUBLE;
ALTER TABLE article_countries ADD COLUMN IF NOT EXISTS tagger_version TEXT;

CREATE TABLE IF NOT EXISTS article_regions (
    article_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    confidence  DOUBLE,            -- the summed share of the mentions of the region's countries (at most 1)
    tagger_version TEXT,
    PRIMARY KEY (article_id, region)
);
ALTER TABLE article_regions ADD COLUMN IF NOT EXISTS confidence DOUBLE;
ALTER TABLE article_regions ADD COLUMN IF NOT EXISTS tagger_version TEXT;

CREATE TABLE IF NOT EXISTS article_topics (
    article_id        TEXT NOT NULL,
    code              TEXT NOT NULL,   -- medtop:NNNNNNNN
    label             TEXT NOT NULL,
    score             DOUBLE NOT NULL, -- the tagger's confidence, a probability over the top-level topics
    rank              INTEGER NOT NULL,
    taxonomy          TEXT NOT NULL,
    taxonomy_version  TEXT,
    level             INTEGER,         -- 1: one of the 17 top-level topics; 2: a narrower topic
    tagger_version    TEXT,
    PRIMARY KEY (article_id, code)
);
ALTER TABLE article_topics ADD COLUMN IF NOT EXISTS level INTEGER;
ALTER TABLE article_topics ADD COLUMN IF NOT EXISTS tagger_version TEXT;

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

-- One row per story cluster. The representative is the earliest published member (first seen when no date).
CREATE OR REPLACE VIEW story_clusters AS
SELECT c.cluster_id,
       count(*)                         AS articles,
       count(DISTINCT a.source)         AS outlets,
       min(a.published)                 AS first_published,
       arg_min(a.article_id, coalesce(a.published, a.first_seen)) AS representative,
       arg_min(a.title, coalesce(a.published, a.first_seen)) AS title
FROM article_clusters c JOIN articles a USING (article_id)
GROUP BY c.cluster_id;

-- Unique stories against pickups per day: a story counts on the day its first member was published.
CREATE OR REPLACE VIEW stories_per_day AS
SELECT CAST(coalesce(a.published, a.first_seen) AS DATE) AS day,
       count(*)                                              AS articles,
       count(DISTINCT c.cluster_id)                          AS stories,
       count(*) FILTER (WHERE c.match IS NOT NULL)           AS pickups
FROM articles a JOIN article_clusters c USING (article_id)
GROUP BY day;

-- How far each story travelled: outlets, the countries and regions its members are about or mention.
CREATE OR REPLACE VIEW cluster_reach AS
SELECT s.cluster_id, s.title, s.articles, s.outlets, s.first_published,
       (SELECT list(DISTINCT ac.country ORDER BY ac.country) FROM article_clusters m
          JOIN article_countries ac USING (article_id) WHERE m.cluster_id = s.cluster_id) AS countries,
       (SELECT list(DISTINCT ar.region ORDER BY ar.region) FROM article_clusters m
          JOIN article_regions ar USING (article_id) WHERE m.cluster_id = s.cluster_id)  AS regions,
       (SELECT list(DISTINCT aa.agency ORDER BY aa.agency) FROM article_clusters m
          JOIN article_agencies aa USING (article_id) WHERE m.cluster_id = s.cluster_id AND aa.found_in <> 'caption')
                                                                                           AS agencies
FROM story_clusters s;

-- Who published each story first, and how long the others took.
CREATE OR REPLACE VIEW story_firsts AS
SELECT c.cluster_id, a.source, a.article_id, a.title, a.published, c.match, c.similarity,
       row_number() OVER (PARTITION BY c.cluster_id ORDER BY coalesce(a.published, a.first_seen), a.article_id)
                                                                                           AS publish_rank,
       coalesce(a.published, a.first_seen) - min(coalesce(a.published, a.first_seen))
           OVER (PARTITION BY c.cluster_id)                                                AS behind_first
FROM article_clusters c JOIN articles a USING (article_id);

-- One row per configured source: is it healthy, when did it last work, how much does it publish.
-- items_per_day counts entries published (else first seen) in the last 7 days, divided by 7.
CREATE OR REPLACE VIEW feed_health AS
WITH items AS (
    SELECT source,
           count(*) FILTER (WHERE coalesce(published, first_seen) >= now() - INTERVAL 7 DAY) / 7.0 AS items_per_day,
           max(first_seen) AS last_new_item
    FROM entries GROUP BY source
), recent AS (
    SELECT source,
           count(*)                                 AS fetches_7d,
           count(*) FILTER (WHERE status = 'error') AS errors_7d,
           count(*) FILTER (WHERE status IN ('not-modified', 'unchanged')) AS unchanged_7d,
           round(avg(elapsed_ms))                   AS avg_ms
    FROM feed_fetches WHERE fetched_at >= now() - INTERVAL 7 DAY GROUP BY source
)
SELECT s.name AS source,
       s.url,
       CASE WHEN f.source IS NULL THEN 'never fetched'
            WHEN f.dead THEN 'dead'
            WHEN f.consecutive_failures > 0 THEN 'failing'
            ELSE 'ok' END                         AS health,
       f.last_status,
       f.last_attempt,
       f.last_success,
       coalesce(f.consecutive_failures, 0)       AS consecutive_failures,
       f.next_check,
       round(coalesce(i.items_per_day, 0), 1)   AS items_per_day,
       i.last_new_item,
       coalesce(r.fetches_7d, 0)                AS fetches_7d,
       coalesce(r.errors_7d, 0)                 AS errors_7d,
       coalesce(r.unchanged_7d, 0)              AS unchanged_7d,
       r.avg_ms,
       f.poll_minutes,
       f.last_error
FROM sources s
LEFT JOIN feed_state f ON f.source = s.name
LEFT JOIN items i ON i.source = s.name
LEFT JOIN recent r ON r.source = s.name;

INSERT INTO schema_version VALUES (1, now()) ON CONFLICT DO NOTHING;
