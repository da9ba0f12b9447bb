import time
import dagster as dg
import sqlalchemy as sa
from telegram_intel.defs.graph.assets import entities, knowledge_graph
from telegram_intel.llm.resource import LLMResource
from telegram_intel.resources import TelegramIntelResource
from telegram_intel_tests.graph.conftest import busiest_days


def test_explore(ti_env, engine, imported):
    res = {"telegram": TelegramIntelResource(), "llm": LLMResource(enabled=False)}
    with engine.connect() as c:
        print(c.execute(sa.text("select min(date), max(date), count(*) from clean_messages")).one())
    t = time.time()
    r = dg.materialize([entities], partition_key=busiest_days(engine, 1)[0], resources=res)
    print("one", time.time() - t)
    t = time.time()
    r = dg.materialize([entities], resources=res, tags={"dagster/asset_partition_range_start": "2025-04-01", "dagster/asset_partition_range_end": "2025-06-30"})
    print("range", time.time() - t)
    mat = r.asset_materializations_for_node("entities")[0]
    for k, v in mat.metadata.items():
        print(k, str(v.value)[:300])
    t = time.time()
    r = dg.materialize([knowledge_graph], resources=res)
    print("graph", time.time() - t)
    mat = r.asset_materializations_for_node("knowledge_graph")[0]
    for k, v in mat.metadata.items():
        print(k, str(v.value)[:1500] if k != "graph" else len(str(v.value)))
    import base64, re
    png = re.search(r"base64,([A-Za-z0-9+/=]+)", mat.metadata["graph"].value).group(1)
    open("/tmp/graph.png", "wb").write(base64.b64decode(png))
    from telegram_intel.defs.graph.expertise import user_expertise, user_connections
    for u in imported.truth["users"][:6]:
        print(u["job_label"], u["language"], u["opt_out"], [(i.kind, i.name, round(i.weight, 2), i.messages) for i in user_expertise(engine, u["user_id"], 8)])
    print(user_connections(engine, imported.owner_id))
    print([ (c.check_name, c.passed) for c in r.get_asset_check_evaluations()])
