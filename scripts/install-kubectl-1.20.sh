#!/usr/bin/env bash
# Unpacks Debian's kubernetes-client (kubectl v1.20) into tools/kube120/, where the kubectl tests
# look for it. It is not installed with dpkg: /usr/bin/kubectl may belong to another package (the
# machine's kubectl v1.32), so the package is only downloaded and extracted. Needs Debian's apt.
set -euo pipefail
cd "$(dirname "$0")/.."
target=tools/kube120
if [ -x "$target/usr/bin/kubectl" ]; then
  "$target/usr/bin/kubectl" version --client 2>/dev/null | sed -n 1p
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
if ! (cd "$work" && apt-get download kubernetes-client >/dev/null 2>&1); then
  apt-get update >/dev/null
  (cd "$work" && apt-get download kubernetes-client)
fi
mkdir -p "$target"
dpkg-deb -x "$work"/kubernetes-client_*.deb "$target"
"$target/usr/bin/kubectl" version --client 2>/dev/null | sed -n 1p
