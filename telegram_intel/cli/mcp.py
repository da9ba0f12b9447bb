"""`telegram-intel mcp`: the MCP server (``telegram_intel/mcp/``) over stdio or streamable HTTP."""

from __future__ import annotations

import secrets
import sys

import click


def register(main: click.Group) -> None:
    """Add the ``mcp`` command to the ``telegram-intel`` group."""

    @main.command("mcp")
    @click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True,
                  help="stdio: for an MCP client that starts this command; http: streamable HTTP at "
                       "http://HOST:PORT/mcp (needs an access token).")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8766, show_default=True, type=click.IntRange(0, 65535))
    @click.option("--token", envvar="TELEGRAM_INTEL_MCP_TOKEN", default=None,
                  help="Access token every HTTP request must send as 'Authorization: Bearer <token>' (also "
                       "$TELEGRAM_INTEL_MCP_TOKEN).")
    @click.option("--generate-token", is_flag=True, help="Make up a random access token and print it (HTTP).")
    @click.option("--model", default=None,
                  help="Embedding model of the search (default $TELEGRAM_INTEL_SEARCH_MODEL, embeddinggemma).")
    @click.option("--model-key", help="message_embeddings.model key, when it differs from the model's name.")
    @click.option("--local-model", default=None,
                  help="GGUF the local LLM tier serves for the ask tool when no TELEGRAM_INTEL_LLM_BASE_URL is set "
                       "(default $TELEGRAM_INTEL_ASK_LOCAL_MODEL or qwen2.5-coder-1.5b when present; 'none': never).")
    def mcp_cmd(transport: str, host: str, port: int, token: str | None, generate_token: bool, model: str | None,
                model_key: str | None, local_model: str | None) -> None:
        """Serve read-only MCP tools over your knowledge base: search_messages, get_message, list_people,
        get_profile, graph_neighbours, chat_statistics, ask.

        Message text is the cleaned corpus (PII masked); people who opted out or were forgotten never appear.
        Over HTTP every request needs the access token; beyond loopback, put TLS in front of it.
        """
        if transport == "http":
            if generate_token and not token:
                token = secrets.token_urlsafe(24)
            if not token:
                raise click.UsageError("--transport http needs an access token: --token, $TELEGRAM_INTEL_MCP_TOKEN "
                                       "or --generate-token")
        from telegram_intel.config import load_settings
        from telegram_intel.db.engine import open_engine
        from telegram_intel.mcp.server import HTTPServer, Tools, build_server
        from telegram_intel.pipeline.ask import default_local_model, open_llm_tier
        from telegram_intel.pipeline.names import PseudonymNames, pseudonym_secret

        settings = load_settings()
        model = model or settings.search_model
        model_key = model_key or (settings.search_model_key if model == settings.search_model else None)
        local = default_local_model() if local_model is None else (None if local_model == "none" else local_model)

        def embedder():
            from telegram_intel.ml.embedders import EmbedderError, load_embedder

            try:
                return load_embedder(model, name=model_key)
            except EmbedderError as exc:
                click.echo(f"note: the embedding model {model!r} could not be loaded ({exc}); search matches words "
                           "only", err=True)
                return None

        with open_engine(settings) as engine:
            tools = Tools(engine, embedder=embedder, llm=lambda: open_llm_tier(engine, local_model=local),
                          names=PseudonymNames(pseudonym_secret(settings)), model_key=model_key)
            server = build_server(tools)
            try:
                if transport == "stdio":
                    server.run("stdio")
                    return
                http = HTTPServer(server, token=token, host=host, port=port)
                click.echo(f"MCP over streamable HTTP at {http.url} (send 'Authorization: Bearer <token>'; "
                           "Ctrl+C stops)", err=True)
                if generate_token:
                    click.echo(f"access token: {token}", err=True)
                sys.stderr.flush()
                try:
                    http.serve_forever()
                except KeyboardInterrupt:
                    pass
            finally:
                tools.close()
