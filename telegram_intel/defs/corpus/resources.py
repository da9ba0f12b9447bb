"""Settings of the clean corpus that are secrets or deployment-wide (not per run)."""


import dagster as dg

from telegram_intel.config import Settings
from telegram_intel.pipeline.corpus import resolve_pseudonym_secret


class CorpusResource(dg.ConfigurableResource):
    """The pseudonym key for ``clean_messages``.

    ``pseudonym_secret`` may be given as ``dg.EnvVar("TELEGRAM_INTEL_PSEUDONYM_SECRET")``; left unset it falls
    back to that variable at run time, and — only on the embedded demo database — to a random key generated once
    under ``$TELEGRAM_INTEL_HOME/secrets/pseudonym_secret`` (mode 0600). With a configured database and no key the
    run fails with an explanation instead of inventing one.
    """

    pseudonym_secret: str | None = None

    def secret(self, settings: Settings) -> tuple[str, str]:
        """(secret, source) where source is resource | env | file."""
        return resolve_pseudonym_secret(settings, self.pseudonym_secret)
