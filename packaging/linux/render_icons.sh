#!/bin/sh
# Re-render resources/icons/segsr-studio-N.png from segsr-studio.svg (needs rsvg-convert: apt-get install librsvg2-bin).
set -e
cd "$(dirname "$0")/../../resources/icons"
for s in 16 24 32 48 64 128 256 512; do
    rsvg-convert -w "$s" -h "$s" segsr-studio.svg -o "segsr-studio-$s.png"
done
