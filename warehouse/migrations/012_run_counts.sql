-- Migration 012 (issue 22): a run's counts in typed rows instead of one JSON object of labelled keys
-- ("rejected:fetch:http-404", "duplicates:{source}") that readers split apart again. `run_outcomes` holds the run's
-- counts per (stage, kind, reason) (counts.Outcome), `run_sources` each source's figures (counts.SourceCounts).
CREATE TABLE IF NOT EXISTS run_outcomes (
    run_id  TEXT NOT NULL,
    stage   TEXT NOT NULL,     -- feed | entries | pages | articles | fetch | extract (the stage a rejection is from)
    kind    TEXT NOT NULL,     -- ok, skipped, seen, requested, new, duplicate, rejected, untagged, ...
    reason  TEXT NOT NULL,     -- why ("not-due", "http-404", "near", "since"), '' when the kind needs none
    n       BIGINT NOT NULL,
    PRIMARY KEY (run_id, stage, kind, reason)
);

CREATE TABLE IF NOT EXISTS run_sources (
    run_id        TEXT NOT NULL,
    source        TEXT NOT NULL,
    entries       INTEGER NOT NULL,  -- entries its feeds listed
    new_entries   INTEGER NOT NULL,  -- entries whose page was not done before the run
    new_articles  INTEGER NOT NULL,
    duplicates    INTEGER NOT NULL,  -- a link listed twice, or a new article that copies another
    pickups       INTEGER NOT NULL,  -- a page that is an article already stored (or another outlet's, this run)
    deferred      INTEGER NOT NULL,  -- entries left for a later run by --since or --limit
    errors        INTEGER NOT NULL,  -- rejections at any stage
    -- new articles stored untagged (a language the tagger does not read)
    untagged      INTEGER NOT NULL,
    PRIMARY KEY (run_id, source)
);

-- The runs recorded before: their keys read once, here. A key "<figure>:<source>" with a source of that run is a
-- source's figure; every other key is one of the run's outcomes.
CREATE TEMP TABLE old_counts AS
    SELECT r.run_id, j.key, CAST(j.value AS BIGINT) AS n,
           (SELECT max(s) FROM unnest(r.sources) AS t(s) WHERE j.key LIKE '%:' || s) AS source
    FROM runs r, json_each(r.counts) j
    WHERE r.counts IS NOT NULL AND r.run_id NOT IN (SELECT run_id FROM run_outcomes);

INSERT INTO run_sources
    SELECT run_id, source,
           coalesce(sum(n) FILTER (WHERE figure = 'entries'), 0),
           coalesce(sum(n) FILTER (WHERE figure = 'new_entries'), 0),
           coalesce(sum(n) FILTER (WHERE figure = 'new_articles'), 0),
           coalesce(sum(n) FILTER (WHERE figure = 'duplicates'), 0),
           coalesce(sum(n) FILTER (WHERE figure = 'pickups'), 0),
           coalesce(sum(n) FILTER (WHERE figure = 'deferred'), 0),
           coalesce(sum(n) FILTER (WHERE figure = 'errors'), 0),
           -- "<tags status>:<source>": new articles stored untagged
           coalesce(sum(n) FILTER (WHERE figure NOT IN ('entries', 'new_entries', 'new_articles', 'duplicates',
                                                        'pickups', 'deferred', 'errors')), 0)
    FROM (SELECT run_id, source, n, left(key, length(key) - length(source) - 1) AS figure
          FROM old_counts WHERE source IS NOT NULL)
    GROUP BY run_id, source;

INSERT INTO run_outcomes
    SELECT run_id, stage, kind, reason, sum(n)
    FROM (
        SELECT run_id, n,
               CASE WHEN parts[1] IN ('dup', 'tagged') THEN 'articles' WHEN parts[1] = 'rejected' THEN parts[2]
                    ELSE parts[1] END AS stage,
               CASE WHEN key = 'entries' THEN 'seen'
                    WHEN parts[1] = 'dup' THEN 'duplicate'
                    WHEN parts[1] = 'tagged' THEN 'untagged'
                    WHEN parts[1] = 'rejected' THEN 'rejected'
                    WHEN parts[1] = 'feed' AND parts[2] NOT IN ('ok', 'not-modified', 'unchanged', 'error', 'bozo',
                                                                'failing') THEN 'skipped'
                    ELSE parts[2] END AS kind,
               CASE WHEN parts[1] IN ('dup', 'tagged') THEN parts[2]
                    WHEN parts[1] = 'rejected' THEN array_to_string(parts[3:], ':')
                    WHEN key = 'entries:deferred:' || parts[3] THEN parts[3]
                    WHEN parts[1] = 'feed' AND parts[2] NOT IN ('ok', 'not-modified', 'unchanged', 'error', 'bozo',
                                                                'failing') THEN parts[2]
                    ELSE '' END AS reason
        FROM (SELECT run_id, key, n, string_split(key, ':') AS parts FROM old_counts WHERE source IS NULL)
        UNION ALL  -- the run's duplicate entries: its sources' figures summed, as the run's outcome now holds them
        SELECT run_id, n, 'entries', 'duplicate', '' FROM old_counts
        WHERE source IS NOT NULL AND key = 'duplicates:' || source
    )
    WHERE n <> 0
    GROUP BY run_id, stage, kind, reason;

DROP TABLE old_counts;

ALTER TABLE runs DROP COLUMN counts;
