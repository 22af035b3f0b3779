"""Camera zones: the part of a camera's view where recognition runs.

A zone is a simple polygon in normalised image coordinates (x right, y down, both in [0, 1]), so one zone fits
the camera whatever resolution it streams at. A face belongs to the zone when the centre of its box does; faces
outside it are dropped before the tracker, so they are never tracked, aligned or embedded (the seed's cameras
are "focused on a small, targeted area": the zone is how an operator says which area).

``Zone.parse`` is the one way in from outside (the API, the database): it refuses fewer than three points,
points outside [0, 1], repeated points, a polygon that crosses itself, and one with no area.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from openlfr.errors import OpenLFRError
from openlfr.types import FaceDetections

MAX_POINTS: Final = 64
MIN_AREA: Final = 1e-4
"""a zone smaller than a hundredth of a percent of the view is a mis-click, not an area"""
_EPS: Final = 1e-12

Point = tuple[float, float]


class ZoneError(OpenLFRError):
    """A zone that is not a usable polygon."""

    code = "zone_invalid"


@dataclass(frozen=True, slots=True)
class Zone:
    points: tuple[Point, ...]
    """the polygon's corners in order (either winding), normalised to the image: (0, 0) top left"""

    def __post_init__(self) -> None:
        _check(self.points)

    @classmethod
    def parse(cls, points: Sequence[Sequence[float]]) -> Zone:
        """A zone from ``[[x, y], ...]``; ZoneError when it is not a valid polygon."""
        parsed: list[Point] = []
        for point in points:
            if len(point) != 2:
                raise ZoneError("each zone point is [x, y]")
            x, y = (float(v) for v in point)
            parsed.append((x, y))
        return cls(tuple(parsed))

    def as_lists(self) -> list[list[float]]:
        return [[x, y] for x, y in self.points]

    @property
    def area(self) -> float:
        """The share of the view the zone covers (0-1)."""
        return abs(_signed_area(self.points))

    def describe(self) -> str:
        """One line for the deployment record and the signage."""
        return f"a {len(self.points)}-sided area covering {self.area * 100:.0f}% of the camera's view"

    def contains(self, xs: npt.ArrayLike, ys: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Which normalised points lie inside (even-odd rule; a point exactly on an edge may go either way)."""
        px, py = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
        inside = np.zeros(px.shape, bool)
        corners = self.points
        for (x1, y1), (x2, y2) in zip(corners, corners[1:] + corners[:1], strict=True):
            crosses = (y1 > py) != (y2 > py)
            # x of the edge at the point's height (only used where the edge spans that height)
            at = x1 + (py - y1) * (x2 - x1) / ((y2 - y1) if y2 != y1 else 1.0)
            inside ^= crosses & (px < at)
        return inside

    def keeps(self, detections: FaceDetections, width: int, height: int) -> npt.NDArray[np.intp]:
        """Indices of the detections (on a ``width`` × ``height`` image) whose box centre is in the zone."""
        if len(detections) == 0:
            return np.zeros((0,), np.intp)
        boxes = detections.boxes.astype(np.float64)
        xs = (boxes[:, 0] + boxes[:, 2]) / 2.0 / width
        ys = (boxes[:, 1] + boxes[:, 3]) / 2.0 / height
        return np.flatnonzero(self.contains(xs, ys)).astype(np.intp)


def _check(points: tuple[Point, ...]) -> None:
    if len(points) < 3:
        raise ZoneError("a zone needs at least three points")
    if len(points) > MAX_POINTS:
        raise ZoneError(f"a zone has at most {MAX_POINTS} points")
    for x, y in points:
        if not (np.isfinite(x) and np.isfinite(y) and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ZoneError("zone points are fractions of the image: x and y between 0 and 1")
    if len(set(points)) != len(points):
        raise ZoneError("a zone point is repeated")
    if _self_intersects(points):
        raise ZoneError("the zone's edges cross each other: draw its corners in order around the area")
    if abs(_signed_area(points)) < MIN_AREA:
        raise ZoneError("the zone covers no area")


def _signed_area(points: Sequence[Point]) -> float:
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, [*points[1:], points[0]], strict=True):
        total += x1 * y2 - x2 * y1
    return total / 2.0


def _orientation(a: Point, b: Point, c: Point) -> int:
    value = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return 0 if abs(value) < _EPS else (1 if value > 0 else -1)


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) - _EPS <= p[0] <= max(a[0], b[0]) + _EPS and (
        min(a[1], b[1]) - _EPS <= p[1] <= max(a[1], b[1]) + _EPS
    )


def _segments_meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    o1, o2, o3, o4 = _orientation(a, b, c), _orientation(a, b, d), _orientation(c, d, a), _orientation(c, d, b)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    return (
        (o1 == 0 and _on_segment(a, b, c))
        or (o2 == 0 and _on_segment(a, b, d))
        or (o3 == 0 and _on_segment(c, d, a))
        or (o4 == 0 and _on_segment(c, d, b))
    )


def _self_intersects(points: tuple[Point, ...]) -> bool:
    """Whether any two edges meet other than adjacent edges at their shared corner (also catches an edge that
    folds back along its neighbour)."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            adjacent = j == i + 1 or (i == 0 and j == n - 1)
            (a, b), (c, d) = edges[i], edges[j]
            if not adjacent:
                if _segments_meet(a, b, c, d):
                    return True
                continue
            # Adjacent edges share one corner; they overlap only if they fold back on one line.
            shared = b if j == i + 1 else a
            far_i = a if shared == b else b
            far_j = d if shared == c else c
            if _orientation(far_i, shared, far_j) == 0 and _dot(far_i, shared, far_j) > 0:
                return True
    return False


def _dot(p: Point, corner: Point, q: Point) -> float:
    """Dot product of corner→p and corner→q (positive: both point the same way)."""
    return (p[0] - corner[0]) * (q[0] - corner[0]) + (p[1] - corner[1]) * (q[1] - corner[1])
