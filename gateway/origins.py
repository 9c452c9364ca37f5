"""Which web pages may use the customer channels from a browser: the gateway's own, and the sites listed
in GRIDDESK_WIDGET_ORIGINS (empty by default: the gateway's own pages only; ``*``: any site).

The same list decides who may frame the chat page (CSP ``frame-ancestors``) and which browser Origins may
open the customer sockets (``/webhooks/rest/live`` and Socket.IO). A request without an Origin header is
not a browser's cross-site request and is allowed, as Rasa's channels allow it.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp import web

ANY = "*"
SELF = "'self'"


def widget_sites(widget_origins: str) -> list[str]:
    """The configured sites (``'self'`` dropped: the gateway itself is always allowed)."""
    return [source for source in widget_origins.split() if source != SELF]


def frame_ancestors(widget_origins: str) -> str:
    """The chat page's CSP ``frame-ancestors`` sources: the gateway itself and the configured sites."""
    sites = widget_sites(widget_origins)
    return ANY if ANY in sites else " ".join([SELF, *sites])


def is_own_origin(origin: str, host: str, schemes: Iterable[str]) -> bool:
    """Whether a browser ``origin`` is the gateway's own (``host`` as the request names it)."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return bool(host) and parts.scheme in set(schemes) and parts.netloc.lower() == host.lower() and not parts.path


def origin_allowed(origin: str | None, *, host: str, schemes: Iterable[str], widget_origins: str) -> bool:
    """Whether a request with this ``Origin`` header (None: none sent) may use the customer channels."""
    if origin is None:
        return True
    sites = {site.lower() for site in widget_sites(widget_origins)}
    return ANY in sites or origin.lower() in sites or is_own_origin(origin, host, schemes)


def request_schemes(scheme: str) -> frozenset[str]:
    # A TLS-terminating proxy in front of the gateway makes the browser's origin https while we see http.
    return frozenset({scheme, "https"})


def request_origin_allowed(request: web.Request, widget_origins: str) -> bool:
    return origin_allowed(
        request.headers.get("Origin"),
        host=request.host,
        schemes=request_schemes(request.scheme),
        widget_origins=widget_origins,
    )
