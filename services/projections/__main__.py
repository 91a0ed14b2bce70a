"""`python -m services.projections`: serve the projections service (one process)."""

from fastapi import FastAPI

from services.common.serve import serve, worker_app
from services.projections.main import SERVICE, create_app


def app() -> FastAPI:
    """The projections app (uvicorn imports it by name)."""
    return worker_app(SERVICE, create_app)


if __name__ == "__main__":
    serve(SERVICE, "services.projections.__main__:app")
