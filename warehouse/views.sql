-- monitor's views: derived, no data of their own, so they are replaced on every open for writing (after the
-- migrations). Each is documented with an example in docs/queries.md.

-- One row per story cluster. The representative is the earliest published member (first seen when no date).
-- outlets counts every source that ran a member: the article's own, and every feed entry that led to it (another
-- outlet's page with the same canonical URL is the same article, a pickup that is not an article row of its own).
CREATE OR REPLACE VIEW story_clusters AS
WITH members AS (
    SELECT c.cluster_id,
           count(*)                         AS articles,
           min(a.published)                 AS first_published,
           arg_min(a.article_id, coalesce(a.published, a.first_seen)) AS representative,
           arg_min(a.title, coalesce(a.published, a.first_seen)) AS title
    FROM article_clusters c JOIN articles a USING (article_id)
    GROUP BY c.cluster_id
), outlets AS (
    SELECT cluster_id, count(DISTINCT source) AS outlets FROM (
        SELECT c.cluster_id, a.source FROM article_clusters c JOIN articles a USING (article_id)
        UNION ALL
        SELECT c.cluster_id, e.source FROM article_clusters c JOIN entries e USING (article_id)
    ) GROUP BY cluster_id
)
SELECT m.cluster_id, m.articles, o.outlets, m.first_published, m.representative, m.title
FROM members m JOIN outlets o USING (cluster_id);

-- Unique stories against pickups per day: a story counts on the day its first member was published.
CREATE OR REPLACE VIEW stories_per_day AS
SELECT CAST(coalesce(a.published, a.first_seen) AS DATE) AS day,
       count(*)                                              AS articles,
       count(DISTINCT c.cluster_id)                          AS stories,
       count(*) FILTER (WHERE c.match IS NOT NULL)           AS pickups
FROM articles a JOIN article_clusters c USING (article_id)
GROUP BY day;

-- How far each story travelled: outlets, the countries and regions its members mention (regions_about: the
-- regions of the countries they are about).
CREATE OR REPLACE VIEW cluster_reach AS
SELECT s.cluster_id, s.title, s.articles, s.outlets, s.first_published,
       (SELECT list(DISTINCT ac.country ORDER BY ac.country) FROM article_clusters m
          JOIN article_countries ac USING (article_id) WHERE m.cluster_id = s.cluster_id) AS countries,
       (SELECT list(DISTINCT ar.region ORDER BY ar.region) FROM article_clusters m
          JOIN article_regions ar USING (article_id) WHERE m.cluster_id = s.cluster_id)  AS regions,
       (SELECT list(DISTINCT aa.agency ORDER BY aa.agency) FROM article_clusters m
          JOIN article_agencies aa USING (article_id) WHERE m.cluster_id = s.cluster_id AND aa.found_in <> 'caption')
                                                                                           AS agencies,
       (SELECT list(DISTINCT ar.region ORDER BY ar.region) FROM article_clusters m
          JOIN article_regions ar USING (article_id) WHERE m.cluster_id = s.cluster_id AND ar.is_about)
                                                                                           AS regions_about
FROM story_clusters s;

-- Who published each story first, and how long the others took.
CREATE OR REPLACE VIEW story_firsts AS
SELECT c.cluster_id, a.source, a.article_id, a.title, a.published, c.match, c.similarity,
       row_number() OVER (PARTITION BY c.cluster_id ORDER BY coalesce(a.published, a.first_seen), a.article_id)
                                                                                           AS publish_rank,
       coalesce(a.published, a.first_seen) - min(coalesce(a.published, a.first_seen))
           OVER (PARTITION BY c.cluster_id)                                                AS behind_first
FROM article_clusters c JOIN articles a USING (article_id);

-- One row per source ever configured, retired ones included (retired_at set; see feed_health for the active ones):
-- is it healthy, when did it last work, how much does it publish.
-- items_per_day counts entries published (else first seen) in the last 7 days, divided by 7.
CREATE OR REPLACE VIEW feed_health_all AS
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
       f.last_error,
       s.retired_at
FROM sources s
LEFT JOIN feed_state f ON f.source = s.name
LEFT JOIN items i ON i.source = s.name
LEFT JOIN recent r ON r.source = s.name;

-- One row per configured (active) source: a retired source's history stays in the tables and in feed_health_all.
CREATE OR REPLACE VIEW feed_health AS
SELECT * EXCLUDE (retired_at) FROM feed_health_all WHERE retired_at IS NULL;

-- Each article with the day it counts on: its publication date in UTC, else the day we first saw it. A date
-- outside 1990 .. first seen + 2 days is a page's or feed's mistake (0001-01-01, 9999-12-31): it counts on the day
-- first seen, so one such row cannot stretch every daily series over thousands of years (the spikes view went
-- from 0.36 s to 42 s and 10.9 GB on two of them). New rows are checked at extraction; this guards old ones.
CREATE OR REPLACE VIEW article_days AS
SELECT a.article_id, a.source, c.cluster_id, c.match IS NOT NULL AS is_pickup,
       CAST(timezone('UTC', CASE WHEN a.published >= TIMESTAMPTZ '1990-01-01 00:00:00+00'
                                  AND a.published <= a.first_seen + INTERVAL 2 DAY
                                 THEN a.published ELSE a.first_seen END) AS DATE) AS day
FROM articles a LEFT JOIN article_clusters c USING (article_id);

-- Daily volume along every dimension at once, long format: articles and distinct stories per day and value.
-- dimension: 'all' (value 'all'), 'source', 'country' (mentioned), 'country_about', 'region' (a region the
-- article is about: one of its focus countries is in it), 'region_mentioned' (any country of it is mentioned: a
-- story naming the G7 in passing counts there), 'topic' (the article's first-ranked top-level IPTC topic, by label).
CREATE OR REPLACE VIEW daily_volume AS
WITH tagged AS (
    SELECT d.day, d.cluster_id, d.article_id, 'all' AS dimension, 'all' AS value FROM article_days d
    UNION ALL
    SELECT d.day, d.cluster_id, d.article_id, 'source', d.source FROM article_days d
    UNION ALL
    SELECT d.day, d.cluster_id, d.article_id, 'country', ac.country
    FROM article_days d JOIN article_countries ac USING (article_id)
    UNION ALL
    SELECT d.day, d.cluster_id, d.article_id, 'country_about', ac.country
    FROM article_days d JOIN article_countries ac USING (article_id) WHERE ac.is_about
    UNION ALL
    SELECT d.day, d.cluster_id, d.article_id, 'region', ar.region
    FROM article_days d JOIN article_regions ar USING (article_id) WHERE ar.is_about
    UNION ALL
    SELECT d.day, d.cluster_id, d.article_id, 'region_mentioned', ar.region
    FROM article_days d JOIN article_regions ar USING (article_id)
    UNION ALL
    SELECT d.day, d.cluster_id, d.article_id, 'topic', t.label
    FROM article_days d JOIN article_topics t USING (article_id) WHERE t.rank = 1
)
SELECT day, dimension, value, count(DISTINCT article_id) AS articles, count(DISTINCT cluster_id) AS stories
FROM tagged GROUP BY ALL;

-- Spikes: a day on which a country's or a topic's volume is at least 3 standard deviations over its mean of the
-- 28 days before (days without articles count as 0). Needs 7 days of history and at least 3 articles, so a first
-- appearance or a 0 -> 1 blip is not a spike.
CREATE OR REPLACE VIEW spikes AS
WITH span AS (
    SELECT min(day) AS first_day, max(day) AS last_day FROM daily_volume WHERE dimension = 'all'
), days AS (
    SELECT CAST(unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS DATE) AS day FROM span
), series AS (
    SELECT DISTINCT dimension, value FROM daily_volume WHERE dimension IN ('country', 'country_about', 'topic')
), dense AS (
    SELECT s.dimension, s.value, d.day, coalesce(v.articles, 0) AS articles
    FROM series s CROSS JOIN days d
    LEFT JOIN daily_volume v ON v.dimension = s.dimension AND v.value = s.value AND v.day = d.day
), scored AS (
    SELECT *,
           avg(articles) OVER w         AS mean_28d,
           stddev_pop(articles) OVER w  AS sd_28d,
           count(*) OVER w              AS history_days
    FROM dense
    WINDOW w AS (PARTITION BY dimension, value ORDER BY day ROWS BETWEEN 28 PRECEDING AND 1 PRECEDING)
)
SELECT day, dimension, value, articles, round(mean_28d, 2) AS mean_28d, round(sd_28d, 2) AS sd_28d,
       round((articles - mean_28d) / nullif(sd_28d, 0), 1) AS z
FROM scored
WHERE history_days >= 7 AND articles >= 3 AND articles >= mean_28d + 3 * sd_28d AND articles > mean_28d;

-- The stories of the last 24 hours and 7 days (by their members' publication, else first-seen time), widest
-- reach first: outlets, then articles. One row per story and period ('24h' or '7d').
CREATE OR REPLACE VIEW top_stories AS
WITH windows AS (
    SELECT '24h' AS period, now() - INTERVAL 24 HOUR AS since
    UNION ALL SELECT '7d', now() - INTERVAL 7 DAY
), members AS (
    SELECT w.period, c.cluster_id, count(*) AS articles, count(DISTINCT a.source) AS outlets,
           list(DISTINCT a.source ORDER BY a.source) AS outlet_names,
           min(coalesce(a.published, a.first_seen)) AS first_seen_in_window
    FROM windows w
    JOIN articles a ON coalesce(a.published, a.first_seen) >= w.since
    JOIN article_clusters c USING (article_id)
    GROUP BY ALL
)
SELECT m.period, m.cluster_id, r.title, m.articles, m.outlets, m.outlet_names, r.countries, r.regions, r.agencies,
       m.first_seen_in_window,
       row_number() OVER (PARTITION BY m.period ORDER BY m.outlets DESC, m.articles DESC, m.cluster_id) AS rank,
       r.regions_about
FROM members m JOIN cluster_reach r USING (cluster_id);

-- Extraction quality per source: how many pages became articles, how many were rejected and why, and how
-- complete the articles are (fallback extraction, missing date, language or captions, short bodies).
CREATE OR REPLACE VIEW extraction_quality AS
WITH art AS (
    SELECT a.source,
           count(*)                                                        AS articles,
           count(*) FILTER (WHERE a.extraction_method <> 'trafilatura')    AS fallbacks,
           count(*) FILTER (WHERE a.published IS NULL)                     AS missing_date,
           count(*) FILTER (WHERE a.language IS NULL)                      AS missing_language,
           count(*) FILTER (WHERE length(a.body) < 500)                    AS short_bodies,
           count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM captions c WHERE c.article_id = a.article_id))
                                                                           AS without_captions,
           round(avg(length(a.body)))                                      AS avg_body_chars
    FROM articles a GROUP BY a.source
), rej AS (
    SELECT source,
           count(*) FILTER (WHERE stage = 'extract')                       AS extract_rejections,
           count(*) FILTER (WHERE stage = 'extract' AND reason IN ('empty-page', 'too-short')) AS empty_bodies,
           count(*) FILTER (WHERE stage = 'fetch')                         AS fetch_rejections,
           list(DISTINCT reason ORDER BY reason) FILTER (WHERE stage IN ('fetch', 'extract')) AS reasons
    FROM rejections GROUP BY source
)
SELECT s.name AS source,
       coalesce(art.articles, 0)            AS articles,
       coalesce(rej.empty_bodies, 0)        AS empty_bodies,
       coalesce(rej.extract_rejections, 0)  AS extract_rejections,
       coalesce(rej.fetch_rejections, 0)    AS fetch_rejections,
       coalesce(art.fallbacks, 0)           AS fallbacks,
       coalesce(art.missing_date, 0)        AS missing_date,
       coalesce(art.missing_language, 0)    AS missing_language,
       coalesce(art.short_bodies, 0)        AS short_bodies,
       coalesce(art.without_captions, 0)    AS without_captions,
       art.avg_body_chars,
       round(coalesce(art.articles, 0) / nullif(coalesce(art.articles, 0) + coalesce(rej.extract_rejections, 0)
             + coalesce(rej.fetch_rejections, 0), 0), 3) AS success_rate,
       coalesce(rej.reasons, [])            AS rejection_reasons
FROM sources s LEFT JOIN art ON art.source = s.name LEFT JOIN rej ON rej.source = s.name
WHERE s.retired_at IS NULL;  -- active sources only: a retired source's articles stay in `articles`

-- Tagging coverage per source and article language: how many articles the tagger read ('ok'), how many it
-- stored untagged because it does not cover their language ('unsupported-language'), how many have no tagging
-- record at all, and how many were read but yielded no country (silently empty is what to watch for).
CREATE OR REPLACE VIEW tagging_coverage AS
SELECT a.source,
       a.language,
       count(*)                                                            AS articles,
       count(*) FILTER (WHERE g.status = 'ok')                             AS tagged_ok,
       count(*) FILTER (WHERE g.status = 'unsupported-language')           AS unsupported_language,
       count(*) FILTER (WHERE g.article_id IS NULL)                        AS not_tagged,
       count(*) FILTER (WHERE g.status = 'ok' AND NOT EXISTS (
           SELECT 1 FROM article_countries c WHERE c.article_id = a.article_id)) AS ok_without_countries,
       round(count(*) FILTER (WHERE g.status = 'ok') / count(*), 3)       AS tagged_share,
       list(DISTINCT g.tagger_version ORDER BY g.tagger_version) FILTER (WHERE g.tagger_version IS NOT NULL)
                                                                           AS tagger_versions
FROM articles a LEFT JOIN article_tagging g USING (article_id)
GROUP BY a.source, a.language;
