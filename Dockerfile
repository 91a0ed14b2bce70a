# One image for every service; docker-compose.yml chooses the process with `command`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APPOINTMENTS_HOST=0.0.0.0 \
    APPOINTMENTS_STATE_DIR=/var/lib/appointments

WORKDIR /src
# Only the packages: the state folder and the virtualenv of a checkout stay out.
COPY pyproject.toml ./
COPY services ./services
COPY schemas ./schemas
COPY cli ./cli
COPY web ./web
COPY bench ./bench
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/appointments --create-home appointments

WORKDIR /var/lib/appointments
USER appointments
EXPOSE 8000 8001 8002 8003 8004
CMD ["appointments", "--help"]
