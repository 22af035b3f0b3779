"""Retention (docs/GOVERNANCE.md): alerts and their images are purged after the retention period unless a
supervisor placed them on hold; the purge runs on a schedule in ``lfr serve`` and on demand."""
