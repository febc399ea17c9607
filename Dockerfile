# Terroir's image: the CLI, the Beam SDK harness and Dask workers all run from it.
# Build: docker build -t terroir:latest .            GPU workers: docker build --build-arg EXTRAS=cluster,gpu .
FROM python:3.11-slim-bookworm

ARG EXTRAS=cluster
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/terroir
COPY pyproject.toml requirements.lock README.md ./
COPY pipelines ./pipelines
COPY filters ./filters
COPY schemas ./schemas
COPY expectations ./expectations
COPY policies ./policies
RUN pip install -c requirements.lock ".[${EXTRAS}]"

RUN useradd --create-home terroir && mkdir -p /data /releases && chown terroir /data /releases
USER terroir
ENTRYPOINT ["terroir"]
CMD ["--help"]
