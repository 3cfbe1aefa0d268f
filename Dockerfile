# The service image: gunicorn serving the API; the same image runs refit workers
# (`qc-service worker`) and migrations (`qc-service db upgrade`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    QC_DATA_DIR=/var/lib/qc-service

WORKDIR /app
COPY pyproject.toml README.md ./
COPY qc_service ./qc_service
COPY deploy ./deploy
RUN pip install . \
    && useradd --system --home-dir /var/lib/qc-service --create-home qc

USER qc
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "qc_service.app:create_app()"]
