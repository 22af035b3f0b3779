"""A tiny GStreamer RTSP server serving one video file, for tests.

Run with Debian's own interpreter (``/usr/bin/python3``): a virtual environment cannot import ``gi``.
Each client gets the file from its start, without re-encoding. Prints ``READY <port>`` once listening
and runs until killed.

    /usr/bin/python3 rtsp_server.py --port 8554 --file clip.mp4 --path /stream
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

DEMUXERS = {".mp4": "qtdemux", ".mov": "qtdemux", ".mkv": "matroskademux"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--file", required=True, help="H.264 video in an mp4/mov/mkv container")
    parser.add_argument("--path", default="/stream")
    args = parser.parse_args()
    demuxer = next((d for ext, d in DEMUXERS.items() if args.file.lower().endswith(ext)), None)
    if demuxer is None:
        print(f"unsupported container: {args.file}", file=sys.stderr)
        return 2
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    location = args.file.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_launch(
        f'( filesrc location="{location}" ! {demuxer} name=d d.video_0 ! queue ! '
        "h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(False)  # every client gets its own pipeline, from the start of the file
    server.get_mount_points().add_factory(args.path, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    print(f"READY {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
