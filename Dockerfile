# 精简达 production image: gunicorn (web), celery worker and celery beat all run from it
# (see docker-compose.yml). Front-end assets come from the npm registry at build time;
# they are not committed (static/vendor is git-ignored).

# --- stage 1: front-end assets (scripts/vendor_assets.sh, the same as `make assets`) ---
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/vendor_assets.sh scripts/vendor_assets.sh
RUN bash scripts/vendor_assets.sh

# --- stage 2: the application ---
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
COPY --from=assets /src/static/vendor static/vendor

# collectstatic at build time (whitenoise serves the hashed, compressed files). The
# placeholder values exist only for this step: settings refuse to load without them.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput -v0 \
    && mkdir -p var/media \
    && chown app:app var/media

USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
