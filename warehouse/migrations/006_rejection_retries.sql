-- Migration 006 (issue 18): a rejected page is tried again later instead of never. Each rejection counts its
-- attempts and says when the next one is due; NULL means never (a 410, a page that is not HTML, too short, ...).
ALTER TABLE rejections ADD COLUMN IF NOT EXISTS attempts INTEGER;          -- fetches that ended in this rejection
ALTER TABLE rejections ADD COLUMN IF NOT EXISTS next_attempt TIMESTAMPTZ;  -- when a run may fetch the page again
UPDATE rejections SET attempts = 1 WHERE attempts IS NULL;
-- Rows from before: transient ones were retried by every run (due now); a 404 waits a day from when it was seen.
UPDATE rejections SET next_attempt = CASE WHEN transient THEN last_seen
                                          WHEN reason = 'http-404' THEN last_seen + INTERVAL 1 DAY END
WHERE next_attempt IS NULL;
