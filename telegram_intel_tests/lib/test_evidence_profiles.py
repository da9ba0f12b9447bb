"""The evidence profiler: own work counts, requests and private life do not, weak evidence abstains."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from telegram_intel.lib.evidence_profiles import EvidenceProfiler, method_name
from telegram_intel.ml.embedders import load_embedder
from telegram_intel_tools import devsets
from telegram_intel_tools.profile_eval import dev_report, dev_scores
from telegram_intel.lib.evidence_profiles import load_calibration

T = datetime(2025, 5, 1, tzinfo=timezone.utc)
SMALL_TALK = ["погода сегодня отличная", "кто смотрел матч вчера?", "ахаха 😂", "в пятницу собираемся?",
              "пробки жуткие на мосту", "кот опять всю ночь орал"]


def _msgs(texts):
    from telegram_intel.lib.profiles import CorpusMessage

    return [CorpusMessage(1, i, T, t) for i, t in enumerate(texts, 1)]


@pytest.fixture(scope="module")
def profiler():
    return EvidenceProfiler(load_embedder("embeddinggemma"))


def test_own_work_gives_the_sector_with_evidence(profiler):
    texts = SMALL_TALK + ["сегодня закончил укладку плитки в ванной у заказчика, завтра затирка швов",
                          "клиент опять поменял раскладку плитки, переделывать полдня"]
    guess = profiler.profile(_msgs(texts))
    assert guess.sector == "construction" and guess.method == method_name("embeddinggemma-300m")
    assert guess.confidence >= 50
    assert (1, 7) in {tuple(k) for k in guess.evidence_message_ids}
    assert not {tuple(k) for k in guess.evidence_message_ids} & {(1, i) for i in range(1, 7)}  # small talk is no evidence
    assert len(guess.alternatives) == 3 and guess.alternatives[0]["sector"] == "construction"
    assert all(a["job_label"] for a in guess.alternatives)


def test_asking_for_a_service_and_private_life_give_no_sector(profiler):
    texts = SMALL_TALK + ["посоветуйте хорошего сантехника, течёт кран на кухне",
                          "и стоматолога нормального тоже ищу, зуб болит",
                          "сделали ремонт на кухне сами, плитку выбирали две недели",
                          "испекла вчера пирог для детей"]
    guess = profiler.profile(_msgs(texts))
    assert guess.sector is None and guess.confidence == 0 and guess.status == "analyzed"


def test_visible_dev_half_meets_the_fitted_figures():
    """Regression guard on the independent dev set's visible half (figures in bench/README.md)."""
    report = dev_report(dev_scores("visible", load_embedder("embeddinggemma")), load_calibration())
    assert report["users_with_sector"]["top1"] >= 0.80
    attributed, total = map(int, report["no_signal_attributed"].split(" of "))
    assert attributed <= max(1, total // 10)
    assert len(devsets.load("profiles", "all", key="user")) >= 90
