"""The weekly digest's chart, sent through the outbox: the digest sweep queues a
row holding the numbers it is drawn from (each flagged case's lowest and highest
thread by session number; no dates, no notes), waiting on the digest's own post;
the deliverer draws it when it is sent and uploads it into the digest's thread
(issue 14: one post in the channel, not two)."""

from __future__ import annotations

from typing import Any, Sequence

from slack_sdk import WebClient

from bot.slack.charts import ThreadLine, draw_lines

DIGEST_CHART = "digest_chart"  # payload["upload"]


def digest_chart_payload(lines: Sequence[ThreadLine], week: str, reference: int) -> dict[str, Any]:
    return {"upload": DIGEST_CHART, "week": week, "reference": reference,
            "lines": [[line.label, [[n, v] for n, v in line.points], line.group] for line in lines]}


def upload_digest_chart(client: WebClient, channel: str, payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """Draw the chart a `digest_chart_payload` row describes; upload it in the thread
    of the digest (`thread_ts`, the post the row waited for)."""
    week = str(payload["week"])
    lines = [ThreadLine(str(label), tuple((int(n), None if v is None else int(v)) for n, v in points), int(group))
             for label, points, group in payload["lines"]]
    png = draw_lines(lines, f"Flagged cases, week {week}: lowest and highest thread", reference=payload.get("reference"))
    client.files_upload_v2(channel=channel, file=png, filename=f"alliance-trends-{week}.png",
                           title=f"Flagged cases' trends, {week}", thread_ts=payload.get("thread_ts"),
                           alt_txt="Line chart of each flagged case's lowest and highest thread per session")
    return channel, None
