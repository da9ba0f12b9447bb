"""Voice transcription speed: real-time factor (processing time / audio time) of the packaged whisper models.

Speech is made with espeak-ng (Debian) — about 60 s of English and of Russian text — so the figure answers seed
004's target (< 2 s of processing per 60 s of audio). Each configuration loads its model once, transcribes the
clip once to warm up, then ``--runs`` times; the table gives the median (and min–max) and the share of the
spoken words (longer than 3 letters) found in the transcript, a rough quality check that no configuration buys
speed with garbage.

    python bench/voice_bench.py                      # all configurations, 3 runs each
    python bench/voice_bench.py --runs 5 --only tiny.en
    python bench/voice_bench.py --device cuda        # on a GPU box (float16)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram_intel.ml.whisper import Transcriber, decode  # noqa: E402

EN_TEXT = (
    "Good morning everyone, this is a quick update before the weekly meeting. "
    "The quarterly budget report is almost ready, but the numbers for March still look wrong, "
    "so please check the invoices from the supplier before Friday. "
    "Maria will send the corrected spreadsheet to the finance team this afternoon. "
    "We also need to decide about the new office. The landlord called yesterday and said the contract "
    "can start on the first of July if we sign next week. "
    "I think the second floor is better because it has more light and a bigger kitchen, "
    "but it costs about ten percent more. "
    "Please think about it and tell me what you prefer by Wednesday. "
    "One more thing: the client from Berlin wants a demo of the new dashboard on Thursday at three o'clock. "
    "Alex, can you prepare the test data and make sure the charts load quickly? "
    "If anything is unclear, call me after lunch. Thanks a lot, and have a good day."
)
RU_TEXT = (
    "Доброе утро, коллеги. Коротко о планах на неделю. "
    "Отчёт по бюджету почти готов, но цифры за март пока не сходятся, "
    "поэтому проверьте, пожалуйста, счета поставщика до пятницы. "
    "Мария сегодня отправит исправленную таблицу в финансовый отдел. "
    "Ещё нужно решить вопрос с новым офисом. Вчера звонил арендодатель и сказал, "
    "что договор может начаться первого июля, если мы подпишем его на следующей неделе. "
    "Мне больше нравится второй этаж, там больше света и большая кухня, "
    "но он дороже примерно на десять процентов. "
    "Подумайте и напишите мне до среды. "
    "И последнее: клиент из Берлина хочет посмотреть новую панель в четверг в три часа. "
    "Саша, подготовь, пожалуйста, тестовые данные. Если что-то непонятно, звоните после обеда. Спасибо."
)

# (label, model, language, speech, beam_size, batched)
CONFIGS = [
    ("tiny.en", "tiny.en", "en", "en", 5, False),
    ("tiny.en", "tiny.en", "en", "en", 1, False),
    ("tiny.en", "tiny.en", "en", "en", 5, True),
    ("base", "base", "en", "en", 5, False),
    ("base", "base", "en", "en", 1, False),
    ("base", "base", "en", "en", 5, True),
    ("base", "base", "ru", "ru", 5, False),
    ("base", "base", "ru", "ru", 1, False),
    ("base", "base", "ru", "ru", 5, True),
]


def speak(text: str, voice: str, path: Path) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True, capture_output=True)
    return path


def word_recall(spoken: str, heard: str) -> float:
    def words(t: str) -> set[str]:
        return {w for w in re.findall(r"[^\W\d_]+", t.lower()) if len(w) > 3}

    truth = words(spoken)
    return len(truth & words(heard)) / len(truth) if truth else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="run only configurations of this model (tiny.en or base)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cpu-threads", type=int, default=0, help="CTranslate2 threads (0 = its default)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="voice-bench-"))
    clips = {"en": speak(EN_TEXT, "en", work / "en.wav"), "ru": speak(RU_TEXT, "ru", work / "ru.wav")}
    texts = {"en": EN_TEXT, "ru": RU_TEXT}
    audio = {k: decode(p) for k, p in clips.items()}
    durations = {k: a.shape[0] / 16000 for k, a in audio.items()}
    print(f"speech: en {durations['en']:.1f} s, ru {durations['ru']:.1f} s (espeak-ng, 150 wpm); device {args.device}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)

    results = []
    loaded: dict[tuple, Transcriber] = {}
    for label, model, language, clip, beam, batched in CONFIGS:
        if args.only and label != args.only:
            continue
        key = (model, beam, batched)
        if key not in loaded:
            started = time.perf_counter()
            loaded[key] = Transcriber(model, device=args.device, beam_size=beam, batched=batched,
                                      cpu_threads=args.cpu_threads)
            load_s = time.perf_counter() - started
        transcriber = loaded[key]
        transcriber.transcribe(audio[clip], language=language)  # warm-up
        times, text = [], ""
        for _ in range(args.runs):
            result = transcriber.transcribe(audio[clip], language=language)
            times.append(result.processing_s)
            text = result.text
        med = statistics.median(times)
        row = {
            "model": model, "speech": clip, "language": language, "beam_size": beam, "batched": batched,
            "device": transcriber.device, "compute_type": transcriber.compute_type,
            "audio_s": round(durations[clip], 1), "runs": args.runs,
            "median_s": round(med, 2), "min_s": round(min(times), 2), "max_s": round(max(times), 2),
            "rtf": round(med / durations[clip], 4), "s_per_60s": round(60 * med / durations[clip], 2),
            "word_recall": round(word_recall(texts[clip], text), 2), "model_load_s": round(load_s, 2),
        }
        results.append(row)
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr)

    print(f"\nMachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} at the end; device {args.device}, cpu_threads {args.cpu_threads}\n")
    print("| Model | Speech | Mode | Compute | Audio | Processing, median (min–max) of "
          f"{args.runs} | RTF | s per 60 s audio | Words recalled |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        mode = ("batched" if r["batched"] else "sequential") + f", beam {r['beam_size']}"
        lang = r["language"] + (" (forced)" if r["model"] != "tiny.en" and r["language"] == "ru" else "")
        print(f"| {r['model']} | {lang} | {mode} | {r['device']}/{r['compute_type']} | {r['audio_s']} s | "
              f"{r['median_s']} s ({r['min_s']}–{r['max_s']}) | {r['rtf']} | {r['s_per_60s']} | "
              f"{r['word_recall']:.0%} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
