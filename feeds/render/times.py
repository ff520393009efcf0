"""How every page shows a time: in `source.timezone`, with the zone's offset, and with the
machine-readable value a `<time datetime>` attribute carries. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo


@dataclass(frozen=True)
class ShownTime:
    """One moment as the pages show it."""

    iso: str  # for <time datetime>: "2022-03-15T22:04:32+08:00"
    text: str  # for people: "2022-03-15 22:04 (UTC+08:00)"


def show_time(moment: datetime, zone: tzinfo) -> ShownTime:
    """`moment` (timezone-aware) in the site's zone. The offset, not the zone's name, says
    which zone: it reads the same in every language and never needs translating."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z")  # "+0800"
    return ShownTime(
        iso=local.isoformat(timespec="seconds"),
        text=f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:5]})",
    )
