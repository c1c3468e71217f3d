#!/usr/bin/env bash
# Installs everything SAFENet Lab needs on a fresh Debian machine with Node 20:
# Debian packages (Jupyter for notebooks, headless Chromium for static figures and render tests)
# and the pinned npm dependencies, Deno among them; then checks that Jupyter finds the project's
# Deno kernelspec (tools/jupyter/kernels/deno, run by tools/deno: nothing goes into the user's
# home; `deno task lab` and `render` put it on JUPYTER_PATH). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < <(grep -v '^\s*#' tools/ci_apt_packages.txt | grep -v '^\s*$')
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x node_modules/deno/deno ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
# Whole outputs first, then their lines: under pipefail a reader that stops early (head -1,
# grep -q) can break the writer's pipe and fail the check at random.
deno_version=$(node_modules/deno/deno --version)
echo "${deno_version%%$'\n'*}"
kernelspecs=$(JUPYTER_PATH=tools/jupyter jupyter kernelspec list 2>/dev/null || true)
if ! grep -q '^ *deno .*tools/jupyter/kernels/deno$' <<<"$kernelspecs"; then
  echo "setup: Jupyter does not find the project's Deno kernelspec in tools/jupyter/kernels/deno" >&2
  exit 1
fi
echo "setup: Deno kernel for Jupyter in tools/jupyter/kernels/deno; \`tools/deno task lab\` starts the notebooks"
