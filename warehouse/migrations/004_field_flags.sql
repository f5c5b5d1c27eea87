-- Migration 004 (issues 16 and 18): what extraction cut or set aside, per article.
-- truncated: the fields cut to their cap or dropped for length (monitor/fields.py), e.g. ['title', 'captions'].
ALTER TABLE articles ADD COLUMN IF NOT EXISTS truncated TEXT[];
-- date_flags: page or feed dates set aside as outside [1990-01-01, fetch time + 2 days], as
-- '<field>-out-of-window:<source>' (e.g. 'published-out-of-window:json-ld'); published_source names what was used.
ALTER TABLE articles ADD COLUMN IF NOT EXISTS date_flags TEXT[];
