#!/bin/sh
# refresh.sh: rebuild the vendored browser files of the web door from the
# exact versions pinned in package.json / package-lock.json.
#
# npm ci runs in a temporary copy, so no node_modules is ever left in the
# repository; only the built files the page loads (and their licences) are
# copied back next to this script. Run it after changing a pinned version,
# then commit the changed files.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

cp "$here/package.json" "$here/package-lock.json" "$tmp/"
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

m="$tmp/node_modules"
cp "$m/@xterm/xterm/lib/xterm.js"         "$here/xterm.js"
cp "$m/@xterm/xterm/css/xterm.css"        "$here/xterm.css"
cp "$m/@xterm/addon-fit/lib/addon-fit.js" "$here/addon-fit.js"
cp "$m/@xterm/xterm/LICENSE"              "$here/LICENSE-xterm"
cp "$m/@xterm/addon-fit/LICENSE"          "$here/LICENSE-addon-fit"

echo "vendored @xterm/xterm $(node -p "require('$m/@xterm/xterm/package.json').version")," \
     "@xterm/addon-fit $(node -p "require('$m/@xterm/addon-fit/package.json').version")"
