-- Migration 008 (issue 19): saved searches ("watches"), what they matched, and when reports were made.

-- Watches added with `monitor watch add` (those kept in git are in config/watches.toml and are not copied here).
-- filters holds the raw values as typed (names or codes), by the name of the search filter they go to.
CREATE TABLE IF NOT EXISTS watches (
    name        TEXT PRIMARY KEY,
    query       TEXT NOT NULL,           -- the search query ('' for a spikes watch)
    filters     JSON NOT NULL,           -- {"sources": [...], "countries": [...], ...}
    spikes      BOOLEAN NOT NULL,        -- true: watches the spikes view instead of articles
    notify      TEXT,                    -- webhook URL, or NULL
    created_at  TIMESTAMPTZ NOT NULL     -- only articles loaded after this count as its matches
);

-- Every new match of every watch, exactly once: the key is the data (watch, article), rows are only ever inserted
-- when absent, so a retried or overlapping run cannot add a second row. notified_at stays NULL until the webhook
-- took it (an outbox: a later run delivers what a failing endpoint refused).
CREATE TABLE IF NOT EXISTS watch_hits (
    watch            TEXT NOT NULL,
    article_id       TEXT NOT NULL,
    cluster_id       TEXT,
    matched_at       TIMESTAMPTZ NOT NULL,
    run_id           TEXT,               -- the run whose watch step found it
    notified_at      TIMESTAMPTZ,
    notify_attempts  INTEGER NOT NULL,   -- webhook deliveries tried and refused
    PRIMARY KEY (watch, article_id)
);

-- Spikes a spikes watch has seen, once each: (watch, day, dimension, value) is the spike.
CREATE TABLE IF NOT EXISTS watch_spike_hits (
    watch            TEXT NOT NULL,
    day              DATE NOT NULL,
    dimension        TEXT NOT NULL,
    value            TEXT NOT NULL,
    articles         INTEGER NOT NULL,
    z                DOUBLE,
    matched_at       TIMESTAMPTZ NOT NULL,
    run_id           TEXT,
    notified_at      TIMESTAMPTZ,
    notify_attempts  INTEGER NOT NULL,   -- webhook deliveries tried and refused
    PRIMARY KEY (watch, day, dimension, value)
);

-- Which loads a watch has looked at: a run's articles are checked by each watch until that run is settled (it
-- finished, or it died long ago), so articles a concurrent run commits after a check are still seen next time.
CREATE TABLE IF NOT EXISTS watch_checks (
    watch       TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    checked_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (watch, run_id)
);

-- When a watch was first checked: a watch from watches.toml counts only articles loaded from then on.
CREATE TABLE IF NOT EXISTS watch_state (
    watch       TEXT PRIMARY KEY,
    since       TIMESTAMPTZ NOT NULL
);

-- One row per report written, so the next one can mark what is new since.
CREATE TABLE IF NOT EXISTS report_runs (
    generated_at  TIMESTAMPTZ NOT NULL,
    kind          TEXT NOT NULL,         -- report | digest
    first_day     DATE,
    last_day      DATE,
    out           TEXT,
    PRIMARY KEY (kind, generated_at)
);
