"""Parity's Django project package.

Named ``parity`` rather than ``platform`` because a top-level ``platform`` package would shadow
Python's standard-library module that Django, Celery and torch import.
"""
from parity.celery import app as celery_app

__all__ = ("celery_app",)
