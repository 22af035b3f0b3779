"""Camera zones: which polygons are accepted, and which detections fall inside."""

from __future__ import annotations

import numpy as np
import pytest

from openlfr.types import FaceDetections
from openlfr.zone import Zone, ZoneError

SQUARE = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]
# An L: the top-right quarter of the unit square is cut away (concave).
ELL = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]


@pytest.mark.parametrize(
    ("points", "why"),
    [
        ([[0.1, 0.1], [0.9, 0.1]], "at least three"),
        ([[0.1, 0.1], [1.2, 0.1], [0.5, 0.9]], "between 0 and 1"),
        ([[0.1, -0.01], [0.9, 0.1], [0.5, 0.9]], "between 0 and 1"),
        ([[0.1, 0.1], [float("nan"), 0.1], [0.5, 0.9]], "between 0 and 1"),
        ([[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]], "cross"),  # a bow tie
        ([[0.1, 0.1], [0.9, 0.1], [0.5, 0.1]], "cross"),  # folds back on its own edge
        ([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9], [0.1, 0.9], [0.5, 0.5]], "repeated"),
        ([[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.5, 0.1], [0.1, 0.9]], "cross"),  # a corner touches an edge
        ([[0.1, 0.1], [0.1001, 0.1], [0.1, 0.1001]], "no area"),
        ([[0.1, 0.1, 0.1], [0.9, 0.1], [0.5, 0.9]], "[x, y]"),
        ([[i / 100, (i % 2) / 2] for i in range(65)], "at most 64"),
    ],
)
def test_refuses_what_is_not_a_simple_polygon_in_the_image(points: list[list[float]], why: str) -> None:
    with pytest.raises(ZoneError, match=why.replace("[", r"\[").replace("]", r"\]")):
        Zone.parse(points)


def test_accepts_a_concave_polygon_in_either_winding() -> None:
    for points in (ELL, ELL[::-1]):
        zone = Zone.parse(points)
        assert zone.area == pytest.approx(0.75)
        inside = zone.contains(np.array([0.25, 0.75, 0.75, 0.25]), np.array([0.25, 0.25, 0.75, 0.75]))
        assert inside.tolist() == [True, False, True, True]  # the cut-away corner is outside


def test_keeps_detections_by_box_centre() -> None:
    zone = Zone.parse(SQUARE)
    # on a 200x100 image: centres at (60,30) inside, (150,30) outside, and a box that overlaps the zone
    # but whose centre (110, 30) is outside it
    boxes = np.array([[50, 20, 70, 40], [140, 20, 160, 40], [90, 20, 130, 40]], np.float32)
    detections = FaceDetections(boxes, np.ones(3, np.float32), np.zeros((3, 5, 2), np.float32))
    assert zone.keeps(detections, 200, 100).tolist() == [0]
    assert zone.keeps(FaceDetections.empty(), 200, 100).tolist() == []


def test_round_trips_and_describes_itself() -> None:
    zone = Zone.parse(SQUARE)
    assert Zone.parse(zone.as_lists()) == zone
    assert zone.describe() == "a 4-sided area covering 16% of the camera's view"
