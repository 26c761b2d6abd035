"""Transport modes: the :class:`Mode` enum and :func:`parse_modes`.

A leaf module (it imports only :mod:`hubopt._errors`), so that mode profiles, layers and
the network can all name modes without importing one another.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from hubopt._errors import LayerExtractionError


@enum.unique
class Mode(enum.StrEnum):
    """Transport mode of a layer."""

    ROAD = "road"
    RAIL = "rail"
    SEA = "sea"
    AIR = "air"

    @classmethod
    def parse(cls, value: Mode | str) -> Mode:
        """Return the mode named ``value``; raise ``ValueError`` naming the valid modes."""
        if isinstance(value, Mode):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            msg = f"unknown mode {value!r}; expected one of: {valid}"
            raise LayerExtractionError(msg) from None


ALL_MODES: tuple[Mode, ...] = tuple(Mode)


def parse_modes(modes: Iterable[Mode | str] | str | None) -> tuple[Mode, ...]:
    """Parse ``"road,rail"`` or a sequence of modes; ``None`` means all four."""
    if modes is None:
        return ALL_MODES
    items = modes.split(",") if isinstance(modes, str) else list(modes)
    out: list[Mode] = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        mode = Mode.parse(item)
        if mode not in out:
            out.append(mode)
    if not out:
        msg = "no mode given; expected some of: road, rail, sea, air"
        raise LayerExtractionError(msg)
    return tuple(out)


__all__ = ["ALL_MODES", "Mode", "parse_modes"]
