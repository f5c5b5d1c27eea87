from monitor.urls import is_tracking_param, normalize_url


def test_tracking_parameters_and_fragment_are_dropped_and_the_rest_sorted():
    url = "HTTPS://News.Example.com:443/a//b.html?utm_source=rss&z=2&fbclid=x&a=1&gclid=y#comments"
    assert normalize_url(url) == "https://news.example.com/a/b.html?a=1&z=2"


def test_relative_links_resolve_against_the_feed_url():
    assert normalize_url("../story.html?utm_medium=feed", base="http://h.example/feeds/rss.xml") == \
        "http://h.example/story.html"


def test_content_selecting_parameters_are_kept():
    assert normalize_url("http://h.example/article?id=42&ref=home") == "http://h.example/article?id=42&ref=home"


def test_normalisation_is_idempotent():
    for url in ["http://A.example/x?b=2&a=1&utm_campaign=c#f", "https://h.example", "http://h.example:8080/p/"]:
        once = normalize_url(url)
        assert normalize_url(once) == once


def test_helpers():
    assert is_tracking_param("UTM_Source") and is_tracking_param("mc_eid") and not is_tracking_param("page")


def test_ipv6_literals_keep_their_brackets():
    assert normalize_url("http://[2001:DB8::1]:8080/a?utm_source=x") == "http://[2001:db8::1]:8080/a"
    assert normalize_url("https://[::1]:443/") == "https://[::1]/"
    assert normalize_url(normalize_url("http://[::1]/x")) == "http://[::1]/x"
