"""Voice messages: faster-whisper transcripts (`voice_transcripts`) and their LLM/offline analyses
(`voice_insights`)."""
