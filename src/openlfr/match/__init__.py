"""Searching a gallery of templates: the ``VectorIndex`` protocol and its exact / FAISS backends."""

from openlfr.match.index import (
    DEFAULT_FAISS_MIN_GALLERY,
    Backend,
    FaissParams,
    SearchHit,
    VectorIndex,
    build_index,
)

__all__ = [
    "DEFAULT_FAISS_MIN_GALLERY",
    "Backend",
    "FaissParams",
    "SearchHit",
    "VectorIndex",
    "build_index",
]
