"""Post URLs a campaign takes: exact hosts and path shapes, one canonical key per post."""

import pytest

from promostack.campaigns.posts import PostUrlRefused, parse_post_url

ACCEPTED = [
    # (what people paste, platform, key, resolved)
    ("https://www.instagram.com/p/Cabc123_-x/?igsh=MWQ1", "instagram", "Cabc123_-x", True),
    ("instagram.com/reel/Cxyz12345/", "instagram", "Cxyz12345", True),
    ("https://www.instagram.com/some.user/p/Cabc123_-x/", "instagram", "Cabc123_-x", True),
    ("https://www.tiktok.com/@some.one/video/7312345678901234567?lang=en", "tiktok", "7312345678901234567", True),
    ("https://m.tiktok.com/@someone/photo/7312345678901234568", "tiktok", "7312345678901234568", True),
    ("https://vm.tiktok.com/ZMabc123/", "tiktok", "short:ZMabc123", False),
    ("https://www.tiktok.com/t/ZTRabc12/", "tiktok", "short:ZTRabc12", False),
    ("https://x.com/jack/status/20", "x", "20", True),
    ("https://twitter.com/jack/status/1234567890123/photo/1", "x", "1234567890123", True),
    ("https://mobile.twitter.com/i/web/status/1234567890123", "x", "1234567890123", True),
    ("https://t.co/AbCd12", "x", "short:AbCd12", False),
    ("https://www.facebook.com/permalink.php?story_fbid=123456789&id=4", "facebook", "123456789", True),
    ("https://www.facebook.com/somepage/posts/pfbid02abcdefghijkLMN", "facebook", "pfbid02abcdefghijkLMN", True),
    ("https://m.facebook.com/somepage/videos/1234567890/", "facebook", "1234567890", True),
    ("https://www.facebook.com/watch/?v=1234567890", "facebook", "1234567890", True),
    ("https://www.facebook.com/reel/1234567890", "facebook", "1234567890", True),
    ("https://fb.watch/abcDEF12/", "facebook", "short:abcDEF12", False),
    ("https://www.facebook.com/share/p/1AbCdEf9/", "facebook", "short:p/1AbCdEf9", False),
    ("https://youtu.be/dQw4w9WgXcQ?si=x", "youtube", "dQw4w9WgXcQ", True),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3", "youtube", "dQw4w9WgXcQ", True),
    ("https://youtube.com/shorts/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ", True),
    ("https://m.youtube.com/live/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ", True),
]

REFUSED = [
    ("", "paste the link"),
    ("https://instagram.com.evil.io/p/abcdef/", "instagram.com.evil.io are not accepted"),
    ("https://evilinstagram.com/p/abcdef/", "not accepted"),
    ("https://www.instagram.com/someuser/", "not a link to one post"),
    ("https://www.tiktok.com/@someone", "not a link to one post"),
    ("https://x.com/search?q=promo", "not a link to one post"),
    ("https://www.facebook.com/somepage", "not a link to one post"),
    ("https://www.youtube.com/watch?v=short", "not a link to one post"),
    ("https://www.youtube.com/@channel", "not a link to one post"),
    ("http://user:pw@x.com/a/status/123456", "not a plain https link"),
    ("https://x.com:8443/a/status/1", "not a plain https link"),
    ("ftp://x.com/a/status/1", "not a plain https link"),
    ("javascript:alert(1)", "not a valid link"),
    ("https://example.com/p/abc", "example.com are not accepted"),
    ("https://www.instagram.com/p/" + "a" * 3000, "longer than 2048"),
]


@pytest.mark.parametrize(("url", "platform", "key", "resolved"), ACCEPTED)
def test_post_links_of_every_platform_are_stored_by_their_post_id(url: str, platform: str, key: str, resolved: bool) -> None:
    post = parse_post_url(url)
    assert (post.platform, post.post_key, post.resolved) == (platform, key, resolved)
    assert post.url.startswith("https://")


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_links_that_are_not_posts_of_an_accepted_platform_are_refused_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(PostUrlRefused, match=reason):
        parse_post_url(url)


def test_two_spellings_of_one_post_give_the_same_key() -> None:
    a = parse_post_url("https://twitter.com/jack/status/1234567890123?s=20")
    b = parse_post_url("x.com/someone_else/status/1234567890123/")
    assert (a.platform, a.post_key, a.url) == (b.platform, b.post_key, b.url)


def test_a_platform_the_campaign_does_not_take_is_refused_naming_the_ones_it_does() -> None:
    with pytest.raises(PostUrlRefused, match="YouTube posts are not part of this campaign.*Instagram, TikTok"):
        parse_post_url("https://youtu.be/dQw4w9WgXcQ", ["instagram", "tiktok"])
