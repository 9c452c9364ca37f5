"""One gateway replica as its own process, for ``tests/integration/test_replica_processes.py``:
``python -m tests.integration.replica_process`` runs the real gateway application (``gateway.app.create_app``) on
``GRIDDESK_GATEWAY_HOST``/``GRIDDESK_GATEWAY_PORT`` with every setting from the ``GRIDDESK_*`` environment, as
``python -m gateway`` does; only the knowledge base's encoder is the tests' small one (``tests/encoders.py``), so
that two replicas do not each load a neural encoder for a database without FAQs."""

from __future__ import annotations

import logging

from aiohttp import web

from gateway.app import create_app
from griddesk.settings import get_settings
from knowledge_base.search import KnowledgeBase
from tests.encoders import HashingEncoder


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s replica %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    app = create_app(settings, knowledge_base=KnowledgeBase(settings, HashingEncoder(), refresh_seconds=0))
    web.run_app(app, host=settings.gateway_host, port=settings.gateway_port, print=None, access_log=None)


if __name__ == "__main__":
    main()
