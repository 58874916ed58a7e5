"""Which backups a folder keeps.

Daily backups: the newest of each of the last 7 days that have one, of each of the last
4 weeks (ISO weeks) and of each of the last 12 months — days, weeks and months of the
agent's clock. The backups taken before an import, a merge, an upgrade or a restore:
those of the last 30 days, at most the 20 newest, and always the newest of each kind,
however old, so that the state before the last import can be found again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from db.backups.pieces import remove_contents
from db.backups.store import PARTIAL, parse_name, sidecar

DAILY, WEEKLY, MONTHLY = 7, 4, 12
EVENT_DAYS, EVENT_MAX = 30, 20
PERIODIC = "quotidienne"
STALE_PARTIAL_S = 24 * 3600  # a partial file that old was left by a killed process


def _newest_per_bucket(stamps: list[datetime], bucket: Callable[[datetime], object],
                       count: int) -> set[datetime]:
    newest: dict[object, datetime] = {}
    for stamp in stamps:
        key = bucket(stamp.astimezone())
        if key not in newest or stamp > newest[key]:
            newest[key] = stamp
    return {newest[key] for key in sorted(newest, reverse=True)[:count]}


def kept(names: Iterable[str], now: datetime) -> set[str]:
    """The file names (of backups) to keep out of *names*, at *now*."""
    parsed = {name: parse_name(name) for name in names}
    parsed = {name: value for name, value in parsed.items() if value is not None}
    daily = sorted(stamp for kind, stamp in parsed.values() if kind == PERIODIC)
    keep_daily = (_newest_per_bucket(daily, lambda s: s.date(), DAILY)
                  | _newest_per_bucket(daily, lambda s: s.isocalendar()[:2], WEEKLY)
                  | _newest_per_bucket(daily, lambda s: (s.year, s.month), MONTHLY))
    events = sorted(((stamp, name) for name, (kind, stamp) in parsed.items()
                     if kind != PERIODIC), reverse=True)
    recent = [name for stamp, name in events if now - stamp <= timedelta(days=EVENT_DAYS)]
    keep_events = set(recent[:EVENT_MAX])
    latest_kinds: set[str] = set()
    for _stamp, name in events:
        kind = parsed[name][0]
        if kind not in latest_kinds:
            latest_kinds.add(kind)
            keep_events.add(name)
    return {name for name, (kind, stamp) in parsed.items()
            if (kind == PERIODIC and stamp in keep_daily) or name in keep_events}


def rotate(folder: Path, now: datetime) -> list[Path]:
    """Delete the backups of *folder* that the rotation no longer keeps (and their
    sidecars, and partial files left by a killed process); return those deleted."""
    files = [path for path in folder.glob("*.sqlite") if parse_name(path.name)]
    keep = kept((path.name for path in files), now)
    removed = []
    for path in files:
        if path.name not in keep:
            path.unlink(missing_ok=True)
            sidecar(path).unlink(missing_ok=True)
            remove_contents(path)
            removed.append(path)
    for path in folder.glob(f"*{PARTIAL}"):
        try:
            if time.time() - path.stat().st_mtime > STALE_PARTIAL_S:
                path.unlink(missing_ok=True)
        except OSError:
            continue
    return removed
