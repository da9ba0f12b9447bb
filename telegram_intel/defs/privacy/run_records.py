"""Finding and deleting the Dagster runs whose records name an erased person.

Dagster stores a run's tags, its config and every event (metadata, check results, log lines) but has no way to
edit an event: the unit it can delete is the run (``DagsterInstance.delete_run`` removes the run and its event
log). So a run whose records contain the erased id (as a whole number) or the person's pseudonym is deleted;
runs still in progress are left for the next evaluation.
"""

import re
from collections.abc import Iterable

import dagster as dg

FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def needle_pattern(user_id: int, pseudonyms: Iterable[str] = ()) -> re.Pattern:
    """The id as a whole number (not inside a longer one) or any of the pseudonyms."""
    parts = [rf"(?<!\d){abs(int(user_id))}(?!\d)", *(re.escape(p) for p in pseudonyms if p)]
    return re.compile("|".join(parts))


def run_mentions(instance: dg.DagsterInstance, run: dg.DagsterRun, pattern: re.Pattern) -> bool:
    if pattern.search(dg.serialize_value(run.tags)) or pattern.search(dg.serialize_value(run.run_config)):
        return True
    return any(pattern.search(dg.serialize_value(entry)) for entry in instance.all_logs(run.run_id))


def delete_runs_mentioning(instance: dg.DagsterInstance, patterns: list[re.Pattern]) -> tuple[list[str], int]:
    """Delete every finished run whose records match one of ``patterns``: (deleted run ids, unfinished runs that
    could not be checked yet)."""
    deleted, pending = [], 0
    for record in instance.get_run_records():
        run = record.dagster_run
        if run.status not in FINISHED:
            pending += 1
            continue
        if any(run_mentions(instance, run, p) for p in patterns):
            instance.delete_run(run.run_id)
            deleted.append(run.run_id)
    return deleted, pending
