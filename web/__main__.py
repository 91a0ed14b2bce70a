"""`python -m web`: serve the web pages on the contract's port (8000, or APPOINTMENTS_WEB_PORT)."""

from fastapi import FastAPI

from services.common.serve import serve, worker_app
from web.app import SERVICE, create_app


def app() -> FastAPI:
    """The pages' app (uvicorn imports it by name)."""
    return worker_app(SERVICE, create_app)


if __name__ == "__main__":
    serve(SERVICE, "web.__main__:app")
