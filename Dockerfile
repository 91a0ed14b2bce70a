# One image for every service; docker-compose.yml chooses the process with `command`.

# GOV.UK Frontend for the pages, from its npm package (web/package.json), never copied by hand.
FROM node:20-slim AS frontend
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --omit=dev

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APPOINTMENTS_HOST=0.0.0.0 \
    APPOINTMENTS_STATE_DIR=/var/lib/appointments \
    APPOINTMENTS_GOVUK_FRONTEND_DIR=/opt/govuk-frontend/dist/govuk

WORKDIR /src
# Only the packages and the reviewed county seed: the state folder and the virtualenv of a
# checkout stay out. Installed in place (-e) so the code finds seed/ and the migrations beside it.
COPY pyproject.toml ./
COPY seed ./seed
COPY services ./services
COPY schemas ./schemas
COPY cli ./cli
COPY web ./web
COPY bench ./bench
COPY --from=frontend /web/node_modules/govuk-frontend /opt/govuk-frontend
RUN pip install -e . \
    && useradd --system --uid 10001 --home-dir /var/lib/appointments --create-home appointments

WORKDIR /var/lib/appointments
USER appointments
EXPOSE 8000 8001 8002 8003 8004
CMD ["appointments", "--help"]
