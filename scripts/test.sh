#!/usr/bin/env bash
# Installs everything the tests need — Debian packages when missing (chromium, ffmpeg, coturn, espeak-ng, and the seed's Python
# client: aiortc, aiohttp, opencv, av, dotenv), the npm dependencies — builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v turnserver >/dev/null 2>&1 || need+=(coturn)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
/usr/bin/python3 -c 'import aiortc, aiohttp, cv2, av, dotenv' >/dev/null 2>&1 ||
  need+=(python3-aiortc python3-aiohttp python3-opencv python3-av python3-dotenv)
if ((${#need[@]})); then
  echo "installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# onnxruntime-node's install script would download GPU binaries; its CPU binaries ship in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
npm run build
# Lint (typescript-eslint, the layer order) and formatting (Prettier) before any test.
npm run lint

# Servers the tests start keep their session history in memory unless a test names a database.
export SIGHTLINE_DB=:memory:
mapfile -t files < <(find packages -path '*/node_modules' -prune -o -path '*/dist' -prune -o -name '*.test.ts' -print | sort)
# One file at a time: the browser and seed-client tests need the machine's cores to themselves.
node --import tsx --test --test-concurrency=1 --test-timeout=180000 "${files[@]}"
