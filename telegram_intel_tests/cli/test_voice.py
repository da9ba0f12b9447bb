"""`telegram-intel transcribe FILE` and the voice domain's Definitions."""

from __future__ import annotations

import json

import click
import dagster as dg
from click.testing import CliRunner

from telegram_intel.cli.voice import register
from telegram_intel_tests.support.voice import EN_BUDGET


def cli() -> click.Group:
    @click.group()
    def main() -> None:
        pass

    register(main)
    return main


def test_transcribe_prints_json_with_segments(speech):
    res = CliRunner().invoke(cli(), ["transcribe", str(speech["en_budget"]), "--model", "tiny.en", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert all(w in data["text"].lower() for w in EN_BUDGET[1])
    assert data["language"] == "en" and data["model"] == "tiny.en" and data["segments"][0]["end"] > 0
    assert data["duration_s"] > 1 and data["real_time_factor"] > 0 and data["model_load_s"] > 0


def test_transcribe_plain_text_and_errors(speech, tmp_path):
    res = CliRunner().invoke(cli(), ["transcribe", str(speech["en_budget"]), "--model", "tiny.en", "--batched"])
    assert res.exit_code == 0, res.output
    assert "budget" in res.stdout.lower() and "RTF" in res.stderr

    bad = tmp_path / "voice.ogg"
    bad.write_bytes(b"\x00\x01garbage" * 100)
    res = CliRunner().invoke(cli(), ["transcribe", str(bad), "--model", "tiny.en"])
    assert res.exit_code == 1 and "voice.ogg" in res.output and ("unsupported_format" in res.output
                                                                 or "corrupt_audio" in res.output)
    res = CliRunner().invoke(cli(), ["transcribe", str(speech["en_budget"]), "--language", "xx"])
    assert res.exit_code == 2 and "unknown whisper language" in res.output
    res = CliRunner().invoke(cli(), ["transcribe", str(speech["en_budget"]), "--model", str(tmp_path / "nope")])
    assert res.exit_code == 1 and "does not exist" in res.output


def test_voice_definitions_load_with_the_shared_resources():
    from telegram_intel.definitions import defs

    dg.Definitions.validate_loadable(defs)
    assert {"telegram", "llm", "whisper"} <= set(defs.resources)
    graph = defs.resolve_asset_graph()
    transcripts, insights = dg.AssetKey("voice_transcripts"), dg.AssetKey("voice_insights")
    assert graph.get(insights).parent_keys == {transcripts}
    assert dg.AssetKey("telegram_messages") in graph.get(transcripts).parent_keys
    assert graph.get(transcripts).partitions_def == graph.get(insights).partitions_def is not None
    assert "voice" in (graph.get(transcripts).group_name, graph.get(insights).group_name)
