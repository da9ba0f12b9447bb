"""``profile_settings_sensor``: a new minimum or daily maximum on the Settings page runs ``user_profiles``.

Without it a changed setting waited for the next new messages (the asset's automation condition follows its
upstream data, not the ``app_settings`` table), so raising the minimum changed nothing anyone could see. The cursor
is the settings' last change time; the run key repeats it, so one change starts one run."""

import dagster as dg

from telegram_intel.defs.resources import TelegramIntelResource
from telegram_intel.pipeline.profiles import profile_settings_changed_at


@dg.sensor(
    asset_selection=dg.AssetSelection.assets("user_profiles"),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs user_profiles after the Settings page changed the minimum messages or the daily maximum.",
)
def profile_settings_sensor(context: dg.SensorEvaluationContext, telegram: TelegramIntelResource):
    changed = profile_settings_changed_at(telegram.engine)
    if changed is None:
        return dg.SkipReason("the profile settings are at their defaults")
    stamp = changed.isoformat()
    if context.cursor == stamp:
        return dg.SkipReason(f"no change since {stamp}")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"profile-settings-{stamp}")], cursor=stamp)
