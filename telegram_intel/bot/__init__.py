"""Telegram bot service (aiogram 3): voice insight, persona chat, decision engine."""
