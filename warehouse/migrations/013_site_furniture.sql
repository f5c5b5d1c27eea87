-- Migration 013 (issue 21): each site's furniture (body lines and captions that recur on many of one site's pages:
-- a standards line, a sign-in prompt, a newsletter pitch), kept so that the ingest flow, which extracts page by page
-- with the sites mixed, removes it from the new pages of a site it already knows. Learned from the stored articles
-- after each ingest run (a key once learned stays: the articles after it no longer show it) and replaced, site by
-- site, by `monitor reextract`, which learns from the stored pages themselves.
CREATE TABLE IF NOT EXISTS site_furniture (
    host        TEXT NOT NULL,         -- urls.site_of: the host without "www."
    line_key    TEXT NOT NULL,         -- extract's text_key of the line or caption: lower-case words only
    origin      TEXT NOT NULL,         -- articles (stored articles, after an ingest run) | pages (reextract)
    learned_at  TIMESTAMPTZ NOT NULL,  -- when it was last found to be furniture
    PRIMARY KEY (host, line_key)
);
