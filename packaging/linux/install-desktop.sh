#!/usr/bin/env bash
# Add SegSR Studio to the desktop's application menu (per user, no root needed):
#   bash packaging/linux/install-desktop.sh [SEGSR_GUI]
# SEGSR_GUI is the program to start: the frozen app (dist/segsr-studio/segsr-gui) or a venv's
# segsr-gui; default: the one on PATH (the built app's copy, dist/segsr-studio/linux/, defaults
# to its own segsr-gui). Installs the .desktop file (Exec= set to that program),
# the icons in every size under hicolor, and the AppStream metainfo, into
# ${XDG_DATA_HOME:-~/.local/share}. `--uninstall` removes them again.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# icons: in a checkout (packaging/linux/) or in the built app (dist/segsr-studio/linux/)
ICONS="$HERE/../../resources/icons"
[ -d "$ICONS" ] || ICONS="$HERE/../_internal/segsr_gui/resources/icons"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
DESKTOP="$DATA/applications/segsr-studio.desktop"
METAINFO="$DATA/metainfo/io.github.segsr_studio.metainfo.xml"
SIZES="16 24 32 48 64 128 256 512"

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$DESKTOP" "$METAINFO" "$DATA/icons/hicolor/scalable/apps/segsr-studio.svg"
    for s in $SIZES; do rm -f "$DATA/icons/hicolor/${s}x${s}/apps/segsr-studio.png"; done
    echo "removed SegSR Studio from $DATA"
    exit 0
fi

DEFAULT_GUI="$(command -v segsr-gui || true)"
[ -x "$HERE/../segsr-gui" ] && DEFAULT_GUI="$HERE/../segsr-gui"
GUI="${1:-$DEFAULT_GUI}"
[ -n "$GUI" ] && [ -x "$GUI" ] || { echo "install-desktop: give the path of segsr-gui (none on PATH)" >&2; exit 2; }
GUI="$(cd "$(dirname "$GUI")" && pwd)/$(basename "$GUI")"

mkdir -p "$DATA/applications" "$DATA/metainfo" "$DATA/icons/hicolor/scalable/apps"
sed -e "s|^Exec=.*|Exec=\"$GUI\" %f|" -e "s|^TryExec=.*|TryExec=$GUI|" \
    "$HERE/segsr-studio.desktop" > "$DESKTOP"
cp "$HERE/io.github.segsr_studio.metainfo.xml" "$METAINFO"
cp "$ICONS/segsr-studio.svg" "$DATA/icons/hicolor/scalable/apps/"
for s in $SIZES; do
    mkdir -p "$DATA/icons/hicolor/${s}x${s}/apps"
    cp "$ICONS/segsr-studio-$s.png" "$DATA/icons/hicolor/${s}x${s}/apps/segsr-studio.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "installed $DESKTOP (starts $GUI)"
