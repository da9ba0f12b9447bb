"""The TelegramSource seam: a Desktop export or a Telethon session in, lib.records out."""
