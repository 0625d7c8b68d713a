# One image for every role: migrate, api, ws, the workers, beat and flower (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONPATH=/app
# Every container must get SECRET_KEY, ENCRYPTION_KEY and INTERNAL_API_KEY from the environment:
# secrets generated inside one container would differ from its neighbours' (and die with it).
ENV GENERATE_SECRETS=false
WORKDIR /app
RUN useradd --create-home --uid 10001 trusera
# Dependencies first, so a code change does not reinstall them.
COPY setup.cfg pyproject.toml README.md ./
RUN mkdir -p common web workers && touch common/__init__.py web/__init__.py workers/__init__.py \
    && pip install --no-cache-dir '.[ops]'
COPY common ./common
COPY web ./web
COPY workers ./workers
COPY migrations ./migrations
COPY celeryconfig.py alembic.ini gunicorn.conf.py ./
RUN pip install --no-cache-dir --no-deps '.[ops]' && mkdir -p /scan && chown trusera /app
USER trusera
EXPOSE 8000 8001 5555
STOPSIGNAL SIGTERM
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--workers", "2", "--threads", "8", "web.wsgi:app"]
