"""QR codes for rating links, as PNG bytes (segno: pure Python, no network)."""

from __future__ import annotations

import io

import segno


def qr_png(url: str, scale: int = 8) -> bytes:
    """A PNG of `url` with a quiet zone, large enough to scan from a phone screen."""
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/r/{token}"
