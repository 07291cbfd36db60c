# The Python examples (examples/python) with their clients (redis-py, pymemcache,
# python-memcached), for docker/compose.yaml. From the repository root:
#   docker build -f docker/examples.Dockerfile -t herald-examples .
# run_example.py points redis.Redis() at $REDIS_HOST:$REDIS_PORT (default
# herald:6379, the compose service) and runs an example unchanged.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}
WORKDIR /app
COPY examples/python/requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY examples/python/ ./
COPY docker/run_example.py ./
ENV PYTHONUNBUFFERED=1 REDIS_HOST=herald REDIS_PORT=6379
USER 65534:65534
CMD ["python", "run_example.py", "redis_sub.py"]
