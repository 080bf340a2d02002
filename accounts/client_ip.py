"""The client's address as the bureau's own proxies saw it, for lockout and for the audit log.

Behind the production proxy ``REMOTE_ADDR`` is the proxy. Each trusted proxy appends the address it received
from to ``X-Forwarded-For``, so with N trusted proxies the client is the N-th entry from the right; anything to
its left was written by the client and is not believed. With no trusted proxy (the default) the header is
ignored, so nobody can choose their own address by sending it.
"""

from ipaddress import ip_address

from django.conf import settings


def client_ip(request) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote  # not through all our proxies: the peer itself is the best we know
    candidate = forwarded[-proxies]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return remote
