# compound_app: gunicorn serving the app as a non-root user; the data lives elsewhere
# (PostgreSQL, see compose.yaml) and in the instance volume (photos, backups).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    COMPOUND_ENV=production \
    GUNICORN_BIND=0.0.0.0:8000

# pg_dump and pg_restore, for `flask backup` and `flask restore` against PostgreSQL.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# The code belongs to root and is read-only to the app; only instance/ is its to write.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin compound

WORKDIR /app
COPY . .
# Editable, so the app finds its templates, static files, translations and migrations
# beside the package in /app; versions pinned by constraints.txt.
RUN pip install -c constraints.txt -e . \
    && pybabel compile -f -d translations \
    && mkdir -p instance \
    && chown compound:compound instance

USER compound
# Photos (instance/uploads), backups (instance/backups); with SQLite, the database too.
VOLUME ["/app/instance"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["gunicorn", "--config", "gunicorn.conf.py"]
