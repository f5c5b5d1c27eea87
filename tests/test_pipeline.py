"""Run planning (monitor.planning): how a run's pages are cut into batches."""

from monitor.models import PageRequest
from monitor.planning import BATCHES_PER_WORKER, interleave_hosts, page_batches


def _requests(*urls: str) -> list[PageRequest]:
    return [PageRequest(url, "src", None, None) for url in urls]


def test_interleave_hosts_takes_hosts_in_turn_and_keeps_each_hosts_order():
    requests = _requests("https://a.example/1", "https://a.example/2", "https://a.example/3",
                         "https://b.example/1", "https://B.example/2", "http://c.example:8080/1")
    assert [r.url for r in interleave_hosts(requests)] == [
        "https://a.example/1", "https://b.example/1", "http://c.example:8080/1",
        "https://a.example/2", "https://B.example/2", "https://a.example/3"]


def test_page_batches_are_at_most_the_setting_and_smaller_for_small_runs():
    many = _requests(*(f"https://h{i % 7}.example/{i}" for i in range(1000)))
    big = page_batches(many, largest=100, workers=2)
    assert [len(b) for b in big] == [100] * 10
    assert sorted(r.url for b in big for r in b) == sorted(r.url for r in many)  # every request, once
    few = _requests(*(f"https://h.example/{i}" for i in range(40)))
    small = page_batches(few, largest=100, workers=2)
    assert len(small) == 2 * BATCHES_PER_WORKER and sum(map(len, small)) == 40
    assert page_batches([], largest=100, workers=2) == []
