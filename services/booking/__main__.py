"""`python -m services.booking`: serve the booking service in APPOINTMENTS_BOOKING_WORKERS processes."""

from fastapi import FastAPI

from services.booking.main import SERVICE, create_app
from services.common.config import settings
from services.common.serve import serve, worker_app


def app() -> FastAPI:
    """The booking app of one worker process (uvicorn imports it by name in each worker)."""
    return worker_app(SERVICE, create_app)


if __name__ == "__main__":
    serve(SERVICE, "services.booking.__main__:app", workers=settings().booking_workers)
