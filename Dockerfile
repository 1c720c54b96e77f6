# The image both the API and the worker run; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

COPY pyproject.toml README.md ./
COPY safeguarding/ safeguarding/
COPY workflows/ workflows/
COPY activities/ activities/
COPY api/ api/
COPY worker.py ./

RUN pip install --no-cache-dir . \
    && rm -rf build *.egg-info

USER app

EXPOSE 8000

CMD ["uvicorn", "--factory", "api.app:from_environment", "--host", "0.0.0.0", "--port", "8000"]
