"""The decision engine: incoming messages, photos and albums routed by an LLM (or offline rules) to actions.

``engine.DecisionEngine`` (the work), ``providers.ProviderChain`` (primary → fallback → offline), ``actions``
(registry, base class), the actions (``woocommerce.py``, ``spreadsheet.py`` → ``graph_excel.py`` / ``xlsx.py``,
``chain.py``, the follow-up in ``actions.py``), ``config.py`` (settings from the environment), ``report.py`` (what
the Dagster assets show), ``service.py`` (building an engine from the environment for the bot and jobs).
"""
