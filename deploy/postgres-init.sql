-- Runs once, when the pgvector/pgvector container initializes an empty data volume (deploy/compose.yaml).
-- The Dagster instance (runs, events, schedules) gets its own database: both it and the application keep an
-- alembic_version table of their own.
CREATE DATABASE dagster;
\connect telegram_intel
CREATE EXTENSION IF NOT EXISTS vector;
