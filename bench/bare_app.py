"""The floor: a Bolt app whose `/alliance` only acknowledges, on the same server
stack as `alliance-bot serve` (bot.runtime.server: AllianceWsgi → Bolt's WSGI adapter,
served by waitress with the same settings), in one process, or with `--workers N` in
N processes sharing the port as `alliance-bot serve --workers N` runs them.

`--process-before-response` answers when the listener returns, as Alliance's app does
(bot/runtime/app.py); without it Bolt's default, whose thread runner polls for the
`ack()` every 10 ms.

    python -m bench.bare_app --port N [--workers N] [--process-before-response]
    (SLACK_SIGNING_SECRET and SLACK_API_URL from the environment)
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import create_engine

from bot.runtime.server import AllianceWsgi, serve_http
from bot.runtime.workers import listening_socket, run_workers


def bare_app(signing_secret: str, api_url: str, process_before_response: bool = False) -> App:
    app = App(client=WebClient(token="xoxb-bench", base_url=api_url), signing_secret=signing_secret,
              token_verification_enabled=False, process_before_response=process_before_response,
              raise_error_for_unhandled_request=False)

    @app.command("/alliance")
    def acknowledge(ack: Ack) -> None:
        ack()

    return app


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes sharing the port, forked as `alliance-bot serve --workers` forks them")
    parser.add_argument("--process-before-response", action="store_true",
                        help="answer when the listener returns, as Alliance does (default: Bolt's default)")
    args = parser.parse_args()

    def serve(sock: socket.socket | None = None) -> int:
        app = bare_app(os.environ["SLACK_SIGNING_SECRET"], os.environ["SLACK_API_URL"], args.process_before_response)
        serve_http(AllianceWsgi(app, create_engine("sqlite://")), host=args.host, port=args.port, sock=sock)
        return 0

    if args.workers == 1:
        return serve()
    sock = listening_socket(args.host, args.port)
    return run_workers(args.workers, lambda index: serve(sock), grace=5.0, listening=sock)


if __name__ == "__main__":
    sys.exit(main())
