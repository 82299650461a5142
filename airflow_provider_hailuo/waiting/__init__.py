"""Waiting for a vendor task: pure poll decisions, the typed events that end a wait, the sync loop.

Shared by the generate operator, the sensor and ``HailuoVideoTrigger``; no Airflow, no I/O.
"""
