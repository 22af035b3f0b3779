"""Reproducible evaluation on labelled face folders: verification (1:1) and open-set identification (1:N)."""
