"""Hailuo itself: requests, modes, model capabilities, task states, results. No Airflow, no network."""

from airflow_provider_hailuo.core.models import DownloadLocation, Mode, TaskState, TaskStatus, VideoResult
from airflow_provider_hailuo.core.request import VideoRequest

__all__ = ["DownloadLocation", "Mode", "TaskState", "TaskStatus", "VideoRequest", "VideoResult"]
