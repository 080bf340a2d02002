#!/usr/bin/env bash
# Installs the front-end assets from the npm registry (package-lock.json) and copies
# the files the pages use into static/vendor/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "错误：未找到 npm。请安装 Node.js 20+（含 npm）后重试；页面样式与 htmx 由 npm 安装。" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error >/dev/null
out=static/vendor
rm -rf "$out" && mkdir -p "$out/bootstrap" "$out/bootstrap-icons" "$out/htmx"
# The source maps too: the minified files name them, and production's manifest storage
# (collectstatic) fails on a reference to a missing file.
cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map "$out/bootstrap/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map "$out/bootstrap/"
cp node_modules/bootstrap-icons/font/bootstrap-icons.min.css "$out/bootstrap-icons/"
cp -r node_modules/bootstrap-icons/font/fonts "$out/bootstrap-icons/"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx/"
echo "front-end assets installed in $out"
