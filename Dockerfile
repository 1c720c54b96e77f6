# The image both the API and the worker run; docker-compose.yml picks the command.

# The GOV.UK Frontend files the dashboard serves, from npm (pinned by frontend/package-lock.json).
FROM node:20-slim AS assets
WORKDIR /build
COPY frontend/package.json frontend/package-lock.json frontend/
RUN npm ci --prefix frontend --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Pango for WeasyPrint (the reports' PDF).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid and gid: Kubernetes' runAsNonRoot can check a number, not a name.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

COPY pyproject.toml README.md ./
COPY safeguarding/ safeguarding/
COPY workflows/ workflows/
COPY activities/ activities/
COPY api/ api/
COPY worker.py ./
COPY --from=assets /build/frontend/node_modules/govuk-frontend/dist frontend/node_modules/govuk-frontend/dist

# Bytecode made here: the workflow sandbox imports the workflow modules afresh for every case it runs,
# and nothing may write it at run time.
RUN pip install --no-cache-dir . \
    && rm -rf build *.egg-info \
    && python -m compileall -q safeguarding workflows activities api worker.py

USER 10001:10001

EXPOSE 8000

CMD ["uvicorn", "--factory", "api.app:from_environment", "--host", "0.0.0.0", "--port", "8000"]
