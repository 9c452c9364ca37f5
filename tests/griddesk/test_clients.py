from __future__ import annotations

import pytest

from griddesk.clients import CLIENT_METADATA_KEY, client_id, client_of, network_of


@pytest.mark.parametrize(
    "address, network",
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 on a dual-stack socket is the same client
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # one subscriber's /64: one client
        ("fe80::1%eth0", "fe80::/64"),
        ("not an address", None),
        ("", None),
    ],
)
def test_the_network_a_client_stands_for(address, network):
    assert network_of(address) == network


def test_the_identifier_is_a_keyed_hash_of_the_network():
    one = client_id("2001:db8:1:2::1", b"key")
    assert one == client_id("2001:db8:1:2::99", b"key") != client_id("2001:db8:1:3::1", b"key")
    assert one is not None and len(one) == 32 and "2001" not in one
    assert client_id("2001:db8:1:2::1", b"another key") != one
    assert client_id(None, b"key") is None and client_id("unix-socket", b"key") is None


def test_the_action_server_reads_only_an_identifier_the_gateway_could_have_made():
    made = client_id("203.0.113.7", b"key")
    assert client_of({CLIENT_METADATA_KEY: made, "customer": {}}) == made
    for metadata in ({CLIENT_METADATA_KEY: "x" * 500}, {CLIENT_METADATA_KEY: 42}, {}, None, "text"):
        assert client_of(metadata) is None
