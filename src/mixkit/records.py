"""The one record type every stage passes on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Document:
    """One document (or conversation rendered to text) flowing through mixkit.

    Args:
        id: stable identifier; the reader derives one from file and line (or row) when the source has no id field.
        text: the document text, always a non-empty ``str`` once a reader has accepted it.
        channel: the mixture channel the document belongs to (``en``, ``zh``, ``code``, ``domain`` ...).
        source: the recipe source name it was read from.
        meta: everything optional: scores, tags, language, dedup cluster, provenance. JSON-serialisable values only.
    """

    id: str
    text: str
    channel: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
