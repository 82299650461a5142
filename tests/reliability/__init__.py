"""Reliability and security suite: bad inputs, faults, secrets, hostile answers (issue 8)."""
