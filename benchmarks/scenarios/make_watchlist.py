"""Write the watchlist folder that ``benchmarks/scenarios/shared_video.json`` is scored against.

Signers A-D: frames 5, 25 and 45 of help.mkv, please.mkv, school.mkv and night.mkv (clips the scenario does not
play); lin_manuel_miranda: video/hamilton_refs; obama: faces/knn/obama (other photos than the clip's). Signer E
(hungry.mkv) and everyone in the crowd clip are on no list.

    .venv/bin/python benchmarks/scenarios/make_watchlist.py OUT_DIR
    .venv/bin/lfr eval scenarios benchmarks/scenarios/shared_video.json --watchlist OUT_DIR [--json]
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import cv2

ENROL_CLIP = {"signer_A": "help.mkv", "signer_B": "please.mkv", "signer_C": "school.mkv", "signer_D": "night.mkv"}
FRAMES = (5, 25, 45)


def main() -> None:
    out = Path(sys.argv[1])
    data = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data"))
    for signer, clip in ENROL_CLIP.items():
        folder = out / signer
        folder.mkdir(parents=True, exist_ok=True)
        capture = cv2.VideoCapture(str(data / "video" / "asl" / clip))
        for index in range(max(FRAMES) + 1):
            ok, image = capture.read()
            if not ok:
                raise SystemExit(f"{clip}: cannot read frame {index}")
            if index in FRAMES:
                cv2.imwrite(str(folder / f"{index}.png"), image)
        capture.release()
    for subject, source in (
        ("lin_manuel_miranda", data / "video" / "hamilton_refs" / "lin_manuel_miranda"),
        ("obama", data / "faces" / "knn" / "obama"),
    ):
        shutil.copytree(source, out / subject, dirs_exist_ok=True)
    print(out)


if __name__ == "__main__":
    main()
