"""Telethon (MTProto) as a TelegramSource: client config, login, TL → records mapping, history sync."""
