"""Chat and user statistics (assets in ``assets.py``; the work in ``pipeline/stats.py``)."""
