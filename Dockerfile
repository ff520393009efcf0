# feeds: build the per-category feeds from /data/articles and publish them to /data/public.
#   docker build -t feeds .
#   docker run -v "$PWD/articles:/data/articles" -v "$PWD/config:/config" -p 8080:8080 feeds
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FEEDS_CONFIG=/config/feeds.yaml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY feeds ./feeds
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --no-create-home feeds \
    && mkdir -p /data/articles /data/public /config \
    && chown -R feeds:feeds /data

# The default config for the container: articles and output under /data.
COPY --chown=feeds:feeds config/docker.yaml /config/feeds.yaml

USER feeds
WORKDIR /data
VOLUME ["/data/articles", "/data/public", "/config"]
EXPOSE 8080
CMD ["feeds", "build"]
