"""Export files in the inbox (``$TELEGRAM_INTEL_HOME/inbox``) and their versions.

A version is ``<size>-<mtime_ns>``: it changes whenever the file is written again. The inbox sensor requests an import
for each file whose version it has not seen and tags the run with :data:`EXPORT_VERSION_TAG`; anything else that
imports an inbox file through Dagster (``telegram-intel demo``) tags its run the same way, so the sensor knows that
file, as it is now, is already imported and does not import it a second time.
"""

from __future__ import annotations

from pathlib import Path

#: Run tag: the version of the export file the run imported.
EXPORT_VERSION_TAG = "telegram_intel/export_version"


def export_version(path: str | Path) -> str:
    """``<size>-<mtime_ns>`` of the file now."""
    st = Path(path).stat()
    return f"{st.st_size}-{st.st_mtime_ns}"


def scan_inbox(inbox: Path) -> dict[str, str]:
    """Export files under ``inbox`` (their path relative to it, the partition key) → their version. Ground-truth files
    of the sample generator and hidden paths are left out."""
    found: dict[str, str] = {}
    if not inbox.is_dir():
        return found
    for path in sorted(inbox.rglob("*.json")):
        if path.name == "ground_truth.json" or any(part.startswith(".") for part in path.relative_to(inbox).parts):
            continue
        found[path.relative_to(inbox).as_posix()] = export_version(path)
    return found
