#!/usr/bin/env bash
# Installs the Debian packages Kestrel needs to build and test; installs only what is missing,
# so running it again is quick and changes nothing.
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config
  libonnx-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  zlib1g-dev libjpeg62-turbo-dev libdnnl-dev
  python3-torch python3-onnx python3-numpy python3-matplotlib
  python3-torchvision  # other networks than SMAT in the tests (tests/models)
  slurm-wlm munge  # the sharded-evaluation test starts a one-node cluster
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} Debian packages are installed"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
