"""Write models/MODEL_CARD.md from the manifests and the benchmark outputs, so every number in
the card comes from a file a script wrote.

    python -m benchmarks.model_card

Reads models/*.json and, from benchmarks/results/: quality.json (the SR sets), quality_camvid.json
(CamVid test and the class map), old_photos.json (real photos, no original), speed.json,
expert_precision.json, blind_ranking*.json and blind_midway.json (blind looks, ``--score``) and the
person benchmarks' person.json, person_camvid.json and person_speed.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.common import RESULTS, ROOT, script_name

MODELS = ["segsr-x4", "srdm-only-x4"]


def load(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def package_line(part: dict) -> str:
    pre = part.get("pretrained", {})
    check = pre.get("check", {})
    parity = (f"; port checked against ncnn: max |diff| {check['max_abs_diff']:.1e} on {check.get('input')}"
              if check.get("max_abs_diff") is not None else "")
    return (f"{part.get('architecture')}; from `{pre.get('files_inside', ['?'])[-1]}` in "
            f"`{pre.get('source_package')}=={pre.get('version')}` (sha256 `{str(pre.get('package_sha256'))[:16]}...`), "
            f"{part.get('licence')}{parity}")


def model_lines(name: str) -> list[str]:
    m = load(ROOT / "models" / f"{name}.json")
    if m is None:
        return [f"## {name}", "", "Not shipped.", ""]
    c, t, d = m["config"], m.get("training", {}), m.get("training", {}).get("damage_estimator", {})
    experts, classes = c["experts"], c.get("classes")  # the model's stages, each with its config section
    val = d.get("validation", {})
    lines = [f"## {name}", "",
             f"- parameters in the file: {m.get('parameters'):,} (the clean expert's 16.7 M are outside it); "
             f"sha256 `{m['sha256'][:16]}...`",
             f"- faithful expert: {package_line(m['restorer'])}",
             f"- clean expert: {package_line(m['clean_expert'])}; the file `{m['clean_expert']['file']}` is checked "
             f"by its sha256 `{m['clean_expert']['safetensors_sha256'][:16]}...` when the model loads",
             f"- restoration strength: Auto by default; {_auto_rule(experts['auto_strength'])}{_toned(experts)}; "
             f"lattice removal over "
             f"{experts['lattice_sigma']:g} LR px, tone guard below {experts['tone_sigma']:g} HR px",
             f"- damage estimator: {d.get('data', '')}; {d.get('iterations')} iterations of batch {d.get('batch')} "
             f"({d.get('minutes')} min); {d.get('photos', {}).get('train', 0)} wallpaper photos for training, "
             f"{d.get('photos', {}).get('validation', 0)} held out. Validation damage (median): "
             + ", ".join(f"{k} {v['p50']:.2f}" for k, v in val.items()),
             "- image refinement: none (an exact identity: the image at every step is the experts' blend)"]
    if classes:
        enc = m.get("seg_encoder", {})
        lines += [f"- classes: SegDM ({classes['width']}-wide UNet at LR/{classes['pool']}, {m.get('steps')} steps) with "
                  f"the pretrained SqueezeNet v1.1 encoder ({enc.get('licence', '')}), from the previous segsr-x4; "
                  f"{t.get('data', '')[:200]}"]
    else:
        lines += ["- classes: none (the ablation: no SegDM; the same image as segsr-x4, faster)"]
    if m.get("person_prior") and classes and classes.get("person"):
        prior, gate = m["person_prior"], m.get("person_gate", {})
        pre = prior.get("pretrained", {})
        check = pre.get("check", {})
        lines += [f"- person prior: {prior.get('architecture')}; from `{pre.get('files_inside', ['?'])[-1]}` in "
                  f"`{pre.get('source_package')}@{pre.get('version')}` (sha256 `{str(pre.get('package_sha256'))[:16]}...`), "
                  f"{prior.get('licence')}; "
                  + (f"port checked against {check['runtime']}: max |diff| {check['max_abs_diff']:.1e}" if check else
                     "port checked against the original runtime by `segsr import-pretrained --check` (docs/people.md)")
                  + f". Read whole and in {classes['person']['window']} px "
                  f"windows (max), joined to {prior.get('joins')}",
                  f"- scene gate: {gate.get('kind', 'a distance')}; {gate.get('fit')}; closed up to {gate.get('street', 0):.2f} "
                  f"({gate.get('street_from')}), open from {gate.get('elsewhere', 0):.2f} ({gate.get('elsewhere_from')})"]
    r = m.get("repair")
    if r and c.get("repair"):
        v, tr = r.get("validation", {}), r.get("training", {})
        det, inside = v.get("detection", {}), v.get("psnr_y_inside_mean_db", {})
        lines += [f"- repair: {r.get('architecture')}; {tr.get('iterations')} iterations of {tr.get('batch')} crops of "
                  f"{tr.get('crop')} px ({tr.get('minutes')} min, {tr.get('precision')}) on CamVid train and wallpaper "
                  f"photos painted with `training/scratches.py`; threshold {c['repair']['threshold']:g}, "
                  f"{c['repair']['steps']} fill steps. CamVid val: detection F1 {det.get('f1', float('nan')):.2f} "
                  f"(precision {det.get('precision', float('nan')):.2f}, recall {det.get('recall', float('nan')):.2f}); "
                  f"PSNR-Y inside the damage: none {inside.get('none', float('nan')):.1f}, Telea "
                  f"{inside.get('telea', float('nan')):.1f}, our fill with the true mask "
                  f"{inside.get('fill_noise0', float('nan')):.1f}, auto {inside.get('auto', float('nan')):.1f} dB; "
                  f"false repairs {100 * v.get('false_repair_share', float('nan')):.2f} % of an undamaged frame. "
                  f"On Auto (the default) a photo is filled only when marked groups at least "
                  f"{c['repair'].get('long_marks', 24)} px long cover {100 * c['repair'].get('long_share', 0.001):.1f} % "
                  "of it (`benchmarks/results/auto_gate.md`); `--repair on` fills whatever is marked, `--repair off` "
                  "nothing; a given or painted map is always filled"]
    if classes and classes.get("background"):
        lines += [f"- background: class {classes['num_classes']} of the class maps, on photos the scene gate calls no "
                  "street scene (people: all else; no people: the street-only classes); see docs/people.md"]
    return lines + [""]


def repair_lines(bench: dict | None, speed: dict | None) -> list[str]:
    lines = ["## Repair", ""]
    if bench:
        lines += ["Synthetic damage on images never trained on (`python -m benchmarks.repair.repair`; "
                  f"{bench.get('machine', '')}): PSNR-Y (dB) inside the true damage against the undamaged print, "
                  "at the photo's own size (benchmarks/repair/results/repair.md).", "",
                  "| set | F1 | none | biharmonic | Telea | Navier-Stokes | ours, true mask | always | auto | "
                  "false repairs always / auto |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, row in bench.get("sets", {}).items():
            p = row["psnr_y_inside_db"]
            lines.append(f"| {name} | {row['detection']['f1']:.3f} | {p['none']:.2f} | {p['biharmonic']:.2f} | "
                         f"{p['telea']:.2f} | {p['navier_stokes']:.2f} | {p['ours_true_mask']:.2f} | "
                         f"{p.get('always', p['auto']):.2f} | {p['auto']:.2f} | {100 * row['false_repair_share']:.3f} / "
                         f"{100 * row.get('false_repair_share_auto', row['false_repair_share']):.3f} % |")
        lines.append("")
    blind = load(RESULTS / "blind_repair.json")
    if blind:
        sc = blind["score"]
        lines += [f"Blind look ({sc['rows']} crops of real scans, `blind_repair.py`; a viewer who never saw the key): "
                  "mean rank " + ", ".join(f"{m} {v:.2f}" for m, v in sc["mean_rank"].items()) +
                  f"; automatic repair above unrepaired on {sc['auto_above_unrepaired']} of {sc['rows']} crops. "
                  f"The viewer's notes: {blind.get('notes', '')} "
                  "Our ranking, having looked at the labelled sheet: the automatic repair first or level with "
                  "Telea (same mask) on old_scratch_a's cracks, both leaving grey smudges where the widest cracks "
                  "were, the unrepaired scan last; on the sample both remove the two straight scratches cleanly. "
                  "Both scans are filled on Auto.", ""]
    marks = load(RESULTS / "real_marks.json")
    if marks:
        rows = marks["photos"]
        clean = {Path(k).name: r["marked"] for k, r in rows.items() if not r["damaged"]}
        worst = max(clean, key=clean.get)
        changed = [r["changed"] for r in rows.values() if not r["damaged"]]
        changed_auto = [r.get("changed_auto", r["changed"]) for r in rows.values() if not r["damaged"]]
        lines += [f"On the real photos (`real_marks.py`, `real_marks.png`) the automatic detection marks "
                  f"{100 * sum(clean.values()) / len(clean):.2f} % of the {len(clean)} without scratches on average, "
                  f"at most {100 * clean[worst]:.2f} % ({worst}), and "
                  + ", ".join(f"{100 * r['marked']:.2f} % of {Path(k).name}" for k, r in rows.items() if r["damaged"])
                  + f". Filling all of that (Always) changes {100 * sum(changed) / len(changed):.2f} % of the pixels of "
                  f"those {len(changed)} photos by more than 4 grey levels, at most {100 * max(changed):.2f} %; on Auto, "
                  f"which fills {sum(r.get('auto_fills', True) for r in rows.values() if not r['damaged'])} of them, "
                  f"{100 * sum(changed_auto) / len(changed_auto):.2f} %.", ""]
        for k, r in rows.items():
            if "reference" in r:
                ref = r["reference"]
                lines += [f"Against {ref['made']} ({Path(k).name}, {100 * ref['reference_share']:.2f} % of the photo; "
                          f"validation only), the detection's precision is {ref['precision']:.3f}, recall "
                          f"{ref['recall']:.3f}, F1 {ref['f1']:.3f} (1-px tolerance).", ""]
    false = load(RESULTS / "blind_false.json")
    if false:
        sc = false["score"]
        lines += [f"Blind look at those false repairs on Always ({sc['rows']} crops around the largest marked groups "
                  "of the photos without scratches, `blind_false.py`; a viewer who never saw the key): the repaired crop "
                  f"better on {sc['better']}, the same on {sc['same']}, worse on {sc['worse']}. The viewer's notes: "
                  f"{false.get('notes', '')}", ""]
    if speed:
        lines += ["Whole `segsr upscale`, repair filling against off (`repair_speed.py`): " + ", ".join(
            f"{k} ({v['size']}) {v['ratio']:.2f}x" for k, v in speed.get("photos", {}).items()), ""]
    return lines


def quality_lines(quality: dict, camvid: dict) -> list[str]:
    lines = ["## Quality", ""]
    rows = {**(camvid or {}).get("rows", {}), **(quality or {}).get("rows", {})}
    for report, title in ((quality, "SR test sets"), (camvid, "CamVid test")):
        if not report:
            continue
        lines += [f"### {title} (PSNR-Y dB, 4-px shave; `{script_name(report['command'])}`, "
                  f"{report['date']}, {report['machine']})", "",
                  "| method | " + " | ".join(f"{s} {k}" for s in report["results"] for k in ("clean", "damaged"))
                  + " |", "|---|" + "---|" * (2 * len(report["results"]))]
        for key in report["rows"]:
            cells = []
            for per_kind in report["results"].values():
                for kind in ("bicubic", "realworld"):
                    e = per_kind[kind].get(key)
                    cells.append(f"{e['psnr']:.2f}" if e else "–")
            lines.append(f"| {rows[key]} | " + " | ".join(cells) + " |")
        lines.append("")
    seg = (camvid or {}).get("segmentation", {}).get("models", {})
    for key, kinds in seg.items():
        lines.append(f"- class map ({rows[key]}), CamVid test mIoU: " + ", ".join(
            f"{100 * e['miou']:.1f}% from {'clean' if k == 'bicubic' else 'damaged'} LR (per step "
            + " -> ".join(f"{100 * v:.1f}" for v in e.get("miou_by_step", [])) + ")" for k, e in kinds.items()))
    return lines + [""]


def _auto_rule(thresholds) -> str:
    low, high = thresholds
    if high <= low:
        return f"strength 1 from damage {low:.3f}, 0 below (an end, not a blend)"
    return f"damage thresholds {low:.3f} / {high:.3f} (strength 0 below, 1 above, linear between)"


def _toned(experts: dict) -> str:
    t = experts.get("toned_print") or []
    if len(t) != 4:
        return ""
    return (f"; a toned print (chroma >= {t[0]:g}, at most {100 * t[1]:g} % of pixels off its hue line, hue "
            f"{t[2]:g}..{t[3]:g} degrees: sepia, brown, gold) gets 1 (`benchmarks/results/toned_prints.md`)")


def old_photo_lines(old: dict) -> list[str]:
    if not old:
        return []
    from benchmarks.quality.old_photos import TABLE_HEAD, table_rows

    lines = [f"## Real old and low-quality photos, no original (`old_photos.py`, {len(old['photos'])} photos)", "",
             *TABLE_HEAD, *table_rows(old["rows"])]
    lines += ["", "Auto picked: " + ", ".join(f"{k} {100 * v:.0f} %" for k, v in old["auto_picked"].items()), ""]
    return lines


def blind_lines(blind: dict) -> list[str]:
    if not blind:
        return []
    lines = [f"## Blind look ({blind['sheets']} crops from {len(blind['photos'])} photos, ranked by "
             f"{blind['viewer']})", "", "| method | mean rank | ranked first |", "|---|---|---|"]
    for label, r in sorted(blind["methods"].items(), key=lambda kv: kv[1]["mean_rank"]):
        lines.append(f"| {label} | {r['mean_rank']:.2f} | {r['first']} of {r['sheets']} |")
    return lines + [""]


def speed_lines(speed: dict, precision: dict) -> list[str]:
    lines = ["## Speed and precision", ""]
    if speed:
        p = speed.get("process_256", {})
        if "ratio" in p:
            lines.append(f"- `segsr upscale` of a 256x256 photo, whole process: {p['segsr_seconds']:.1f} s at Auto, "
                         f"{p['segsr_seconds_both_experts']:.1f} s at strength 0.5 (both experts), against "
                         f"{p['peer_seconds']:.1f} s for Real-ESRGAN x4plus in ncnn: {p['ratio']:.2f}x and "
                         f"{p['ratio_both_experts']:.2f}x ({speed['machine']}, {speed['date']})")
        if "segsr_seconds_strength_1" in p and "peer_seconds" in p:
            auto = p.get("auto_strength")
            picked = f" (Auto picked {100 * auto:.0f} %)" if auto is not None else ""
            lines.append(f"- the same photo at strength 0, Auto{picked} and 100 %: "
                         + ", ".join(f"{p[k]:.1f} s ({p[k] / p['peer_seconds']:.2f}x)" for k in
                                     ("segsr_seconds_strength_0", "segsr_seconds", "segsr_seconds_strength_1")))
    if precision:
        for name, s in precision["summary"].items():
            lines.append(f"- {name} in bf16 against fp32 on real photos: PSNR-Y {s['mean_psnr']:.1f} dB mean, "
                         f"{s['min_psnr']:.1f} lowest (`expert_precision.md`)")
    return lines + [""]


def people_lines(person: dict, camvid: dict, speed: dict) -> list[str]:
    """The person benchmark (references by a second model), CamVid with and without the prior, its cost."""
    if not person:
        return []
    from benchmarks.people import person as bench

    table = bench.summary(person["photos"])
    lines = ["## People (`person.py`, `person_camvid.py`, `person_speed.py`)", "",
             f"Person IoU against reference masks made by {person['references']['model']} "
             f"(checked by eye; trusted masks only), class maps at strength {person['strength']} on the photos "
             f"shrunk to a long side of {person.get('class_map_side') or 'their own'} px:", "",
             "| photos | n | prior alone (whole photo) | class map without the prior | class map with it |",
             "|---|---|---|---|---|"]
    for group, r in table.items():
        cells = [r.get("prior whole"), r.get("class map without"), r.get("class map with")]
        lines.append(f"| {group} | {r['photos']} | " + " | ".join("–" if v is None else f"{v:.3f}" for v in cells) + " |")
    lines.append("")
    if camvid:
        for kind, rows in camvid["results"].items():
            lines.append(f"- CamVid test ({camvid['frames']} frames, {kind} LR): mIoU {100 * rows['without']['miou']:.1f} % "
                         f"without the prior, {100 * rows['with']['miou']:.1f} % with it; person IoU "
                         f"{100 * rows['without']['person_iou']:.1f} % / {100 * rows['with']['person_iou']:.1f} %")
    lines += ["", "The class map's people (red) on the benchmark's photos: "
              "![person sheet](../benchmarks/results/person_sheet.png)", ""]
    if speed:
        for name, r in speed["photos"].items():
            lines.append(f"- whole `segsr upscale` of {name}: {r['without']:.1f} s without the prior, "
                         f"{r['with']:.1f} s with it ({r['ratio']:.2f}x)")
    return lines + [""]


LIMITS = ["## Limitations", "",
          "- The class map knows 11 classes: CamVid's street-scene classes, with people (class 9, 'person') "
          "also found by the person prior outside street scenes; small far-away figures are often missed.",
          "- The image is the experts' blend: the diffusion refines the class map only. A refinement of the "
          "image that beats the experts was not trained in this budget (docs/experts.md).",
          "- Auto reads fine, grain-like texture (foliage, gravel) as mild damage and picks a higher strength "
          "there; the slider overrides it.",
          "- Real-ESRGAN x4plus paints: on heavy damage it invents smooth, plastic detail and loses PSNR against "
          "an original (see the strength 1 rows).", ""]


def main() -> int:
    lines = ["# Model card: segsr-x4 and its ablation srdm-only-x4", "",
             "Generated by `python -m benchmarks.model_card` from `models/*.json` and `benchmarks/results/`; "
             "re-run the benchmarks (benchmarks/README.md says which makes what) and this script to refresh it. "
             "How they were made: docs/experts.md.", ""]
    for name in MODELS:
        lines += model_lines(name)
    lines += quality_lines(load(RESULTS / "quality.json"), load(RESULTS / "quality_camvid.json"))
    lines += old_photo_lines(load(RESULTS / "old_photos.json"))
    lines += blind_lines(load(RESULTS / "blind_ranking_viewer4.json"))
    lines += blind_lines(load(RESULTS / "blind_midway.json"))
    lines += blind_lines(load(RESULTS / "blind_ranking_viewer3.json"))
    lines += blind_lines(load(RESULTS / "blind_ranking.json"))
    lines += blind_lines(load(RESULTS / "blind_ranking_developer.json"))
    lines += blind_lines(load(RESULTS / "blind_toned.json"))
    lines += people_lines(load(RESULTS / "person.json"), load(RESULTS / "person_camvid.json"),
                          load(RESULTS / "person_speed.json"))
    lines += repair_lines(load(ROOT / "benchmarks" / "repair" / "results" / "repair.json"), load(RESULTS / "repair_speed.json"))
    lines += speed_lines(load(RESULTS / "speed.json"), load(RESULTS / "expert_precision.json"))
    lines += LIMITS
    (ROOT / "models" / "MODEL_CARD.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
