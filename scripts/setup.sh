#!/usr/bin/env bash
# Installs what building and running locker-kiosk needs on Debian 12, and
# only what is missing. Sourced by scripts/kiosk and scripts/test.
set -euo pipefail

# Build: C toolchain, pkg-config, the libraries Slint's panel backend links
# (udev, libinput, xkbcommon), and libclang for the V4L2 camera bindings
# (nokhwa generates them at build time). Run: fonts, and the X11/Wayland
# client libraries that the desktop backend loads at run time.
LOCKER_KIOSK_PACKAGES=(
    build-essential pkg-config curl ca-certificates
    libudev-dev libinput-dev libxkbcommon-dev libfontconfig1-dev libclang1-14 linux-libc-dev
    fonts-dejavu-core
    libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0
    libwayland-client0 libwayland-cursor0
)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing_packages() {
    local missing=()
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing ${missing[*]}" >&2
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    fi
}

install_rust() {
    if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "setup: installing the Rust toolchain (rustup)" >&2
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
            sh -s -- -y --profile minimal --component clippy,rustfmt >&2
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if command -v rustup >/dev/null 2>&1; then
        for component in clippy rustfmt; do
            if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
                rustup component add "$component" >&2
            fi
        done
    fi
}

# The test runner (scripts/test only): every test in a process of its own,
# with time limits. Built from crates.io when the machine has none.
install_nextest() {
    if ! cargo nextest --version >/dev/null 2>&1; then
        echo "setup: installing cargo-nextest from crates.io" >&2
        cargo install --locked cargo-nextest >&2
    fi
}

# The Debian package's builder (scripts/package, tests/it/package.rs),
# pinned: it warns that packaging a dev build will one day be refused, and
# the suite packages its dev build. Built unoptimised: 43 s instead of
# 100 s here, and it packages as fast (the system's compressor does the
# work).
CARGO_DEB_VERSION=3.8.0
install_cargo_deb() {
    if ! cargo deb --version 2>/dev/null | grep -qx "cargo-deb $CARGO_DEB_VERSION"; then
        echo "setup: installing cargo-deb $CARGO_DEB_VERSION from crates.io" >&2
        cargo install --locked --debug cargo-deb --version "$CARGO_DEB_VERSION" >&2
    fi
}

install_missing_packages "${LOCKER_KIOSK_PACKAGES[@]}"
install_rust
