"""The floor: a Bolt app whose `/alliance` only acknowledges, on the same server
stack as `alliance-bot serve` (bot.runtime.server: AllianceWsgi → Bolt's WSGI adapter,
served by waitress with the same settings).

    python -m bench.bare_app --port N   (SLACK_SIGNING_SECRET and SLACK_API_URL from the environment)
"""

from __future__ import annotations

import argparse
import os
import sys

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import create_engine

from bot.runtime.server import AllianceWsgi, serve_http


def bare_app(signing_secret: str, api_url: str) -> App:
    app = App(client=WebClient(token="xoxb-bench", base_url=api_url), signing_secret=signing_secret,
              token_verification_enabled=False, process_before_response=False,
              raise_error_for_unhandled_request=False)

    @app.command("/alliance")
    def acknowledge(ack: Ack) -> None:
        ack()

    return app


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    app = bare_app(os.environ["SLACK_SIGNING_SECRET"], os.environ["SLACK_API_URL"])
    serve_http(AllianceWsgi(app, create_engine("sqlite://")), host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
