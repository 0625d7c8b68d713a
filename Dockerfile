# One image for every role: api, ws, workers, beat, migrate, flower.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN useradd --create-home --uid 10001 trusera
COPY setup.cfg pyproject.toml README.md ./
COPY common ./common
COPY web ./web
COPY workers ./workers
COPY migrations ./migrations
COPY celeryconfig.py alembic.ini ./
RUN pip install --no-cache-dir . flower==2.2.0
USER trusera
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--threads", "8", "web.wsgi:app"]
