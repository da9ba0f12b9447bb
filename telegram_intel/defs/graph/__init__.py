"""Entities and the knowledge graph (assets in ``assets.py``; the work in ``pipeline/graph.py`` and ``pipeline/expertise.py``)."""
