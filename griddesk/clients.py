"""Client identifiers: a keyed hash of the network address a customer's message came from.

The gateway computes one for every message of a web client (REST, Socket.IO) and passes it to Rasa in
the message's metadata under ``CLIENT_METADATA_KEY``, always replacing whatever the client put there;
the action server reads it back (``client_of``) to limit failed ticket lookups per client. The address
itself never leaves the gateway, and without the key the identifier cannot be turned back into it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from typing import Any

CLIENT_METADATA_KEY = "griddesk_client"
CLIENT_ID_CHARS = 32
_CLIENT_ID = re.compile(rf"[0-9a-f]{{{CLIENT_ID_CHARS}}}")


def network_of(address: str) -> str | None:
    """The network one client stands for: an IPv4 address itself, an IPv6 address's /64 (a subscriber
    gets a whole /64, so walking through it must not give new identities); None if not an IP address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_id(address: str | None, key: bytes) -> str | None:
    """HMAC-SHA256 of the client's network under ``key``, shortened; None when there is no IP address."""
    network = network_of(address) if address else None
    if network is None:
        return None
    return hmac.new(key, network.encode("ascii"), hashlib.sha256).hexdigest()[:CLIENT_ID_CHARS]


def client_of(metadata: Mapping[str, Any] | None) -> str | None:
    """The identifier the gateway put in a message's metadata, or None (no address, or not from the gateway)."""
    value = metadata.get(CLIENT_METADATA_KEY) if isinstance(metadata, Mapping) else None
    return value if isinstance(value, str) and _CLIENT_ID.fullmatch(value) else None
