# feeds: serve per-category Atom, RSS and JSON feeds built from a directory of articles.
#   docker build -t feeds .
#   docker run -v "$PWD/articles:/data/articles" -p 8080:8080 \
#     -e FEEDS_BASE_URL=https://feeds.example.org/ feeds
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FEEDS_CONFIG=/config/feeds.yaml \
    FEEDS_HOST=0.0.0.0 \
    FEEDS_PORT=8080

WORKDIR /app
# Every dependency pinned, with hashes: each build of the image gets the same versions.
COPY config/requirements-container.txt ./
RUN pip install --require-hashes -r requirements-container.txt
COPY pyproject.toml README.md ./
COPY feeds ./feeds
RUN pip install --no-deps . \
    && groupadd --system --gid 10001 feeds \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home feeds \
    && mkdir -p /data/articles /data/public /config \
    && chown -R 10001:10001 /data

# The default configuration: articles in /data/articles, feeds published to /data/public.
# Mount a directory with your own feeds.yaml at /config to change it.
COPY config/docker.yaml /config/feeds.yaml

USER 10001:10001
WORKDIR /data
VOLUME ["/data/articles", "/data/public", "/config"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['FEEDS_PORT'], timeout=4)"]
CMD ["feeds", "serve"]
