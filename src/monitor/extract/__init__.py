"""Extraction: page HTML -> an Article (clean body, captions with credits, metadata) or a Rejection (one stage).

The package's modules are its private structure; callers use the names re-exported here: `extract` (one page)
and `extract_pages` (a fetched batch).

- article.py   extract(): guards, the body readers (trafilatura, then fallbacks), bounds; extract_pages() for a batch
- pruning.py   blocks removed before trafilatura reads the page: figures, nav, related/newsletter/share boxes
- metadata.py  title, dates, canonical URL, language, author, site name, lead image, each with its source
- captions.py  image captions and credits, harvested before trafilatura (which drops <figure>)
- bodytext.py  line cleaning of the body: the headline again, datelines, bylines, "Read more" lead-ins
- htmltext.py  lxml helpers shared by the above (parsing, text of an element, link density)
- boilerplate.py  a site's furniture: lines and captions recurring on many of one host's pages, learned and removed
"""

from monitor.extract.article import (
    EXTRACTOR_VERSION, SITE_EXTRACTOR_VERSION, extract, extract_pages, extract_with_furniture)
from monitor.extract.boilerplate import learn as learn_furniture, learn_stored as learn_stored_furniture
from monitor.extract.boilerplate import strip_site_furniture

__all__ = ["EXTRACTOR_VERSION", "SITE_EXTRACTOR_VERSION", "extract", "extract_pages", "extract_with_furniture",
           "learn_furniture", "learn_stored_furniture", "strip_site_furniture"]
