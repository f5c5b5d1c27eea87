-- monitor's views: derived, no data of their own, so they are replaced on every open for writing (after the
-- migrations). Each is documented with an example in docs/queries.md.

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
