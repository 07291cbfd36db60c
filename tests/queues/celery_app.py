"""A Celery app with herald as broker and result backend (HERALD_URL)."""
import os

from celery import Celery

URL = os.environ["HERALD_URL"]

app = Celery("herald_tasks", broker=URL, backend=URL)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    result_expires=600,
    worker_hijack_root_logger=False,
)


@app.task
def add(x, y):
    return x + y


@app.task
def tsum(values):
    return sum(values)
