"""`collect_stats` (what `telegram-intel stats --json` prints) against the sample's ground truth."""

from __future__ import annotations

import json

from telegram_intel.db.queries import collect_stats
from telegram_intel.pipeline.ingest import import_export
from telegram_intel_tools.sample_data import load_ground_truth, write_sample_export


def test_stats_match_the_samples_ground_truth(engine, storage_dir, tmp_path):
    """The sample's pinned-message service entries point at a message (stored in reply_to_message_id, as Telethon
    does) but are not replies: `replies` equals the ground truth's count (778 on the README's 3,000-message sample,
    not 793), and the pins are counted apart."""
    out = tmp_path / "sample"
    write_sample_export(out, messages=3000)  # the README demo's sample (same arguments as `demo`)
    truth = load_ground_truth(out)["counts"]
    export = json.loads((out / "result.json").read_text(encoding="utf-8"))
    pins = sum(1 for chat in export["chats"]["list"] for m in chat["messages"] if m.get("action") == "pin_message")
    assert pins > 0  # the sample has them, so the two counts differ

    import_export(engine, out / "result.json", storage_dir)
    stats = collect_stats(engine)

    assert stats["replies"] == truth["replies"] == 778
    assert stats["service_references"] == pins
    for key in ("messages", "service_messages", "forwards", "edited", "chats"):
        assert stats[key] == truth[key], key
