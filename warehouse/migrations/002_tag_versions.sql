-- Migration 002 (issue 6): every tag row says which tagger wrote it and how confident it is; topics have a level.
ALTER TABLE article_countries ADD COLUMN IF NOT EXISTS confidence DOUBLE;      -- share of the weighted mentions
ALTER TABLE article_countries ADD COLUMN IF NOT EXISTS tagger_version TEXT;    -- release + digest of model and rules
ALTER TABLE article_regions ADD COLUMN IF NOT EXISTS confidence DOUBLE;        -- summed share of its countries
ALTER TABLE article_regions ADD COLUMN IF NOT EXISTS tagger_version TEXT;
ALTER TABLE article_topics ADD COLUMN IF NOT EXISTS level INTEGER;             -- 1 top-level IPTC topic, 2 narrower
ALTER TABLE article_topics ADD COLUMN IF NOT EXISTS tagger_version TEXT;
