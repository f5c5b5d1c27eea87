"""Response bodies as bytes and text: Content-Encoding decoded under the size cap, one bounded step at a time, and
page bytes sniffed and decoded (byte-order mark, header charset, <meta charset>).

httpx's own decoders turn a whole network chunk into one string: 64 KiB of brotli can hold gigabytes (a 6.5 KB
response reached 8.2 GB), so the cap was checked too late. Here no step yields more than `DECODE_STEP` bytes, and
the cap is checked after every step.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Callable, Iterable, Iterator

import brotli

# The most decoded bytes one decompression step yields: what a bomb can add to memory beyond the cap.
DECODE_STEP = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class TooLarge(Exception):
    """The response exceeded the configured size cap."""


class BadEncoding(ValueError):
    """The body is not valid for its Content-Encoding."""


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (several members allowed) or deflate (zlib-wrapped, or raw as some servers send it, as httpx allows)."""

    def __init__(self, gzip: bool) -> None:
        self.gzip = gzip
        self.started = False
        self.z = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self.started and data and not self.gzip:
            self.started = True
            try:  # a raw deflate stream fails in its first bytes as zlib: start over as raw
                zlib.decompressobj().decompress(data[:64], 1)
            except zlib.error:
                self.z = zlib.decompressobj(-zlib.MAX_WBITS)
        while data:
            yield self.z.decompress(data, DECODE_STEP)
            data = self.z.unconsumed_tail
            if not data and self.z.eof and self.gzip and self.z.unused_data.startswith(GZIP_MAGIC):
                data = self.z.unused_data  # the next gzip member
                self.z = zlib.decompressobj(zlib.MAX_WBITS | 16)

    def flush(self) -> Iterator[bytes]:
        yield self.z.flush()  # input is consumed step by step, so this holds at most the window's tail


class _Brotli:
    def __init__(self) -> None:
        self.d = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        # brotli >= 1.2: the output buffer stops growing at the limit; empty calls drain the rest step by step.
        yield self.d.process(data, output_buffer_limit=DECODE_STEP)
        while not self.d.can_accept_more_data():
            yield self.d.process(b"", output_buffer_limit=DECODE_STEP)

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Chain:
    """Content-Encoding "gzip, br" was applied left to right, so it is undone right to left, each step bounded."""

    def __init__(self, decoders: list) -> None:
        self.decoders = decoders

    def _through(self, index: int, pieces: Iterable[bytes]) -> Iterator[bytes]:
        if index == len(self.decoders):
            yield from pieces
            return
        decoder = self.decoders[index]
        for piece in pieces:
            yield from self._through(index + 1, decoder.feed(piece))

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(0, [data])

    def flush(self) -> Iterator[bytes]:
        for index, decoder in enumerate(self.decoders):
            yield from self._through(index + 1, decoder.flush())


_DECODERS: dict[str, Callable[[], object]] = {
    "gzip": lambda: _Zlib(gzip=True), "x-gzip": lambda: _Zlib(gzip=True), "deflate": lambda: _Zlib(gzip=False),
    "br": _Brotli, "identity": _Identity,
}


def decoder_for(content_encoding: str) -> _Chain:
    """The bounded decoder of a Content-Encoding header; unknown codings pass through, as httpx does."""
    names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
    return _Chain([_DECODERS[n]() for n in reversed(names) if n in _DECODERS and n != "identity"])


def read_bounded(raw: Iterable[bytes], content_encoding: str, cap: int, tick: Callable[[], None] = lambda: None
                 ) -> bytes:
    """Decode raw body chunks, raising TooLarge as soon as the decoded size passes `cap`; `tick` runs between
    steps (the caller's time budget)."""
    decoder = decoder_for(content_encoding)
    parts: list[bytes] = []
    size = 0

    def take(pieces: Iterable[bytes]) -> None:
        nonlocal size
        for piece in pieces:
            size += len(piece)
            if size > cap:
                raise TooLarge(f"body exceeds {cap} bytes" + (" decoded" if decoder.decoders else ""))
            parts.append(piece)
            tick()

    try:
        for chunk in raw:
            tick()
            take(decoder.feed(chunk))
        take(decoder.flush())
    except (zlib.error, brotli.error) as exc:
        raise BadEncoding(f"{content_encoding}: {exc}") from exc
    return b"".join(parts)


# --- text ---------------------------------------------------------------------------------------------

# How far into a page we look for a <meta charset>: browsers sniff the first 1024 bytes; we allow more
# because some CMSs put long comments or scripts before it.
CHARSET_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
# A byte-order mark decides the encoding before any header (WHATWG "decode"); UTF-32 LE's BOM starts with
# UTF-16 LE's, so it is tried first.
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# WHATWG MIME sniffing's HTML signatures: a body served as application/octet-stream (or untyped) that starts with
# one of these (after whitespace), followed by a space or ">", is HTML.
_HTML_START = re.compile(r"\s*<(!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)"
                         r"[\s>]", re.I)
# Bytes sniffed for an HTML signature (the WHATWG algorithm reads 1445; a BOM may double them).
HTML_SNIFF_BYTES = 2048


def bom_encoding(content: bytes) -> str | None:
    """The encoding a byte-order mark names, or None."""
    return next((name for bom, name in BOMS if content.startswith(bom)), None)


def looks_like_html(content: bytes) -> bool:
    """True when the body starts like an HTML document (after whitespace, in any BOM-marked encoding)."""
    head = content[:HTML_SNIFF_BYTES]
    text = head.decode(bom_encoding(head) or "latin-1", errors="ignore")
    return _HTML_START.match(text) is not None


def decode_html(content: bytes, content_type: str | None) -> str:
    """Decode page bytes: a byte-order mark, the header's charset, then <meta charset>, then UTF-8, then cp1252."""
    candidates: list[str] = []
    bom = bom_encoding(content)
    if bom:
        candidates.append(bom)
    if content_type and "charset=" in content_type.lower():
        candidates.append(content_type.lower().split("charset=")[-1].split(";")[0].strip(" \"'"))
    match = _META_CHARSET.search(content[:CHARSET_SNIFF_BYTES])
    if match:
        candidates.append(match.group(1).decode("ascii", "ignore"))
    candidates += ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            return content.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return content.decode("utf-8", errors="replace")
