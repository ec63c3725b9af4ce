#!/usr/bin/env bash
# The test suite's browser test (zreclaim report) drives Debian's chromium through
# playwright-core, which downloads no browser. Install it when it is missing and we may.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "test: installing Debian's chromium for the report's browser test (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "test: the report's browser test needs /usr/bin/chromium: run 'sudo apt-get install chromium' (Debian) first" >&2
exit 1
