import time
import dagster as dg
import sqlalchemy as sa
from telegram_intel.defs.graph.assets import entities, knowledge_graph
from telegram_intel.defs.graph import store
from telegram_intel.llm.resource import LLMResource
from telegram_intel.resources import TelegramIntelResource


def test_explore(ti_env, engine, imported):
    res = {"telegram": TelegramIntelResource(), "llm": LLMResource(enabled=False)}
    r = dg.materialize([entities], resources=res, tags={"dagster/asset_partition_range_start": "2025-04-01", "dagster/asset_partition_range_end": "2025-06-30"})
    orig = store.Connection if hasattr(store, "Connection") else None
    import sqlalchemy.engine.base as b
    real = b.Connection.execute
    def timed(self, stmt, *a, **k):
        t = time.time(); out = real(self, stmt, *a, **k); d = time.time() - t
        if d > 0.05: print(round(d, 3), str(stmt)[:90].replace("\n", " "))
        return out
    b.Connection.execute = timed
    t = time.time(); store.rebuild_graph(engine); print("rebuild", time.time() - t)
    with engine.connect() as conn:
        t = time.time(); store.top_entities(conn); print("top", time.time() - t)
        t = time.time(); n, e = store.picture_data(conn); print("pic data", time.time() - t)
    b.Connection.execute = real
    from telegram_intel.defs.graph_plots import graph_picture_markdown
    t = time.time(); graph_picture_markdown(n, e, title="x"); print("pic", time.time() - t)
