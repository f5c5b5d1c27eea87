-- Migration 010 (issue 21): every article page is kept in the page store (WARC files beside the warehouse), so
-- each article names the page it was extracted from (its content address) and the extractor that did it; with
-- `extraction_method` (since 001) that says how, by what and from which bytes each stored article was made, and
-- `monitor reextract` finds the articles an older extractor made.
ALTER TABLE articles ADD COLUMN IF NOT EXISTS page_sha TEXT;           -- sha256 of the page's HTML (UTF-8), hex
ALTER TABLE articles ADD COLUMN IF NOT EXISTS extractor_version TEXT;  -- monitor-extract/<release>+<code digest>
