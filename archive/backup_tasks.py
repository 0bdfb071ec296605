"""Celery tasks of the monthly backup (see archive/backup.py)."""
