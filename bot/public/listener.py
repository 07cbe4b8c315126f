"""In Socket Mode Alliance has no HTTP server for Slack; the rating pages get a
small waitress listener of their own on ALLIANCE_PUBLIC_PORT."""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.public.pages import MAX_FORM_BYTES, RatingPages

logger = logging.getLogger(__name__)


def start_public_listener(pages: RatingPages, host: str, port: int, threads: int = 4) -> Any:
    """Serve the pages on a daemon thread; returns the waitress server (`.close()` stops it)."""
    from waitress.server import create_server

    server = create_server(pages, host=host, port=port, threads=threads, ident="alliance",
                           channel_timeout=30, max_request_body_size=MAX_FORM_BYTES)

    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):  # closed under it at shutdown
            pass

    threading.Thread(target=run, name="rating-pages", daemon=True).start()
    logger.info("client rating pages listening on http://%s:%s/r/", host, getattr(server, "effective_port", port))
    return server
