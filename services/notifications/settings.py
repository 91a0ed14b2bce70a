"""The notifications service's own settings (prefix APPOINTMENTS_NOTIFY_), beside the shared ones."""

from __future__ import annotations

from datetime import time
from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.notifications.domain.quiet import QuietHours
from services.notifications.domain.reminders import ReminderPolicy


class NotifySettings(BaseSettings):
    """Quiet hours, reminders, links, and the GOV.UK Notify gateway (off unless a key is given)."""

    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_NOTIFY_", extra="ignore")

    # No text to the public between these London times (equal: never quiet).
    quiet_starts: time = time(21, 0)
    quiet_ends: time = time(8, 0)
    reminder_day_before: bool = True
    reminder_hours_before: float = Field(default=2.0, ge=0, le=48)
    # Where the public fetch an appointment's .ics (the notifications service's own address).
    public_url: str = Field(default="http://127.0.0.1:8003", max_length=60)
    # How often the queue of texts is looked at when nothing wakes it (seconds).
    poll_seconds: float = Field(default=5.0, gt=0)
    # GOV.UK Notify: the API key (locally, the simulator's), its base URL, the sender id if any.
    api_key: SecretStr | None = None
    base_url: str = "https://api.notifications.service.gov.uk"
    sms_sender_id: str | None = None
    # Notify's limits: 3,000 messages a rolling minute; the daily allowance of the service.
    rate_per_minute: int = Field(default=3000, ge=1)
    daily_allowance: int = Field(default=250_000, ge=1)
    # How long one call to Notify may take, and how many times a retryable failure is tried.
    timeout_seconds: float = Field(default=10.0, gt=0)
    attempts: int = Field(default=5, ge=1)

    # Booking, which a reply CANCEL cancels through, and the token it is called with (locally
    # one is signed with the state folder's key; production gives one from the identity provider).
    booking_url: str = "http://127.0.0.1:8001"
    booking_token: SecretStr | None = None

    @property
    def quiet(self) -> QuietHours:
        """The quiet hours."""
        return QuietHours(self.quiet_starts, self.quiet_ends)

    @property
    def reminders(self) -> ReminderPolicy:
        """Which reminders go."""
        return ReminderPolicy(self.reminder_day_before, self.reminder_hours_before)


@lru_cache(maxsize=1)
def notify_settings() -> NotifySettings:
    """The process-wide notifications settings (read once)."""
    return NotifySettings()
