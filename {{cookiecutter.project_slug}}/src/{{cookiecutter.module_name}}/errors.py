"""Errors a user can cause, each with its documented exit code and a one-line message."""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 2  # bad command line or configuration
EXIT_DATA = 3  # data missing, unreadable or violating the schema
EXIT_GATE = 4  # the candidate model failed the gate
EXIT_REGISTRY = 5  # tracking server, model registry or Dask scheduler problem
EXIT_DRIFT = 6  # make monitor: the batch drifted past the thresholds in config (monitoring:)
EXIT_DECAY = 7  # make evaluate: production scores below the gate on new labelled data


class PipelineError(Exception):
    """Base class: ``exit_code`` tells the CLI how to exit."""

    exit_code = EXIT_USAGE


class UsageError(PipelineError):
    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """The configuration is missing or invalid; the message is one line naming the bad key."""


class DataError(PipelineError):
    exit_code = EXIT_DATA


class GateFailed(PipelineError):
    exit_code = EXIT_GATE


class RegistryError(PipelineError):
    exit_code = EXIT_REGISTRY


class SchedulerUnreachable(PipelineError):
    """The Dask scheduler named by DASK_SCHEDULER_ADDRESS (or dask.scheduler) did not answer."""

    exit_code = EXIT_REGISTRY


class WorkersUnfit(PipelineError):
    """The Dask cluster's workers cannot run the work: a worker lacks this project's package or
    this machine's versions of the libraries a task carries (cluster.WORKER_PACKAGES), or died
    running a task."""

    exit_code = EXIT_REGISTRY


class DriftDetected(PipelineError):
    exit_code = EXIT_DRIFT


class PerformanceDecay(PipelineError):
    exit_code = EXIT_DECAY
