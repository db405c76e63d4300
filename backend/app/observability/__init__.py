"""Seeing inside: Prometheus metrics, structured logs with connection ids, and the live page."""
