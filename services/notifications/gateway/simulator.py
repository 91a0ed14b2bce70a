"""A local stand-in for GOV.UK Notify: its SMS API, its callbacks, and a phone a person can read and answer.

``python -m services.notifications.gateway.simulator`` serves, on APPOINTMENTS_SIMULATOR_PORT
(8005):

- ``POST /v2/notifications/sms``, Notify's own API, so the official client talks to it
  unchanged: the bearer JWT is checked against the API key (HS256, ``iss`` the service id),
  an unknown template or a number that is not a UK mobile is a 400 in Notify's shape;
- after a short delay each text is delivered, or fails for a configurable share
  (``APPOINTMENTS_SIMULATOR_FAILURE_SHARE``), and the delivery receipt is posted to the
  notifications service's callback with a ``gateway`` token, retried like Notify's;
  Notify's smoke-test numbers decide it too: 07700 900002 fails for good, 900003 for now;
- ``GET /`` a page of every text sent, with a box to type a reply; ``GET /texts`` and
  ``POST /texts/replies`` the same for ``appointments sms``; a reply is posted to the
  received-text callback as Notify would.

Texts are kept in memory only (the simulator is a development tool, never run in production).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import phonenumbers
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.auth import Role
from services.common.logging import configure_logging, get_logger
from services.common.token_keys import local_issuer
from services.notifications.domain.templates import by_id
from services.notifications.settings import notify_settings

log = get_logger(__name__)
SMOKE_TEST_FAILURES = {"+447700900002": "permanent-failure", "+447700900003": "temporary-failure"}
CALLBACK_ATTEMPTS = 5
# Callbacks in flight at once, as Notify's own workers would post them.
CALLBACK_CONNECTIONS = 20


class SimulatorSettings(BaseSettings):
    """How the simulator behaves (prefix APPOINTMENTS_SIMULATOR_)."""

    model_config = SettingsConfigDict(env_prefix="APPOINTMENTS_SIMULATOR_", extra="ignore")

    port: int = 8005
    failure_share: float = Field(default=0.05, ge=0, le=1)
    delay_seconds: float = Field(default=0.5, ge=0)
    # Where the notifications service takes Notify's callbacks.
    callback_url: str = "http://127.0.0.1:8003"
    # The force's number the public reply to.
    inbound_number: str = "07700900000"
    seed: int | None = None


@dataclass
class SentText:
    """One text as the simulated phone network has it."""

    id: str
    to: str
    body: str
    template: str
    reference: str | None
    status: str
    created_at: str
    replies: list[str] = field(default_factory=list)


class NotifyError(Exception):
    """An error answered in Notify's shape."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


class SmsRequest(BaseModel):
    """Notify's POST /v2/notifications/sms body."""

    phone_number: str
    template_id: str
    personalisation: dict[str, str] = Field(default_factory=dict)
    reference: str | None = None
    sms_sender_id: str | None = None


class Reply(BaseModel):
    """A text a person types on the simulated phone, to the force."""

    to_force_from: str
    message: str = Field(min_length=1, max_length=918)


def uk_mobile(raw: str) -> str:
    """The number in E.164 when Notify would take it (a UK mobile, or the drama range)."""
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        raise NotifyError(400, "ValidationError", "phone_number Not enough digits") from None
    e164 = str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    if not e164.startswith("+447"):
        raise NotifyError(400, "ValidationError", "phone_number Not a UK mobile number")
    return e164


class Simulator:
    """The simulated Notify and phone network."""

    def __init__(self, cfg: SimulatorSettings, api_key: str) -> None:
        self.cfg = cfg
        self.service_id, self.secret = api_key[-73:-37], api_key[-36:]
        self.texts: list[SentText] = []
        self.random = random.Random(cfg.seed)
        self.tasks: set[asyncio.Task[None]] = set()
        # One client for every callback: a new one per call built an SSL context each time,
        # about 20 ms of CPU, more than everything else a text costs the simulator. Callbacks
        # beyond its connections wait their turn (no pool time-out): a burst of a thousand
        # receipts timed out in the pool, was retried, and the retries stormed the service.
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The callbacks' HTTP client, made on first use (inside the running loop)."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(5.0, pool=None),
                limits=httpx.Limits(max_connections=CALLBACK_CONNECTIONS),
            )
        return self._client

    async def close(self) -> None:
        """Close the callbacks' client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def check_token(self, authorization: str | None) -> None:
        """Notify's authorisation: a HS256 JWT from the service's key."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": ["iss", "iat"]})
        except jwt.PyJWTError:
            raise NotifyError(403, "AuthError", "Invalid token: signature, api token not found") from None
        if claims.get("iss") != self.service_id:
            raise NotifyError(403, "AuthError", "Invalid token: service not found")

    def accept(self, request: SmsRequest) -> SentText:
        """Take a text as Notify does, and start its delivery."""
        template = by_id(request.template_id)
        if template is None:
            raise NotifyError(400, "BadRequestError", "Template not found")
        to = uk_mobile(request.phone_number)
        try:
            body = template.render(request.personalisation)
        except ValueError:
            raise NotifyError(400, "BadRequestError", "Missing personalisation or too long") from None
        text = SentText(
            str(uuid.uuid4()),
            to,
            body,
            template.name,
            request.reference,
            "sending",
            datetime.now(UTC).isoformat(),
        )
        self.texts.append(text)
        task = asyncio.create_task(self.deliver(text))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return text

    def outcome(self, text: SentText) -> str:
        """What the network does with it."""
        if text.to in SMOKE_TEST_FAILURES:
            return SMOKE_TEST_FAILURES[text.to]
        if self.random.random() < self.cfg.failure_share:
            return self.random.choice(["permanent-failure", "temporary-failure", "technical-failure"])
        return "delivered"

    async def deliver(self, text: SentText) -> None:
        """After a delay: the final status, and Notify's receipt callback."""
        await asyncio.sleep(self.cfg.delay_seconds)
        text.status = self.outcome(text)
        now = datetime.now(UTC).isoformat()
        receipt = {
            "id": text.id, "reference": text.reference, "to": text.to, "status": text.status,
            "created_at": text.created_at, "completed_at": now, "sent_at": now, "notification_type": "sms",
            "template_id": by_id_name(text.template), "template_version": 1,
        }  # fmt: skip
        await self.callback("/gateway/receipts", receipt)

    async def reply(self, source: str, message: str) -> dict[str, Any]:
        """A text from a phone to the force, posted to the received-text callback."""
        inbound = {
            "id": str(uuid.uuid4()),
            "source_number": uk_mobile(source).removeprefix("+"),
            "destination_number": self.cfg.inbound_number,
            "message": message,
            "date_received": datetime.now(UTC).isoformat(),
        }
        latest = next((t for t in reversed(self.texts) if t.to == uk_mobile(source)), None)
        if latest is not None:
            latest.replies.append(message)  # shown beside the text it most likely answers
        await self.callback("/gateway/inbound", inbound)
        return inbound

    async def callback(self, path: str, body: dict[str, Any]) -> None:
        """Post a callback with a gateway token, retrying as Notify does (five tries)."""
        url = f"{self.cfg.callback_url.rstrip('/')}{path}"
        for attempt in range(CALLBACK_ATTEMPTS):
            headers = {"Authorization": f"Bearer {local_issuer().token(Role.GATEWAY, 'notify-simulator')}"}
            try:
                answer = await self.client.post(url, json=body, headers=headers)
                if answer.status_code < 500:
                    if answer.status_code >= 400:
                        log.warning("callback refused", path=path, status=answer.status_code)
                    return
            except httpx.HTTPError as exc:
                log.info("callback failed; trying again", path=path, error=type(exc).__name__)
            await asyncio.sleep(min(2**attempt * 0.2, 5))
        log.warning("callback given up", path=path)


def by_id_name(name: str) -> str:
    """The Notify template id of a template name."""
    from services.notifications.domain.templates import TEMPLATES

    return TEMPLATES[name].id


def create_app(cfg: SimulatorSettings | None = None, api_key: str | None = None) -> FastAPI:
    """The simulator's app."""
    cfg = cfg or SimulatorSettings()
    if api_key is None:
        configured = notify_settings().api_key
        if configured is None:
            raise RuntimeError(
                "APPOINTMENTS_NOTIFY_API_KEY is not set: the simulator checks tokens against it"
            )
        api_key = configured.get_secret_value()
    sim = Simulator(cfg, api_key)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await sim.close()

    app = FastAPI(title="GOV.UK Notify simulator", version="1.0.0", lifespan=lifespan)
    app.state.simulator = sim

    @app.exception_handler(NotifyError)
    async def notify_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, NotifyError)
        body = {"errors": [{"error": exc.error, "message": exc.message}], "status_code": exc.status}
        return JSONResponse(body, status_code=exc.status)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "healthy"}

    @app.post("/v2/notifications/sms", status_code=201)
    async def send_sms(body: SmsRequest, request: Request) -> dict[str, Any]:
        sim.check_token(request.headers.get("authorization"))
        text = sim.accept(body)
        return {
            "id": text.id,
            "reference": text.reference,
            "content": {"body": text.body, "from_number": cfg.inbound_number},
            "uri": f"/v2/notifications/{text.id}",
            "template": {"id": body.template_id, "version": 1, "uri": f"/v2/template/{body.template_id}"},
        }

    @app.get("/texts")
    async def texts() -> list[dict[str, Any]]:
        return [asdict(t) for t in sim.texts]

    @app.post("/texts/replies", status_code=202)
    async def reply(body: Reply) -> dict[str, Any]:
        return await sim.reply(body.to_force_from, body.message)

    @app.post("/replies")
    async def reply_form(request: Request) -> RedirectResponse:
        # The page's form, read by hand: an urlencoded body needs no multipart parser.
        form = parse_qs((await request.body()).decode())
        phone, message = form.get("phone", [""])[0], form.get("message", [""])[0].strip()
        if phone and message:
            await sim.reply(phone, message[:918])
        return RedirectResponse("/", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        rows = "".join(
            f"<tr><td>{html.escape(t.created_at[:19])}</td><td>{html.escape(t.to)}</td>"
            f"<td>{html.escape(t.body)}</td><td>{html.escape(t.status)}</td>"
            f"<td>{'<br>'.join(html.escape(r) for r in t.replies)}</td>"
            "<td><form method=post action=/replies>"
            f"<input type=hidden name=phone value='{html.escape(t.to)}'>"
            "<input name=message placeholder='YES, CANCEL, MOVE, 1-5'><button>Reply</button></form></td></tr>"
            for t in reversed(sim.texts)
        )
        return (
            "<!doctype html><meta charset=utf-8><title>SMS simulator</title>"
            "<h1>Texts sent (GOV.UK Notify simulator)</h1>"
            "<table border=1 cellpadding=4><tr><th>sent</th><th>to</th><th>text</th><th>status</th>"
            f"<th>replies</th><th>reply</th></tr>{rows}</table>"
        )

    return app


def main() -> None:
    """Serve the simulator until stopped."""
    cfg = SimulatorSettings()
    configure_logging("sms-simulator", json=True)
    uvicorn.run(create_app(cfg), host="127.0.0.1", port=cfg.port, log_level="warning")


if __name__ == "__main__":
    main()
