"""Run the action server: ``python -m actions``.

Loads the knowledge base (encoder and index) before it listens, so the first customer question is
answered at full speed, then serves rasa-sdk's webhook in this one process on 127.0.0.1 and
GRIDDESK_ACTION_PORT (Sanic's multi-process mode would load the model again in a worker), with the executor
that reads Rasa 3.6's selective domain (actions/executor.py).
"""

from __future__ import annotations

import logging
import time

from griddesk.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s actions %(levelname)s %(name)s: %(message)s")
    from rasa_sdk.endpoint import create_app
    from sanic import Sanic

    from actions.executor import SelectiveDomainExecutor
    from knowledge_base.search import get_knowledge_base

    started = time.perf_counter()
    index = get_knowledge_base().index()
    logging.getLogger("actions").info(
        "knowledge base ready: %d FAQs, %d rows, %.1f s", len(index), index.rows, time.perf_counter() - started
    )
    executor = SelectiveDomainExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=[])
    app.prepare(host="127.0.0.1", port=get_settings().action_port, single_process=True, access_log=False, motd=False)
    Sanic.serve_single(app)


if __name__ == "__main__":
    main()
