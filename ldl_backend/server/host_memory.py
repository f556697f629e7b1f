"""The default job memory budget: a share of this machine's physical memory."""

from __future__ import annotations

from ldl_backend.system_memory import physical_memory

# A job may take three quarters of the machine: the API process, the desktop and the other applications keep the
# rest. A server started with --max-job-memory sets its own.
JOB_MEMORY_FRACTION = 0.75


def default_job_memory() -> int:
    return int(physical_memory() * JOB_MEMORY_FRACTION)
