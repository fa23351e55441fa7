#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, test and run
# kr-uvshim. Idempotent and quiet when everything is already there.
set -euo pipefail

PKGS=(libuv1-dev pkg-config libclang-dev valgrind make gcc)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

# The C tests validate the JSON report with python3 (any install of it).
command -v python3 >/dev/null 2>&1 || missing+=(python3)

if [ "${#missing[@]}" -gt 0 ]; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "bootstrap: missing ${missing[*]} and no apt-get here: install them by hand" >&2
		exit 1
	fi
	SUDO=()
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			SUDO=(sudo)
		else
			echo "bootstrap: missing ${missing[*]}; not root and no sudo" >&2
			exit 1
		fi
	fi
	echo "bootstrap: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${SUDO[@]}" apt-get update -qq
	"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# cargo: rustup's lives in ~/.cargo/bin, which a non-login shell may lack
# (the Makefile and .ci/run add it to PATH).
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v cargo >/dev/null 2>&1; then
	if [ -x "$cargo_bin/cargo" ]; then
		echo "bootstrap: note: cargo is in $cargo_bin, which is not on PATH" >&2
	else
		cat >&2 <<'MSG'
bootstrap: cargo (Rust >= 1.85) is missing. Install Rust with rustup
(https://rustup.rs), e.g.:
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  . "$HOME/.cargo/env"
then run this again.
MSG
		exit 1
	fi
fi
