"""experiments/compare_runs.py: the paired (file-by-file) comparison behind the recipes' claims."""
import csv
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("compare_runs", ROOT / "experiments" / "compare_runs.py")
compare_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_runs)

KEYS = ["pesq", "stoi", "estoi", "si_sdr"]


def fake_run(root: Path, name: str, si_sdr: list[float], failed: str | None = None) -> Path:
    run = root / name
    (run / "test_report").mkdir(parents=True)
    with open(run / "test_report" / "scores.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["file", "status", *KEYS])
        w.writeheader()
        for i, v in enumerate(si_sdr):
            name_i = f"f{i}.wav"
            w.writerow({"file": name_i, "status": "error" if name_i == failed else "ok",
                        "pesq": 1.0, "stoi": 0.5, "estoi": 0.4, "si_sdr": v})
    return run


def test_paired_differences_mean_interval_and_share(tmp_path):
    base = fake_run(tmp_path, "base", [0.0, 0.0, 0.0, 0.0, 5.0])
    run = fake_run(tmp_path, "run", [1.0, 2.0, 3.0, -1.0, 99.0], failed="f4.wav")
    table = compare_runs.paired_table([base, run], base)
    row = [line for line in table.splitlines() if line.startswith(f"| `{run}`")][0]
    # differences on the 4 files both scored: 1, 2, 3, -1 → mean 1.25, sd 1.708, se 0.854
    assert "+1.250 [-0.424, +2.924]" in row
    assert "75% of 4" in row
    assert "+0.000 [+0.000, +0.000]" in row           # PESQ identical
    assert len(table.strip().splitlines()) == 3        # head, rule, one row: none for the baseline


def test_steps_of_a_second_stage_count_the_first(tmp_path):
    import json

    first = tmp_path / "first"
    first.mkdir()
    (first / "model_card.json").write_text(json.dumps({"steps": 2708}))
    second = {"steps": 500, "config": {"trainer": {"init_from": str(first / "model.pt")}}}
    assert compare_runs._steps(second) == "2708 + 500"
    assert compare_runs._steps({"steps": 12}) == "12"
    missing = {"steps": 7, "config": {"trainer": {"init_from": str(tmp_path / "gone.pt")}}}
    assert compare_runs._steps(missing) == "7"


def test_gain_table_reads_a_report_folder_and_counts_files_up(tmp_path):
    report = tmp_path / "report"
    report.mkdir()
    cols = [f"{k}{s}" for k in KEYS for s in ("", "_delta")]
    with open(report / "scores.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["file", "status", *cols])
        w.writeheader()
        for i, g in enumerate([1.0, 2.0, 3.0, -1.0]):
            w.writerow({"file": f"f{i}.wav", "status": "ok", **{c: g for c in cols}})
    row = compare_runs.gain_table([report]).splitlines()[2]
    assert "+1.250 [-0.424, +2.924], 3 of 4" in row  # SI-SDR: mean, interval, files up
