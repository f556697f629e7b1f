"""The route handlers: thin — validate, call the job store, the layer cache or the supervisor, answer JSON."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from ldl_backend.errors import LdlError
from ldl_backend.server import budget, cache_limit, layer_files, model_import, reblend, submission
from ldl_backend.server.budget import Budgets
from ldl_backend.server.context import ServerContext
from ldl_backend.server.errors import ApiError, bad_request, conflict, not_found, status_of
from ldl_backend.server.jobs import Job
from ldl_backend.server.model_list import model_info
from ldl_backend.server.openapi import openapi_document
from ldl_backend.server.raw_image import RAW_TYPE
from ldl_backend.server.supervisor import WorkerState
from ldl_client.records import Health, JobState
from ldl_client.version import API_VERSION

_log = logging.getLogger(__name__)
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
# /events sends a comment line after this long without a change, so a client can check its own cancel between lines
# and a dead connection shows; without a wake-up it reads the job again after RECHECK_SECONDS, so a lost wake-up
# delays an update by at most that long.
KEEPALIVE_SECONDS = 0.5
RECHECK_SECONDS = 5.0

Handler = Callable[[Request], Awaitable[Response]]


def error_response(status: int, code: str, message: str, hint: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"code": code, "message": message, "hint": hint}, status, headers=headers)


def guarded(handler: Handler) -> Handler:
    """Our errors become their JSON answer; anything else is logged and answered 500 ``internal``."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except LdlError as error:
            retry = error.retry_after if isinstance(error, ApiError) else None
            return error_response(status_of(error), error.code, error.message, error.hint, retry)
        except ClientDisconnect:
            # The client went away mid-upload (or the body deadline cut it off and it got its 408): nobody to
            # answer and nothing of ours failed, so no traceback in the log.
            _log.info("%s %s: the client disconnected before its request was read", request.method, request.url.path)
            return Response(status_code=499)
        except Exception:
            _log.exception("%s %s failed", request.method, request.url.path)
            return error_response(500, "internal", "the server failed to handle this request", "see the server's log")

    return wrapped


class Routes:
    def __init__(self, context: ServerContext) -> None:
        self._context = context

    # -- helpers -------------------------------------------------------------------------------------------
    def _job(self, request: Request) -> Job:
        job_id = request.path_params["id"]
        job = self._context.jobs.get(job_id) if _JOB_ID.match(job_id) else None
        if job is None:
            raise not_found(f"job {job_id[:40]!r}")
        return job

    @staticmethod
    def _no_query(request: Request, allowed: tuple[str, ...] = ()) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, value in request.query_params.multi_items():
            if key not in allowed or key in values:
                raise bad_request(f"unexpected query parameter {key!r}")
            values[key] = value
        return values

    # -- routes --------------------------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        self._no_query(request)
        jobs = self._context.jobs
        devices = await run_in_threadpool(self._context.devices.get)
        health = Health(
            status="ok",
            version=self._context.version,
            api=API_VERSION,
            worker=self._context.supervisor.state.value,
            queued=jobs.count(JobState.QUEUED),
            running=jobs.count(JobState.RUNNING),
            devices=tuple(devices),
        )
        return JSONResponse(health.to_json())

    async def models(self, request: Request) -> Response:
        self._no_query(request)
        statuses = await run_in_threadpool(self._context.models.list)
        return JSONResponse({"models": [model_info(status).to_json() for status in statuses]})

    async def import_model(self, request: Request) -> Response:
        """A model file uploaded from a front end's "Add model file…": 201 with its catalog entry."""
        query = self._no_query(request, ("name", "filename"))
        body = await request.body()
        context = self._context
        status = await run_in_threadpool(
            model_import.import_upload,
            context.models,
            body,
            submission.media_type(request.headers.get("content-type")),
            query,
            context.cache.scratch,
            context.config.max_body,
        )
        return JSONResponse(model_info(status).to_json(), 201)

    async def openapi(self, request: Request) -> Response:
        self._no_query(request)
        return JSONResponse(openapi_document(self._context.version))

    async def submit(self, request: Request) -> Response:
        context, config = self._context, self._context.config
        options = submission.parse_options(request.query_params.multi_items(), context.models.catalog())
        submission.check_device(options.device, await run_in_threadpool(context.devices.get))
        self._check_capacity()
        for name in submission.model_names(options):  # a reference model too: refused now, not when the job runs
            status = await run_in_threadpool(context.models.status, name)
            if not status.availability.usable:
                raise ApiError(404, "unknown_model", f"model {name!r} is not installed", status.note)
        body = await request.body()
        # Header checks only: the image is never decoded here, and every budget holds before it is stored.
        upload = await run_in_threadpool(
            submission.inspect_body, body, request.headers.get("content-type"), request.headers, config.max_pixels
        )
        budgets = Budgets(config.max_output_pixels, config.max_job_memory)
        await run_in_threadpool(budget.check_job, upload.shape, options, context.models.catalog(), budgets)
        async with context.submit_lock:  # room in the cache is counted and taken by one submission at a time
            await run_in_threadpool(
                cache_limit.admit_input, context.jobs, context.cache, context.job_events, config.cache_bytes, len(body)
            )
            job_id = uuid.uuid4().hex
            await run_in_threadpool(context.cache.save_input, job_id, upload)
        try:
            self._check_capacity()
        except ApiError:
            context.cache.delete_input(job_id)
            raise
        now = time.time()
        context.jobs.add(Job(job_id, JobState.QUEUED, options, now, now))
        context.supervisor.wake()
        return JSONResponse({"id": job_id, "state": JobState.QUEUED.value}, 202)

    def _check_capacity(self) -> None:
        if self._context.supervisor.state is WorkerState.FAILED:
            raise ApiError(
                503,
                "worker_unavailable",
                "the worker process keeps crashing; no jobs are accepted for now",
                "see the server's log; it retries by itself",
                retry_after=10,
            )
        if self._context.jobs.count(JobState.QUEUED) >= self._context.config.queue_limit:
            raise ApiError(
                429, "queue_full", "too many jobs are waiting", "wait for some to finish, then retry", retry_after=5
            )

    async def list_jobs(self, request: Request) -> Response:
        self._no_query(request)
        return JSONResponse({"jobs": [job.to_json() for job in self._context.jobs.all()]})

    async def get_job(self, request: Request) -> Response:
        self._no_query(request)
        return JSONResponse(self._job(request).to_json())

    async def events(self, request: Request) -> Response:
        self._no_query(request)
        job_id = self._job(request).id
        jobs, events = self._context.jobs, self._context.job_events

        async def stream() -> AsyncIterator[str]:
            # Following starts before the first read, so no change recorded after that read is missed.
            with events.follow(job_id) as waiter:
                last = ""
                while True:
                    job = jobs.get(job_id)
                    if job is None:
                        yield "event: end\ndata: null\n\n"
                        return
                    payload = json.dumps(job.to_json())
                    if payload != last:
                        yield f"event: progress\ndata: {payload}\n\n"
                        last = payload
                    if job.state.is_final:
                        yield f"event: end\ndata: {payload}\n\n"
                        return
                    quiet = 0.0
                    while not await waiter.wait(KEEPALIVE_SECONDS):
                        yield ": keep-alive\n\n"
                        quiet += KEEPALIVE_SECONDS
                        if quiet >= RECHECK_SECONDS:
                            break

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def layer(self, request: Request) -> Response:
        file_format = self._no_query(request, ("format",)).get("format", "png")
        name = request.path_params["name"]
        job = self._job(request)
        layer_files.check_request(name, file_format)
        self._require_layers(job)
        try:
            found = await run_in_threadpool(layer_files.layer_file, self._context.cache, job.id, name, file_format)
        except FileNotFoundError as error:
            raise not_found(f"the layers of job {job.id}") from error
        return Response(found.body, media_type=found.media_type, headers=found.headers)

    def _require_layers(self, job: Job) -> None:
        if job.state is not JobState.SUCCEEDED:
            raise conflict(f"job {job.id} is {job.state.value}, not succeeded", "wait for it to succeed")

    async def cancel(self, request: Request) -> Response:
        self._no_query(request)
        job = self._job(request)
        jobs = self._context.jobs
        if job.state is JobState.QUEUED:
            cancelled = jobs.update(job.id, expect=(JobState.QUEUED,), state=JobState.CANCELLED)
            if cancelled is not None:
                self._context.job_events.notify(job.id)
                self._context.cache.delete_input(job.id)
                return JSONResponse(cancelled.to_json(), 202)
            job = self._job(request)
        if job.state is JobState.RUNNING and self._context.supervisor.cancel_running(job.id):
            return JSONResponse(job.to_json(), 202)
        job = self._job(request)
        if job.state.is_final:
            raise conflict(f"job {job.id} is already {job.state.value}", "nothing to cancel")
        return JSONResponse(job.to_json(), 202)

    async def reblend(self, request: Request) -> Response:
        self._no_query(request)
        job = self._job(request)
        self._require_layers(job)
        kind = submission.media_type(request.headers.get("content-type"))
        body = await request.body()
        settings, mask = None, None
        if kind == "application/json":
            settings = reblend.parse_settings(body)
        elif kind == RAW_TYPE:
            mask = await run_in_threadpool(reblend.parse_mask, body, request.headers, self._context.config.max_pixels)
        else:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"unsupported Content-Type {kind or '(none)'!r}",
                f"send JSON or {RAW_TYPE}",
            )
        async with self._context.reblend_lock:
            try:
                await run_in_threadpool(reblend.reblend, self._context.cache, job.id, settings=settings, mask=mask)
            except FileNotFoundError as error:
                raise not_found(f"the layers of job {job.id}") from error
        return JSONResponse(self._job(request).to_json())

    async def delete(self, request: Request) -> Response:
        self._no_query(request)
        job = self._job(request)
        if not self._context.jobs.delete(job.id, unless=(JobState.RUNNING,)):
            if self._context.jobs.get(job.id) is None:
                raise not_found(f"job {job.id}")
            raise conflict(f"job {job.id} is running", "cancel it first")
        self._context.job_events.notify(job.id)
        await run_in_threadpool(self._context.cache.delete, job.id)
        return Response(status_code=204)
