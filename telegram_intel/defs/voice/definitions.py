import dagster as dg

from telegram_intel.defs.voice.insights import voice_insights
from telegram_intel.defs.voice.resources import WhisperResource
from telegram_intel.defs.voice.transcripts import voice_transcripts

# Resources "telegram" and "llm" come from the root definitions; "whisper" is this domain's own. Its fields fall
# back to TELEGRAM_INTEL_WHISPER_MODEL / _DEVICE / _LANGUAGE at run time (default: packaged multilingual `base`).
defs = dg.Definitions(
    assets=[voice_transcripts, voice_insights],
    resources={"whisper": WhisperResource()},
)
