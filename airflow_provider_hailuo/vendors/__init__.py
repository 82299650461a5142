"""Vendor dialects: one sans-I/O module per vendor API, each with its spec (see registry.py)."""
