#!/usr/bin/env bash
# Installs everything the tests need — Debian packages when missing (chromium, ffmpeg, coturn, espeak-ng, nftables, redis-server, haproxy, and the seed's Python
# client: aiortc, aiohttp, opencv, av, dotenv; GStreamer's webrtcbin and x264enc with Python bindings), the npm dependencies — builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v turnserver >/dev/null 2>&1 || need+=(coturn)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
# nftables drops packets inside the packet-loss e2e test's own network namespace (the kernel has no netem).
command -v nft >/dev/null 2>&1 || need+=(nftables)
# The fleet e2e test starts its own Redis and HAProxy (and PostgreSQL, above).
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
/usr/bin/python3 -c 'import aiortc, aiohttp, cv2, av, dotenv' >/dev/null 2>&1 ||
  need+=(python3-aiortc python3-aiohttp python3-opencv python3-av python3-dotenv)
# GStreamer's webrtcbin and x264enc, driven from Python (the H.264 publisher of the gst-h264 e2e test).
/usr/bin/python3 -c 'import gi; gi.require_version("Gst", "1.0"); gi.require_version("GstWebRTC", "1.0"); gi.require_version("GstSdp", "1.0")
from gi.repository import Gst, GstWebRTC, GstSdp
Gst.init(None); assert all(Gst.ElementFactory.find(e) for e in ("webrtcbin", "nicesrc", "x264enc", "rtph264pay", "y4mdec", "decodebin", "clocksync"))' >/dev/null 2>&1 ||
  need+=(python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-bad-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
    gstreamer1.0-plugins-ugly gstreamer1.0-nice)
if ((${#need[@]})); then
  echo "installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# onnxruntime-node's install script would download GPU binaries; its CPU binaries ship in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
# node-av's postinstall downloads an ffmpeg CLI from GitHub that nothing here uses (its libraries ship in its binary package).
export SKIP_FFMPEG=true
npm ci --no-audit --no-fund
npm run build
# Lint (typescript-eslint, the layer order) and formatting (Prettier) before any test.
npm run lint

# Servers the tests start keep their session history in memory unless a test names a database.
export SIGHTLINE_DB=:memory:
mapfile -t files < <(find packages -path '*/node_modules' -prune -o -path '*/dist' -prune -o -name '*.test.ts' -print | sort)
# One file at a time: the browser and seed-client tests need the machine's cores to themselves.
node --import tsx --test --test-concurrency=1 --test-timeout=180000 "${files[@]}"
