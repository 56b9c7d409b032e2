"""Builders for the embedded example corpora (no download: text from the Python installation and PyPI)."""
