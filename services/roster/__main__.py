"""`python -m services.roster`: serve the roster service (one process)."""

from fastapi import FastAPI

from services.common.serve import serve, worker_app
from services.roster.main import SERVICE, create_app


def app() -> FastAPI:
    """The roster app (uvicorn imports it by name)."""
    return worker_app(SERVICE, create_app)


if __name__ == "__main__":
    serve(SERVICE, "services.roster.__main__:app")
