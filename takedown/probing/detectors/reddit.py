"""Reddit: the .json endpoints."""

from __future__ import annotations

import re
from typing import Any

from yarl import URL

from takedown.probing.detectors.base import Detector, dig, host_of, register
from takedown.probing.page import Page
from takedown.probing.types import (
    INCONCLUSIVE,
    LIVE,
    REMOVED,
    RESTRICTED,
    SOFT_REMOVED,
    Finding,
)


@register
class Reddit(Detector):
    """The .json endpoints carry removed_by_category [RD1][RD3]. Reddit is reported to want a
    session for unauthenticated JSON now [Y21]: a block page stays inconclusive."""

    name = "reddit"
    _HOSTS = frozenset(
        {
            "reddit.com",
            "www.reddit.com",
            "old.reddit.com",
            "new.reddit.com",
            "np.reddit.com",
            "m.reddit.com",
            "sh.reddit.com",
        }
    )
    # /comments/<post>[/<slug>[/<comment>]] and /comments/<post>/comment/<comment>, with or
    # without /r/<sub>, a trailing slash, or empty segments (// from sloppy sharing).
    _POST = re.compile(r"^/+(?:r/+([\w-]+)/+)?comments/+(\w+)(?:/+([^/]*))?(?:/+(\w+))?/*$")
    _SUB = re.compile(r"^/r/([\w-]+)/?$")
    _USER = re.compile(r"^/(?:u|user)/([\w-]+)/?$")
    _REMOVED_CATEGORIES = frozenset(
        {
            "moderator",
            "deleted",
            "author",
            "reddit",
            "anti_evil_ops",
            "community_ops",
            "content_takedown",
            "copyright_takedown",
        }
    )

    def rewrite(self, url: URL) -> URL:
        host = host_of(url)
        path = None
        if host == "redd.it" and re.fullmatch(r"/\w+/?", url.path):
            path = f"/comments/{url.path.strip('/')}/.json"
        elif host in self._HOSTS:
            if m := self._POST.match(url.path):
                path = self._json_path(*m.groups())
            elif m := self._SUB.match(url.path):
                path = f"/r/{m.group(1)}/about.json"
            elif m := self._USER.match(url.path):
                path = f"/user/{m.group(1)}/about.json"
        if path is None:
            return url
        return URL.build(scheme="https", host="www.reddit.com", path=path, query={"raw_json": "1"})

    @staticmethod
    def _json_path(sub: str | None, post: str, slug: str | None, comment: str | None) -> str:
        """The listing of a post (or of one comment under it), every segment non-empty."""
        parts = [f"r/{sub}"] if sub else []
        parts += ["comments", post]
        # /comments/<post>/comment/<id> is the new form of /comments/<post>/<slug>/<id>
        slug = slug if slug and slug not in ("comment", ".json") else None
        if comment:
            parts += [slug or "_", comment]
        elif slug:
            parts.append(slug)
        return "/" + "/".join(parts) + "/.json"

    def classify(self, page: Page) -> Finding | None:
        data = page.json
        if isinstance(data, list) and data:
            post = dig(data, 0, "data", "children", 0, "data")
            # A comment permalink (/comments/<post>/<slug>/<comment>) is about the comment;
            # otherwise the comments are other people's words about the post, never its state.
            segments = [p for p in page.url.path.split("/comments/", 1)[-1].split("/") if p and p != ".json"]
            if len(segments) >= 3:
                return self._comment(post, dig(data, 1, "data", "children", 0), segments[2])
            if isinstance(post, dict):
                return self._thing(post)
        elif isinstance(data, dict):
            inner = data.get("data") if isinstance(data.get("data"), dict) else {}
            reason = str(data.get("reason") or "").lower()
            if reason in ("private", "quarantined", "gated"):  # [RD3][RD8]
                return Finding(RESTRICTED, f"reddit: subreddit {reason}", f"reddit.subreddit.{reason}")
            if reason == "banned":
                return Finding(REMOVED, "reddit: subreddit banned", "reddit.subreddit.banned")
            if data.get("kind") == "t2":
                if inner.get("is_suspended") is True:
                    return Finding(REMOVED, "reddit: account suspended", "reddit.user.is_suspended")
                return Finding(LIVE, "reddit: account exists", "reddit.user.exists")
            if data.get("kind") == "t5":
                if inner.get("quarantine") is True:
                    return Finding(RESTRICTED, "reddit: subreddit quarantined", "reddit.subreddit.quarantine")
                return Finding(LIVE, "reddit: subreddit exists", "reddit.subreddit.exists")
        if page.rewritten:
            return Finding(
                INCONCLUSIVE, "reddit: no usable JSON (blocked or login required)", "reddit.no_json"
            )
        return None

    def _comment(self, post: Any, child: Any, wanted: str) -> Finding:
        """A comment permalink is judged on that comment; when the listing does not show it,
        only the post's removal decides (a comment cannot outlive its post), never its
        liveness."""
        comment = dig(child, "data")
        if (
            isinstance(child, dict)
            and child.get("kind") == "t1"
            and isinstance(comment, dict)
            and str(comment.get("id") or wanted).lower() == wanted.lower()
        ):
            return self._thing(comment)
        parent = self._thing(post) if isinstance(post, dict) else None
        if parent is not None and parent.verdict == REMOVED:
            return parent._replace(reason=f"{parent.reason} (the comment goes with its post)")
        return Finding(
            INCONCLUSIVE,
            f"reddit: comment {wanted[:20]} not in its listing"
            + (f"; the post is {parent.verdict}" if parent else ""),
            "reddit.comment_not_listed",
        )

    def _thing(self, thing: dict[str, Any]) -> Finding:
        category = thing.get("removed_by_category")
        if category == "automod_filtered":
            return Finding(
                SOFT_REMOVED,
                "reddit: held by the automatic filter",
                "reddit.removed_by_category.automod_filtered",
            )
        if isinstance(category, str) and category:
            return Finding(
                REMOVED,
                f"reddit: removed_by_category={category}",
                f"reddit.removed_by_category.{category[:40]}",
            )
        text = str(thing.get("selftext") or thing.get("body") or "").strip().casefold()
        author = str(thing.get("author") or "")
        if text in ("[removed]", "[deleted]") or text.startswith("[ removed by reddit"):
            # Anyone can type these words as a post or comment; Reddit's own replacement comes
            # with the author gone as well. Text alone is no evidence.
            if author == "[deleted]":
                return Finding(
                    REMOVED,
                    f"reddit: content {text[:60]} and author [deleted]",
                    "reddit.body_replaced.author_deleted",
                )
            return Finding(
                INCONCLUSIVE,
                f"reddit: body reads {text[:60]} but nothing else says so",
                "reddit.body_text_only",
            )
        if thing.get("quarantine") is True:
            return Finding(RESTRICTED, "reddit: quarantined", "reddit.quarantine")
        return Finding(LIVE, "reddit: content present", "reddit.content_present")
