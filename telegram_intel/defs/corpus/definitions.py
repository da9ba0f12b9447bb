import dagster as dg

from telegram_intel.defs.corpus.assets import clean_messages
from telegram_intel.defs.corpus.checks import clean_messages_no_ignored_users, clean_messages_no_unmasked_pii
from telegram_intel.defs.corpus.resources import CorpusResource

defs = dg.Definitions(
    assets=[clean_messages],
    asset_checks=[clean_messages_no_ignored_users, clean_messages_no_unmasked_pii],
    resources={"corpus": CorpusResource()},
)
