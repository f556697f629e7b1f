"""The cache's size cap (``--cache-bytes``) over everything it stores: the inputs of waiting and running jobs and
the layers of finished ones. Past the cap the oldest finished jobs go (record and layers, as by ``DELETE``); a job
that is still queued or running is never touched, so its input counts but is never evicted."""

from __future__ import annotations

from ldl_backend.server.errors import ApiError
from ldl_backend.server.job_events import JobEvents
from ldl_backend.server.jobs import JobStore
from ldl_backend.server.layer_cache import LayerCache
from ldl_client.records import JobState

# Seconds a client waits before retrying a submission refused for want of room: queued inputs go as jobs start.
RETRY_AFTER = 5


def make_room(
    jobs: JobStore, cache: LayerCache, events: JobEvents, cap: int, *, needed: int = 0, keep: str | None = None
) -> None:
    """Drop the oldest finished jobs while inputs + layers + ``needed`` bytes exceed ``cap``; never ``keep`` (the
    newest finished job: its owner may not have fetched it yet) nor an unfinished job."""
    sizes = cache.sizes()
    total = sum(sizes.values()) + sum(cache.input_sizes().values()) + needed
    if total <= cap:
        return
    for job in reversed(jobs.all()):
        if total <= cap:
            break
        if job.id == keep or job.id not in sizes or not job.state.is_final:
            continue
        if jobs.delete(job.id, unless=(JobState.RUNNING,)):
            events.notify(job.id)
            cache.delete(job.id)
            total -= sizes[job.id]


def admit_input(jobs: JobStore, cache: LayerCache, events: JobEvents, cap: int, size: int) -> None:
    """Make room for a new input of ``size`` bytes. 507 ``cache_full`` when the inputs already waiting leave no room
    for it; a job alone is always admitted (as the newest finished job is kept), so a cap smaller than one image
    still runs jobs one at a time."""
    finished = [job for job in jobs.all() if job.state.is_final and cache.has_layers(job.id)]
    newest = max(finished, key=lambda job: job.updated).id if finished else None
    make_room(jobs, cache, events, cap, needed=size, keep=newest)
    waiting = sum(cache.input_sizes().values())
    if waiting and waiting + size > cap:
        raise ApiError(
            507,
            "cache_full",
            f"the inputs of the jobs already waiting take {waiting:,} bytes; this one ({size:,}) would pass the "
            f"cache's limit of {cap:,} bytes",
            "retry once some of the waiting jobs have started, or start the server with a larger --cache-bytes",
            retry_after=RETRY_AFTER,
        )
