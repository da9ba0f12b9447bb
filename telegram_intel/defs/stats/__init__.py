"""Chat and user statistics (assets in ``assets.py``, SQL in ``store.py``)."""
