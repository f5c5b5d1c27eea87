"""Decompression bombs against the size cap, over real HTTP on 127.0.0.1, with the memory they cost measured in a
fresh process (its peak resident size, before and after)."""

import json
import subprocess
import sys
import zlib
from pathlib import Path

import brotli
import pytest

from monitor.fetch.decode import DECODE_STEP, BadEncoding, TooLarge, read_bounded

ROOT = Path(__file__).resolve().parents[1]
MIB = 1 << 20


def brotli_bomb(mib16_blocks: int) -> bytes:
    """`mib16_blocks` x 16 MiB of zeros in ~26 bytes each: brotli ends each flushed meta-block on a byte boundary,
    and once the window is zeros every further block compresses to the same bytes, so one is repeated."""
    zeros = bytes(16 * MIB)
    compressor = brotli.Compressor(quality=5)
    first = compressor.process(zeros) + compressor.flush()
    again = compressor.process(zeros) + compressor.flush()
    return first + again * (mib16_blocks - 1) + compressor.finish()


def zlib_bomb(mib: int, wbits: int) -> bytes:
    """`mib` MiB of zeros as gzip (wbits 31) or zlib-wrapped deflate (15): full flushes end each 1 MiB block on a
    byte boundary with a reset dictionary, so one block's ~1 KB is repeated. No trailer: decoding stops at the cap."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    first = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + block * (mib - 1)


def test_the_bombs_are_what_they_claim():
    bomb = brotli_bomb(4)
    decoder = brotli.Decompressor()
    total = len(decoder.process(bomb, output_buffer_limit=MIB))
    while not decoder.can_accept_more_data():
        total += len(decoder.process(b"", output_buffer_limit=MIB))
    assert decoder.is_finished() and total == 64 * MIB and len(bomb) < 200
    gzip_bomb = zlib_bomb(8, 31)
    assert len(zlib.decompressobj(31).decompress(gzip_bomb)) == 8 * MIB and len(gzip_bomb) < 10_000


@pytest.mark.parametrize("encoding, body", [
    ("br", brotli_bomb(2)), ("gzip", zlib_bomb(32, 31)), ("deflate", zlib_bomb(32, 15)),
    ("deflate", zlib_bomb(32, -15)), ("gzip, br", brotli.compress(zlib_bomb(32, 31))),
])
def test_the_cap_stops_every_encoding(encoding, body):
    ticks = []
    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]  # network-sized chunks
    with pytest.raises(TooLarge, match="exceeds 3000000 bytes decoded"):
        read_bounded(chunks, encoding, 3_000_000, lambda: ticks.append(1))
    assert len(ticks) < 3_000_000 // DECODE_STEP + 10  # a tick per step: it stopped at the cap, not at 32 MiB


def test_steps_are_bounded():
    from monitor.fetch.decode import decoder_for

    for encoding, body in (("br", brotli_bomb(1)), ("gzip", zlib_bomb(16, 31)), ("deflate", zlib_bomb(16, -15))):
        steps = list(decoder_for(encoding).feed(body))
        assert sum(map(len, steps)) == 16 * MIB
        assert max(map(len, steps)) <= 2 * DECODE_STEP, encoding  # brotli may overshoot its limit by a block


def test_multi_member_gzip_and_bad_bytes():
    import gzip

    assert read_bounded([gzip.compress(b"one ") + gzip.compress(b"two")], "gzip", 100) == b"one two"
    assert read_bounded([b"plain"], "identity", 100) == b"plain"
    assert read_bounded([b"plain"], "zstd-unknown", 100) == b"plain"  # unknown codings pass through, as in httpx
    with pytest.raises(BadEncoding):
        read_bounded([b"\x1f\x8b not gzip at all"], "gzip", 100)
    with pytest.raises(BadEncoding):
        read_bounded([b"not brotli at all, really not"], "br", 100)


# Run in a fresh interpreter: serve each bomb as a feed and as a page, fetch it, and report the rejection and the
# growth of the process's peak resident size. 512 MiB of brotli (one 800-byte response) and 256 MiB of gzip and
# deflate: decoded a network chunk at a time (httpx's decoders), each would cost at least 64 MiB.
_PROBE = r"""
import gzip, json, resource, sys
from http.server import BaseHTTPRequestHandler
sys.path.insert(0, sys.argv[1])
from tests.test_fetch_bounds import brotli_bomb, zlib_bomb
from monitor.config import HttpSettings
from monitor.demo.server import serve_handler
from monitor.fetch import fetch_feed, fetch_pages
from monitor.models import FeedRequest, PageRequest

BOMBS = {"/br": ("br", brotli_bomb(32)), "/gzip": ("gzip", zlib_bomb(256, 31)),
         "/deflate": ("deflate", zlib_bomb(256, 15)), "/ok": ("gzip", gzip.compress(b"<rss/>"))}

class Bombs(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        encoding, body = BOMBS[self.path.split("?")[0]]
        kind = "text/html" if self.path.endswith("?page") else "application/rss+xml"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        return

def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

with serve_handler(Bombs) as base:
    http = HttpSettings(max_bytes=1_000_000, min_host_interval=0, obey_robots=False,
                        allow_hosts=(base.removeprefix("http://"),))
    assert fetch_feed(http, FeedRequest("s", f"{base}/ok")).content == b"<rss/>"  # warm: imports, TLS, pools
    before = peak_mib()
    out = {}
    for path in ("/br", "/gzip", "/deflate"):
        feed = fetch_feed(http, FeedRequest("s", f"{base}{path}"))
        (page,) = fetch_pages(http, [PageRequest(f"{base}{path}?page", "s")])
        out[path] = {"feed": feed.error, "page": page.reason, "growth_mib": peak_mib() - before}
print(json.dumps(out))
"""


def test_bombs_of_every_encoding_stop_at_the_cap_in_little_memory():
    result = subprocess.run([sys.executable, "-c", _PROBE, str(ROOT)], capture_output=True, text=True, timeout=120,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    for path, outcome in report.items():
        assert outcome["feed"] == "too-large: body exceeds 1000000 bytes decoded", (path, outcome)
        assert outcome["page"] == "too-large", (path, outcome)
        assert outcome["growth_mib"] < 24, (path, outcome)  # the 1 MB cap, a step, and the allocator's slack
