#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (PostgreSQL for the storage tests; GStreamer's RTSP
# server with its Python bindings, run by Debian's python3, and ffmpeg for the video-source tests; Chromium
# for the console's browser tests, driven by Playwright without its own browser download; Node.js and npm for the
# console's JavaScript checks; strace for the test that nothing leaves the machine, tests/test_outbound.py).
# Idempotent and quiet when everything is present; needs root and apt-get otherwise.
set -euo pipefail
needed=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || needed+=(postgresql)
for package in python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
  gstreamer1.0-plugins-bad gstreamer1.0-tools ffmpeg chromium strace; do
  dpkg -s "$package" >/dev/null 2>&1 || needed+=("$package")
done
# Node.js and npm install the console's JavaScript checks and axe-core (tools/js); any Node >= 18.18 will do.
command -v npm >/dev/null 2>&1 || needed+=(nodejs npm)
[ ${#needed[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "warning: missing system packages (${needed[*]}); install them to run every test" >&2
  exit 0
fi
echo "installing system packages: ${needed[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
