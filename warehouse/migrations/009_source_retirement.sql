-- Migration 009 (issue 20): a source removed from sources.toml (or by `monitor remove-source`) is retired, not
-- deleted: its articles, entries and fetch history stay, and the views leave it out of what is active.
ALTER TABLE sources ADD COLUMN IF NOT EXISTS retired_at TIMESTAMPTZ;  -- NULL while the source is configured
