"""`python -m services.notifications`: serve the notifications service (one process)."""

from fastapi import FastAPI

from services.common.serve import serve, worker_app
from services.notifications.main import SERVICE, create_app


def app() -> FastAPI:
    """The notifications app (uvicorn imports it by name)."""
    return worker_app(SERVICE, create_app)


if __name__ == "__main__":
    serve(SERVICE, "services.notifications.__main__:app")
