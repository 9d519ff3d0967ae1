"""The task queue: narration jobs sent to Redis and run by long-lived workers on any machine (Dramatiq).

With ``CODE_NARRATOR_QUEUE`` set (``Settings.queue``), a narration job is still a ``jobs`` row
first, the one record users see; ``send`` then puts a message carrying only its id on the queue
``narrate`` of that Redis server. Any ``code-narrator worker`` (``run_worker``) that reaches the same
Redis server and the same database takes it and runs it with ``narrate.run_job``, which writes the
progress and the outcome on the row as a local worker does. A worker is one process: its threads
share one loaded model (``backends.make_backend`` keeps one per process).

What holds when something fails:

* A worker killed mid-job never acknowledged its message. Dramatiq keeps the message in that
  worker's set of unacknowledged ones; once the worker has been silent for
  ``Settings.queue_heartbeat`` seconds, a surviving worker puts it back on the queue and runs the
  job again. The narrative cache makes the rerun skip what the dead worker stored, and the
  per-repository lock (``db.locks.repository_lock``, a PostgreSQL advisory lock that the server
  drops with the dead worker's connection) keeps two runs of one repository from overlapping.
* A job that fails on its input (a ``UserError``: a repository gone, bad parameters) ends 'failed'
  once. Any other failure (the database restarting, a bug) goes back to 'queued' and is retried
  with backoff, up to ``MAX_RETRIES`` times, then ends 'failed' with its one line.
* A worker asked to stop (SIGTERM, Ctrl+C) stops its jobs at their next model batch, puts them back
  on the queue as 'queued' for another worker (or itself, started again), and exits.
* Redis unreachable when a job is sent: the job ends 'failed' saying so, and the caller gets one
  ``QueueError`` line; a worker that cannot reach Redis does not start.
* Redis restarted without its data (or flushed) while jobs waited: their messages are gone. Whoever
  waits for the jobs (``narrate --all``) asks ``job_ids_on_queue`` which jobs the queue still holds,
  and sends a waiting job it no longer holds again.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Callable

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name
from dramatiq.errors import DecodeError
from dramatiq.middleware import CurrentMessage, Retries

from db.errors import QueueError, UserError, first_line
from db.store import Store
from narrator.pipeline.narrate import run_job
from narrator.settings import Settings, without_password

log = logging.getLogger(__name__)

QUEUE_NAME = "narrate"
ACTOR_NAME = "narrate_job"
MAX_RETRIES = 3
"""Times a job that failed for a reason other than its input is tried again."""
MAINTENANCE_CHANCE = 100_000
"""Out of a million Redis calls, how many also look for dead workers' messages to put back (Dramatiq's
default, 1,000, can leave a dead worker's job waiting many minutes)."""
STOP_GRACE_MS = 60_000
"""How long a stopping worker waits for its jobs to reach a batch boundary before it exits anyway
(their messages then come back through the heartbeat, like a killed worker's)."""
CONNECT_TIMEOUT_S = 5.0


class WorkerStopped(Exception):
    """The worker running the job is stopping; the job goes back on the queue."""


def unreachable(settings: Settings, error: BaseException) -> str:
    """The one line saying the queue's Redis server does not answer."""
    return f"The task queue at {without_password(settings.queue)} cannot be reached: {first_line(error)}"


def make_broker(settings: Settings) -> RedisBroker:
    """A Dramatiq broker on ``settings.queue`` with this project's middleware (retries, the current message)."""
    if not settings.queue:
        raise QueueError("No task queue is configured: set CODE_NARRATOR_QUEUE to a Redis URL such as "
                         "redis://host:6379/0 (without it, narration runs in local worker processes).")
    client = redis.Redis.from_url(settings.queue, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_keepalive=True,
                                  health_check_interval=30)
    return RedisBroker(client=client, heartbeat_timeout=int(settings.queue_heartbeat * 1000),
                       maintenance_chance=MAINTENANCE_CHANCE,
                       middleware=[Retries(max_retries=MAX_RETRIES, min_backoff=1_000, max_backoff=60_000),
                                   CurrentMessage()])


@functools.lru_cache(maxsize=4)
def _sending_broker(settings: Settings) -> RedisBroker:
    """One broker per process and queue for sending (its Redis connections are pooled)."""
    return make_broker(settings)


def send(settings: Settings, store: Store, job_id: int) -> None:
    """Put queued job ``job_id`` on the task queue; when Redis cannot be reached the job ends 'failed'
    with that line, and ``QueueError`` says it."""
    message = dramatiq.Message(queue_name=QUEUE_NAME, actor_name=ACTOR_NAME, args=(job_id,), kwargs={}, options={})
    try:
        _sending_broker(settings).enqueue(message)
    except redis.RedisError as error:
        line = unreachable(settings, error)
        store.finish_job(job_id, "failed", line)
        raise QueueError(line) from None


def job_ids_on_queue(settings: Settings) -> set[int]:
    """The ids of the jobs the queue holds a message for: waiting, delayed for a retry, or taken by a
    worker and not yet acknowledged (a dead worker's, until it is put back). ``QueueError`` when Redis
    does not answer."""
    broker = _sending_broker(settings)
    try:
        held = [data for queue in (QUEUE_NAME, dq_name(QUEUE_NAME))
                for data in broker.client.hvals(f"{broker.namespace}:{queue}.msgs")]
    except redis.RedisError as error:
        raise QueueError(unreachable(settings, error)) from None
    ids = set()
    for data in held:
        try:
            message = dramatiq.Message.decode(data)
        except DecodeError:
            continue  # not one of ours
        if message.actor_name == ACTOR_NAME and message.args:
            ids.add(message.args[0])
    return ids


def run_queued(settings: Settings, store: Store, job_id: int, stopping: threading.Event,
               retries: Callable[[], int] = lambda: 0) -> None:
    """Run job ``job_id`` for a queue message; raises only to have the message tried again.

    A job already done or cancelled (its worker died after finishing, before acknowledging) is
    left as it is. ``retries()`` tells how many times this message was tried before.
    """
    job = store.get_job(job_id)
    if job is None or job.kind != "narrate":
        log.warning("Job %s is not a narration job of this database; its message is dropped.", job_id)
        return
    if job.status in ("done", "cancelled"):
        return

    def progress(done: int, total: int, message: str) -> None:
        if stopping.is_set():
            raise WorkerStopped("Its worker stopped.")

    try:
        run_job(settings, job_id, progress=progress)
    except WorkerStopped:
        store.update_job(job_id, status="queued", pid=None, host=None, error=None,
                         message="Its worker stopped; it waits for another worker.")
        raise
    except UserError:
        return  # recorded on the row; the same input would fail the same way
    except Exception as error:
        tried = retries()
        if tried >= MAX_RETRIES:
            return  # recorded on the row as failed, for good
        store.update_job(job_id, status="queued", pid=None, host=None,
                         message=f"Failed ({first_line(error)}); trying again ({tried + 1} of {MAX_RETRIES}).")
        raise


def _retry(retries: int, error: BaseException) -> bool:
    """``run_queued`` raises only to be tried again, and has counted the tries itself (a worker that
    stops is no failure of the job, and does not use one up)."""
    return True


def check_reachable(settings: Settings, broker: RedisBroker) -> None:
    """Raise ``QueueError`` unless the queue's Redis server answers."""
    try:
        broker.client.ping()
    except redis.RedisError as error:
        raise QueueError(unreachable(settings, error)) from None


def run_worker(settings: Settings, threads: int = 1, ready: Callable[[str], None] = print) -> None:
    """Take narration jobs from the task queue until SIGTERM or Ctrl+C, ``threads`` at a time.

    ``ready`` is told one line once the worker takes jobs. The loaded model is shared by the
    threads. On a stop, running jobs go back on the queue at their next model batch (``STOP_GRACE_MS``).
    """
    if threads < 1:
        raise QueueError("A worker needs at least 1 thread.")
    broker = make_broker(settings)
    check_reachable(settings, broker)
    store = Store(settings.db_url)  # a database that cannot be reached is said now, not per job
    stopping = threading.Event()

    def narrate_job(job_id: int) -> None:
        run_queued(settings, store, job_id, stopping,
                   lambda: CurrentMessage.get_current_message().options.get("retries", 0))

    dramatiq.Actor(narrate_job, broker=broker, actor_name=ACTOR_NAME, queue_name=QUEUE_NAME, priority=0,
                   options={"retry_when": _retry})
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=1000)
    worker.queue_prefetch = threads  # hold no job another idle worker could be running
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.start()
        ready(f"Worker ready: {threads} thread{'s' if threads > 1 else ''} taking narration jobs from "
              f"{without_password(settings.queue)} (Ctrl+C or SIGTERM stops it).")
        while not stopping.wait(0.5):
            pass
        ready("Stopping: running jobs go back on the queue at their next step.")
        worker.stop(timeout=STOP_GRACE_MS)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        broker.close()
        store.close()
