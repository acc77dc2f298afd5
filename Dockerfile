# syntax=docker/dockerfile:1
# AgentScope: the Django monolith under gunicorn. Static files are collected at build time and
# served by whitenoise; migrations run at release (`docker run ... release`, or the platform's
# release command), never at build time. `docker run IMAGE worker` runs the task worker that
# evaluates tests when runs end and prunes what is past each project's retention, daily.
FROM python:3.12-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/agentscope-metrics \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# collectstatic needs settings to import; these values exist for the build step only.
RUN DEBUG=0 SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 agentscope \
    && chown -R agentscope /app

USER agentscope
EXPOSE 8000

COPY --chmod=755 bin/agentscope-entrypoint /usr/local/bin/agentscope-entrypoint

ENTRYPOINT ["agentscope-entrypoint"]
CMD ["web"]
