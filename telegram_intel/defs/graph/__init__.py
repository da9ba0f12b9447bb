"""Entities and the knowledge graph (assets in ``assets.py``, SQL in ``store.py``, readers in ``expertise.py``)."""
