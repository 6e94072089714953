#!/usr/bin/env bash
# Debian's Chromium for the browser tests (apps/web/e2e), which drive it with playwright-core at
# /usr/bin/chromium. Nothing ever downloads a browser: when it is missing, apt installs it.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present)"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "chromium is missing at $CHROMIUM and apt-get is not available: install Chromium so that $CHROMIUM exists" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "chromium is missing at $CHROMIUM; run as root: apt-get update && apt-get install -y chromium" >&2
    exit 1
  fi
fi

$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
if [ ! -x "$CHROMIUM" ]; then
  echo "apt-get installed chromium but $CHROMIUM is still missing" >&2
  exit 1
fi
echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo installed)"
