"""The gateway under test: an app on a fresh database whose Rasa URL answers nothing (fixtures ``client``,
``gateway_settings``); registered for every test package by ``tests/conftest.py``."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from gateway.app import create_app
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gateway_settings(settings):
    """Gateway settings whose Rasa URL points at a port where nothing answers."""
    return dataclasses.replace(settings, rasa_url=f"http://127.0.0.1:{closed_port()}", rasa_timeout=2.0)


@pytest.fixture
async def client(aiohttp_client, gateway_settings):
    kb = KnowledgeBase(gateway_settings, HashingEncoder(), refresh_seconds=0)
    return await aiohttp_client(create_app(gateway_settings, knowledge_base=kb, warm_index=False))
