"""Message HTML: what an MTChat client sends is cut down to an allowlist.

MTChat's SDK renders `content` as HTML, so anything a client sends is
sanitised with nh3 (the Ammonia sanitiser) before it is stored: formatting,
links, lists, code and mentions stay; scripts, event handlers, styles and
`javascript:` URLs go. Text from other protocols (plain `/ws` messages) is
escaped instead, so it shows as typed and cannot become markup.
"""

from __future__ import annotations

import html

import nh3

__all__ = ["as_html", "sanitise"]

_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "span",
    "h1",
    "h2",
    "h3",
}
_ATTRIBUTES = {
    "a": {"href", "target"},
    "span": {"class", "data-type", "data-id", "data-label"},
    "code": {"class"},
    "pre": {"class"},
}


def sanitise(content: str) -> str:
    return nh3.clean(
        content,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )


def as_html(content: str, content_type: str) -> str:
    """A stored message's content for an MTChat client."""
    if content_type in ("html", "system"):
        return content
    return html.escape(content).replace("\n", "<br>")
