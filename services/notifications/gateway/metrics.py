"""The gateway's figures: texts sent, refused and retried, and the share of Notify's daily allowance used."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SENT = Counter("notify_texts_sent_total", "Texts Notify accepted")
REFUSED = Counter("notify_texts_refused_total", "Texts Notify refused for good (a 400)")
RETRIED = Counter("notify_retries_total", "Calls to Notify tried again", ["why"])
SENT_TODAY = Gauge(
    "notify_texts_sent_today", "Texts sent since midnight UTC (Notify's daily allowance counts these)"
)
ALLOWANCE = Gauge("notify_daily_allowance", "The service's daily allowance of texts at Notify")
