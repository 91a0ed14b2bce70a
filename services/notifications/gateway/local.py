"""The local stack's gateway: the Notify simulator in Notify's place, with a key kept in the state folder."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from services.common.config import state_secret

SIMULATOR = "simulator"
SIMULATOR_MODULE = "services.notifications.gateway.simulator"


def local_api_key(state_dir: Path) -> str:
    """A Notify-shaped key ({name}-{service id}-{secret}) for the simulator, made once per state folder."""
    seed = state_secret(state_dir / "notify-simulator-key")
    service_id = uuid.uuid5(uuid.NAMESPACE_URL, f"notify-simulator-service:{seed}")
    secret = uuid.uuid5(uuid.NAMESPACE_URL, f"notify-simulator-secret:{seed}")
    return f"local_simulator-{service_id}-{secret}"


def local_gateway_environment(
    state_dir: Path, simulator_port: int, notifications_port: int
) -> dict[str, str]:
    """Point notifications at the simulator, and it back at notifications, unless a real Notify is set."""
    if os.environ.get("APPOINTMENTS_NOTIFY_API_KEY"):
        return {}  # a real Notify (or another gateway) was configured: leave it be
    return {
        "APPOINTMENTS_NOTIFY_API_KEY": local_api_key(state_dir),
        "APPOINTMENTS_NOTIFY_BASE_URL": f"http://127.0.0.1:{simulator_port}",
        "APPOINTMENTS_SIMULATOR_CALLBACK_URL": f"http://127.0.0.1:{notifications_port}",
    }
