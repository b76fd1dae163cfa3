"""Social post URLs: which ones a campaign accepts, and the canonical (platform, post key) of each.

Only exact hosts and path shapes are accepted, so a look-alike host (`instagram.com.evil.io`) or
a page that is not a post (a profile, a search) is refused. Short links whose target we cannot
know without fetching them (`vm.tiktok.com/…`, `fb.watch/…`, `t.co/…`) are accepted as
*unresolved*: the reviewer opens them. The server never fetches a submitted URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from promostack.errors import InvalidInput

Platform = Literal["instagram", "tiktok", "x", "facebook", "youtube"]
PLATFORMS: dict[Platform, str] = {
    "instagram": "Instagram",
    "tiktok": "TikTok",
    "x": "X/Twitter",
    "facebook": "Facebook",
    "youtube": "YouTube",
}
MAX_URL_LENGTH = 2048

_HOSTS: dict[str, Platform] = {
    **dict.fromkeys(("instagram.com", "www.instagram.com", "m.instagram.com"), "instagram"),
    **dict.fromkeys(("tiktok.com", "www.tiktok.com", "m.tiktok.com", "vm.tiktok.com", "vt.tiktok.com"), "tiktok"),
    **dict.fromkeys(
        ("x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com", "t.co"),
        "x",
    ),
    **dict.fromkeys(
        ("facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com", "fb.watch"), "facebook"
    ),
    **dict.fromkeys(("youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"), "youtube"),
}

_USER = r"[A-Za-z0-9_.]{1,64}"
_INSTAGRAM = re.compile(rf"^/(?:{_USER}/)?(?:p|reel|reels|tv)/(?P<id>[A-Za-z0-9_-]{{5,64}})/?\Z")
_TIKTOK = re.compile(rf"^/@{_USER}/(?:video|photo)/(?P<id>\d{{8,25}})/?\Z")
_TIKTOK_SHORT = re.compile(r"^/(?:t/)?(?P<id>[A-Za-z0-9]{5,20})/?\Z")
_X = re.compile(r"^/(?:[A-Za-z0-9_]{1,15}|i/web|i)/status(?:es)?/(?P<id>\d{1,25})(?:/(?:photo|video)/\d)?/?\Z")
_SHORT = re.compile(r"^/(?P<id>[A-Za-z0-9_-]{4,40})/?\Z")
_FB_NUMERIC = re.compile(r"^(?:\d{5,25}|pfbid[A-Za-z0-9]{10,80})\Z")
_FB_PAGE = r"[A-Za-z0-9.\-]{1,80}"
_FB_PATHS = (
    re.compile(rf"^/{_FB_PAGE}/(?:posts|videos|photos)/(?:[A-Za-z0-9.\-]+/)?(?P<id>\d{{5,25}}|pfbid[A-Za-z0-9]{{10,80}})/?\Z"),
    re.compile(r"^/reel/(?P<id>\d{5,25})/?\Z"),
)
_FB_SHARE = re.compile(r"^/share/(?:p|r|v)/(?P<id>[A-Za-z0-9]{5,40})/?\Z")
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}\Z")
_YT_PATH = re.compile(r"^/(?:shorts|live|embed)/(?P<id>[A-Za-z0-9_-]{11})/?\Z")


@dataclass(frozen=True)
class PostRef:
    """A post as we store it: its platform, its key (unique per campaign), a canonical URL."""

    platform: Platform
    post_key: str
    url: str
    resolved: bool = True


class PostUrlRefused(InvalidInput):
    """The URL is not a post of an accepted platform; the message says what would be."""

    field = "url"


def parse_post_url(raw: str, accepted: list[str] | None = None) -> PostRef:
    """The canonical post behind `raw`, or PostUrlRefused saying why it is not accepted.

    `accepted` lists the platforms the campaign takes (all when None).
    """
    text = raw.strip()
    if not text:
        raise PostUrlRefused("paste the link to your post")
    if len(text) > MAX_URL_LENGTH:
        raise PostUrlRefused(f"the link is longer than {MAX_URL_LENGTH} characters")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise PostUrlRefused("that is not a valid link") from None
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() not in ("http", "https") or parts.username or parts.password or port:
        raise PostUrlRefused("that is not a plain https link to a post")
    platform = _HOSTS.get(host)
    if platform is None:
        raise PostUrlRefused(f"links to {host or 'that site'} are not accepted: {_accepted_names(accepted)}")
    if accepted is not None and platform not in accepted:
        raise PostUrlRefused(f"{PLATFORMS[platform]} posts are not part of this campaign: {_accepted_names(accepted)}")
    ref = _PARSERS[platform](host, parts.path, parse_qs(parts.query))
    if ref is None:
        raise PostUrlRefused(f"that {PLATFORMS[platform]} link is not a link to one post")
    return ref


def _accepted_names(accepted: list[str] | None) -> str:
    names = [PLATFORMS[p] for p in PLATFORMS if accepted is None or p in accepted]
    return "send a link to a post on " + (", ".join(names) if names else "no platform yet")


def _instagram(host: str, path: str, query: dict[str, list[str]]) -> PostRef | None:
    match = _INSTAGRAM.match(path)
    if not match:
        return None
    post = match["id"]
    return PostRef("instagram", post, f"https://www.instagram.com/p/{post}/")


def _tiktok(host: str, path: str, query: dict[str, list[str]]) -> PostRef | None:
    if host in ("vm.tiktok.com", "vt.tiktok.com") or path.startswith("/t/"):
        short = _TIKTOK_SHORT.match(path)
        if not short:
            return None
        code = short["id"]
        return PostRef("tiktok", f"short:{code}", f"https://{host}/{'t/' if path.startswith('/t/') else ''}{code}/", False)
    match = _TIKTOK.match(path)
    if not match:
        return None
    # The handle is part of the URL people share but not of the post's identity.
    return PostRef("tiktok", match["id"], f"https://www.tiktok.com/@{path.split('/')[1][1:]}/video/{match['id']}")


def _x(host: str, path: str, query: dict[str, list[str]]) -> PostRef | None:
    if host == "t.co":
        short = _SHORT.match(path)
        return PostRef("x", f"short:{short['id']}", f"https://t.co/{short['id']}", False) if short else None
    match = _X.match(path)
    if not match:
        return None
    return PostRef("x", match["id"], f"https://x.com/i/status/{match['id']}")


def _facebook(host: str, path: str, query: dict[str, list[str]]) -> PostRef | None:
    if host == "fb.watch":
        short = _SHORT.match(path)
        return PostRef("facebook", f"short:{short['id']}", f"https://fb.watch/{short['id']}/", False) if short else None
    share = _FB_SHARE.match(path)
    if share:
        kind = path.split("/")[2]
        return PostRef("facebook", f"short:{kind}/{share['id']}", f"https://www.facebook.com/share/{kind}/{share['id']}/", False)
    for pattern in _FB_PATHS:
        match = pattern.match(path)
        if match:
            return _facebook_post(match["id"])
    key = {"/permalink.php": "story_fbid", "/story.php": "story_fbid", "/photo.php": "fbid", "/photo": "fbid",
           "/photo/": "fbid", "/watch": "v", "/watch/": "v"}.get(path)
    if key:
        value = (query.get(key) or [""])[0]
        if _FB_NUMERIC.match(value):
            return _facebook_post(value)
    return None


def _facebook_post(post: str) -> PostRef:
    # Facebook redirects /<any id> to the post, whichever page it is on.
    return PostRef("facebook", post, f"https://www.facebook.com/{post}")


def _youtube(host: str, path: str, query: dict[str, list[str]]) -> PostRef | None:
    if host == "youtu.be":
        video = path.strip("/")
    elif path in ("/watch", "/watch/"):
        video = (query.get("v") or [""])[0]
    else:
        match = _YT_PATH.match(path)
        video = match["id"] if match else ""
    if not _YT_ID.match(video):
        return None
    return PostRef("youtube", video, f"https://www.youtube.com/watch?v={video}")


_PARSERS = {"instagram": _instagram, "tiktok": _tiktok, "x": _x, "facebook": _facebook, "youtube": _youtube}
