"""Readers and writers: JSONL (.gz/.zst), Parquet, text and HTML folders, HF datasets; sharding inside files."""
