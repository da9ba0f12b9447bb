"""Live Telegram (Telethon): login, incremental history sync, participants, media, real-time listener."""
