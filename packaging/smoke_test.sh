#!/usr/bin/env bash
# Smoke-test the frozen app built by packaging/build.sh, from an empty folder (so nothing is
# found through the current folder) and with a throwaway settings folder:
#   1. segsr-gui --screenshot, offscreen, on the bundled sample: exits 0 and writes a PNG of
#      the window's size that is not blank;
#   2. segsr --version and segsr info (the shipped weights are found and verified);
#   3. segsr upscale on the bundled sample at Auto strength, with --masks: writes a 4x larger,
#      non-blank PNG, and the bundled pretrained nets ran: the clean expert (Auto picked a
#      strength above 0; without that expert the app refuses Auto) and the person prior (no
#      "people are not marked" note, and the portrait's person share is over 30 %; it is under
#      1 % without the prior).
# Usage: bash packaging/smoke_test.sh [APP_FOLDER]   (default dist/segsr-studio)
# Environment: SEGSR_SMOKE_STEPS=N passes --steps N to both runs (default: the model's own);
#              SEGSR_SMOKE_TIMEOUT=S limits each run (default 1200 s).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
APP="$(cd "${1:-$HERE/../dist/segsr-studio}" && pwd)"
CHECK="python3 $HERE/check_png.py"
LIMIT="${SEGSR_SMOKE_TIMEOUT:-1200}"
STEPS=(); [ -n "${SEGSR_SMOKE_STEPS:-}" ] && STEPS=(--steps "$SEGSR_SMOKE_STEPS")
RUN="timeout $LIMIT nice -n ${SEGSR_SMOKE_NICE:-19}"

WORK="$(mktemp -d -t segsr-smoke.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/empty" "$WORK/config" "$WORK/data"
cd "$WORK/empty"
export SEGSR_STUDIO_CONFIG_DIR="$WORK/config" QT_QPA_PLATFORM=offscreen
# the pretrained nets must come from the bundle: no user data folder, no $SEGSR_PRETRAINED
export XDG_DATA_HOME="$WORK/data"
unset SEGSR_PRETRAINED

SAMPLE="$APP/_internal/segsr_gui/resources/sample.png"
for f in "$APP/segsr-gui" "$APP/segsr" "$SAMPLE"; do
    [ -e "$f" ] || { echo "smoke: FAIL: missing $f" >&2; exit 1; }
done
read -r SW SH < <(python3 - "$SAMPLE" <<'PY'
import struct, sys
with open(sys.argv[1], "rb") as f:
    print(*struct.unpack(">II", f.read(24)[16:24]))
PY
)

pass() { echo "smoke: ok   $*"; }
fail() { echo "smoke: FAIL $*" >&2; exit 1; }

t=$(date +%s)
rc=0; $RUN "$APP/segsr-gui" --screenshot "$WORK/window.png" --size 1280x820 "${STEPS[@]}" > "$WORK/gui.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/gui.log" >&2; fail "segsr-gui --screenshot exited $rc"; }
grep -q "^screenshot: $WORK/window.png" "$WORK/gui.log" || { cat "$WORK/gui.log" >&2; fail "segsr-gui did not report its screenshot"; }
$CHECK "$WORK/window.png" --size 1280x820 || fail "the window screenshot"
pass "segsr-gui --screenshot on the bundled sample ($(( $(date +%s) - t ))s, $(stat -c %s "$WORK/window.png") bytes)"
[ -n "${SEGSR_SMOKE_KEEP:-}" ] && cp "$WORK/window.png" "$SEGSR_SMOKE_KEEP"

version="$("$APP/segsr" --version)" || fail "segsr --version"
pass "segsr --version: $version"
$RUN "$APP/segsr" info > "$WORK/info.txt" 2>&1 || { cat "$WORK/info.txt" >&2; fail "segsr info"; }
grep -q "segsr-x4" "$WORK/info.txt" || { cat "$WORK/info.txt" >&2; fail "segsr info does not name segsr-x4"; }
pass "segsr info: $(grep -c . "$WORK/info.txt") lines about segsr-x4"

t=$(date +%s)
rc=0; $RUN "$APP/segsr" upscale "$SAMPLE" -o "$WORK/out" -q --seed 1 --strength auto --masks "${STEPS[@]}" \
    > "$WORK/cli.log" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat "$WORK/cli.log" >&2; fail "segsr upscale at Auto exited $rc"; }
stem="$(basename "$SAMPLE" .png)"
out="$WORK/out/${stem}_x4.png"
[ -f "$out" ] || { ls -R "$WORK/out" >&2; fail "segsr upscale wrote no ${stem}_x4.png"; }
$CHECK "$out" --size "$((SW * 4))x$((SH * 4))" || fail "the upscaled sample"
pass "segsr upscale of the ${SW}x${SH} sample -> $(basename "$out") $((SW * 4))x$((SH * 4)) ($(( $(date +%s) - t ))s)"
if grep -q "people are not marked" "$WORK/cli.log"; then
    cat "$WORK/cli.log" >&2; fail "the person prior did not run"
fi
[ -f "$WORK/out/${stem}_legend.json" ] || { ls -R "$WORK/out" >&2; fail "segsr upscale --masks wrote no legend"; }
nets="$(python3 - "$WORK/out/${stem}_legend.json" <<'PY'
import json, sys
legend = json.load(open(sys.argv[1]))
strength = legend.get("restoration_strength") or {}
person = [c["share"] for c in legend["classes"] if c["name"] == "person"]
problems = []
if not (strength.get("auto") is True and strength.get("value", 0) > 0):
    problems.append(f"the clean expert did not run (restoration strength {strength})")
if not person or person[0] < 0.3:
    problems.append(f"the person prior found no one in the portrait (person share {person})")
print("; ".join(problems) if problems else
      f"Auto strength {strength['value']:.0%} (clean expert), person share {person[0]:.0%} (person prior)")
sys.exit(1 if problems else 0)
PY
)" || fail "$nets"
pass "the bundled pretrained nets ran: $nets"
echo "smoke: all passed ($APP, $(du -sh "$APP" | cut -f1))"
