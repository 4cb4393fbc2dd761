"""Faults a committee's machine meets: a run killed at any moment, two runs into one folder, a full or
read-only disk, an --out that is a file, an edited or hostile manifest. Each leaves --out either as it
was or as a new complete set, and each user-caused fault is exit 2 with one message naming the path."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from pingyi.run.manifest import sha256
from pingyi.tools.example import generate_example

TINY = {"providers": 9, "rows": 4000, "scale": "small"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    """Two tiny bundles (different seeds, so their results differ) and a results folder of each."""
    from pingyi.run.evaluate import evaluate_to

    root = tmp_path_factory.mktemp("tiny")
    made = {}
    for seed in (1, 2):
        data = root / f"data{seed}"
        generate_example(data, seed=seed, **TINY)
        res = root / f"res{seed}"
        evaluate_to(data, None, None, None, res)
        made[seed] = (data, res)
    return made


def _pingyi(*args: str) -> list[str]:
    return [sys.executable, "-m", "pingyi.cli", *[str(a) for a in args]]


def _complete_results(out: Path) -> str:
    """Assert `out` is one whole results set; return the data hash that identifies which run wrote it."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in manifest["outputs"].items():
        assert sha256(out / name) == digest, f"{name} is not the file the manifest records"
    assert sorted(os.listdir(out)) == sorted([*manifest["outputs"], "manifest.json"])
    return json.dumps(manifest["inputs"]["data_files"], sort_keys=True)


def _complete_report(out: Path) -> str:
    from pingyi.report.manifest import tree_hashes

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "pingyi report"
    assert tree_hashes(out) == manifest["outputs"], "a report file differs from its manifest or is unlisted"
    return manifest["results"]["dir"]


def _kill_trials(cmd_for, check, out: Path, trials: int, budget_s: float, seed: int) -> dict[str, int]:
    """Start a command, SIGKILL it after a random delay, check `out` each time. The delays cover the whole
    run: the first, uninterrupted run measures how long one takes."""
    rng = random.Random(seed)
    started = time.perf_counter()
    subprocess.run(cmd_for(0), check=True, capture_output=True, timeout=300)
    duration = time.perf_counter() - started
    seen = {check(out): 1}
    outcomes = {"killed": 0, "finished": 0}
    deadline = time.perf_counter() + budget_s
    for i in range(1, trials + 1):
        assert time.perf_counter() < deadline, f"only {i - 1} trials within {budget_s} s"
        proc = subprocess.Popen(cmd_for(i), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=rng.uniform(0.0, duration * 1.3))
            outcomes["finished"] += 1
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            outcomes["killed"] += 1
        # either the previous complete set or the new one, never a mix and never nothing
        which = check(out)
        seen[which] = seen.get(which, 0) + 1
    # the next run cleans what killed runs left beside --out, and its set verifies
    subprocess.run(cmd_for(trials + 1), check=True, capture_output=True, timeout=300)
    which = check(out)
    seen[which] = seen.get(which, 0) + 1
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") and "lock" not in p.name]
    assert leftovers == []
    assert outcomes["killed"] >= trials // 4, outcomes
    return seen


def test_score_killed_at_random_moments_leaves_a_complete_set(tiny, tmp_path):
    out = tmp_path / "results"
    cmd = lambda i: _pingyi("score", "--data", tiny[1 + i % 2][0], "--out", out)  # noqa: E731
    seen = _kill_trials(cmd, _complete_results, out, trials=20, budget_s=240, seed=13)
    assert len(seen) == 2  # both bundles' sets were found whole at some point
    r = subprocess.run(_pingyi("verify", out), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_report_killed_at_random_moments_leaves_a_complete_set(tiny, tmp_path):
    out = tmp_path / "reports"
    cmd = lambda i: _pingyi("report", "--results", tiny[1 + i % 2][1], "--out", out, "--workers", "1")  # noqa: E731
    seen = _kill_trials(cmd, _complete_report, out, trials=20, budget_s=300, seed=17)
    assert len(seen) == 2
    r = subprocess.run(_pingyi("verify", out), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_fallback_swap_killed_between_renames_is_restored(tmp_path, monkeypatch):
    """Where the atomic exchange is missing, the swap is two renames; a run killed between them leaves
    the previous set as `.out.old-PID` and no `out`. The next run puts it back before anything else."""
    import pingyi.files as files
    from pingyi.files import output_folder

    out = tmp_path / "out"
    old = tmp_path / ".out.old-4242"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    (tmp_path / ".out.tmp-4242").mkdir()  # a killed run's half-written staging folder
    monkeypatch.setattr(files, "_exchange", lambda a, b: False)
    with pytest.raises(RuntimeError), output_folder(out, owned=("manifest.json", "x"), command="pingyi score"):
        assert (out / "manifest.json").read_text() == "{}"  # restored before the new run writes
        raise RuntimeError("the new run fails")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]
    with output_folder(out, owned=("manifest.json", "x"), command="pingyi score") as stage:
        (stage / "x").write_text("new")
    assert sorted(os.listdir(out)) == ["x"]


def test_second_run_into_the_same_folder_is_stopped(cli, tiny, tmp_path):
    out = tmp_path / "results"
    with FileLock(str(tmp_path / ".results.lock")):
        r = cli("score", "--data", tiny[1][0], "--out", out)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "another pingyi run is writing to it" in r.stderr and str(out) in r.stderr
    assert not out.exists()


def test_two_concurrent_runs_never_mix(tiny, tmp_path):
    out = tmp_path / "results"
    procs = [
        subprocess.Popen(_pingyi("score", "--data", tiny[s][0], "--out", out), stderr=subprocess.PIPE, text=True)
        for s in (1, 2)
    ]
    codes = [p.wait(timeout=300) for p in procs]
    errs = [p.stderr.read() for p in procs if p.stderr]
    assert set(codes) <= {0, 2}, errs
    for code, text in zip(codes, errs):
        if code == 2:
            assert "another pingyi run is writing to it" in text
    _complete_results(out)


def test_out_naming_a_file_is_a_user_error(cli, tiny, tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("not a folder")
    r = cli("score", "--data", tiny[1][0], "--out", target)
    assert r.exit_code == 2, r.stderr
    assert f"--out {target}: is a file; expected a folder" in r.stderr
    assert target.read_text() == "not a folder"


def test_out_holding_other_files_is_refused_not_replaced(cli, tiny, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")
    r = cli("score", "--data", tiny[1][0], "--out", out)
    assert r.exit_code == 2, r.stderr
    assert "holds files `pingyi score` did not write (thesis.docx)" in r.stderr
    assert (out / "thesis.docx").read_text() == "years of work"


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return r.returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "size=160k"):
        pytest.skip("mounting a small tmpfs needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_full_disk_is_a_user_error_and_replaces_nothing(cli, tiny, small_disk):
    out = small_disk / "results"
    out.mkdir()
    (out / "manifest.json").write_text('{"previous": true}')  # a previous set (its manifest) stays
    r = cli("score", "--data", tiny[1][0], "--out", out)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "no space left on the disk" in r.stderr and str(small_disk) in r.stderr
    assert os.listdir(out) == ["manifest.json"] and (out / "manifest.json").read_text() == '{"previous": true}'
    assert [p.name for p in small_disk.iterdir() if ".tmp-" in p.name] == []


def test_full_disk_in_the_middle_of_a_write(cli, tiny, tmp_path, monkeypatch):
    """The same fault where no tmpfs can be mounted: the third file written hits ENOSPC."""
    import pingyi.run.outputs as outputs

    real, calls = outputs._csv, []

    def full(path, header, rows):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, header, rows)

    monkeypatch.setattr(outputs, "_csv", full)
    out = tmp_path / "results"
    r = cli("score", "--data", tiny[1][0], "--out", out)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "adjustments.csv: no space left on the disk" in r.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_read_only_out_is_a_user_error(cli, tiny, tmp_path):
    parent = tmp_path / "ro"
    if os.geteuid() == 0:
        if not _mount_tmpfs(parent, "ro,size=64k"):
            pytest.skip("a read-only folder needs a read-only mount when running as root")
    else:
        parent.mkdir()
        parent.chmod(0o555)
    try:
        r = cli("score", "--data", tiny[1][0], "--out", parent / "results")
        assert r.exit_code == 2, r.stdout + r.stderr
        assert str(parent) in r.stderr
        assert "read-only" in r.stderr or "permission denied" in r.stderr
        r = cli("report", "--results", tiny[1][1], "--out", parent / "reports", "--format", "xlsx")
        assert r.exit_code == 2, r.stdout + r.stderr
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(parent)], check=False)
        else:
            parent.chmod(0o755)


def test_a_bug_asks_for_a_report_with_debug(cli, tiny, tmp_path, monkeypatch):
    import pingyi.api as api

    def broken(*args, **kwargs):
        raise KeyError("no such thing")

    monkeypatch.setattr(api, "score_cycle", broken)
    r = cli("score", "--data", tiny[1][0], "--out", tmp_path / "x")
    assert r.exit_code == 1
    assert "internal error (a bug in pingyi" in r.stderr and "--debug" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("content", ["[]", '"manifest"', "42", '{"outputs": []}', '{"outputs": {"a": 1}}'])
def test_a_malformed_manifest_is_a_user_error(cli, tiny, tmp_path, content):
    folder = tmp_path / "results"
    shutil.copytree(tiny[1][1], folder)
    (folder / "manifest.json").write_text(content)
    r = cli("verify", folder)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert f"{folder}/manifest.json" in r.stderr
    assert "expected" in r.stderr and "internal error" not in r.stderr


@pytest.mark.parametrize("name", ["../secret.txt", "/etc/hostname", "a/../../secret.txt", "link.txt"])
def test_verify_never_reads_outside_the_results_folder(cli, tiny, tmp_path, name):
    folder = tmp_path / "results"
    shutil.copytree(tiny[1][1], folder)
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (folder / "link.txt").symlink_to(secret)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["outputs"][name] = sha256(secret) if "secret" in name or name == "link.txt" else "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))
    r = cli("verify", folder)
    assert r.exit_code == 2, r.stdout + r.stderr
    assert repr(name) in r.stderr and "inside" in r.stderr
    assert f"ok {name}" not in r.stdout


@pytest.fixture(scope="module")
def reports(tiny, tmp_path_factory) -> Path:
    from pingyi.report.run import render_reports

    out = tmp_path_factory.mktemp("rep") / "reports"
    render_reports(tiny[1][1], out, workers=1)
    return out


def test_report_folder_has_a_manifest_of_every_file(reports, tiny):
    manifest = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    names = set(manifest["outputs"])
    assert {"committee.pdf", "pingyi-report.xlsx", "html/index.html", "html/committee.html"} <= names
    assert sum(n.startswith("cards/") and n.endswith(".pdf") for n in names) == 9
    assert manifest["results"]["manifest_sha256"] == sha256(tiny[1][1] / "manifest.json")
    assert manifest["results"]["results_sha256"] == sha256(tiny[1][1] / "results.json")
    assert "card.html" in manifest["templates"]["files"]


def test_verify_report_folder_and_rerender(cli, reports):
    r = cli("verify", reports, "--rerender")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "identical" in r.stdout


@pytest.mark.parametrize("name", ["committee.pdf", "pingyi-report.xlsx", "html/index.html", "cards/*.pdf"])
def test_verify_report_detects_one_edited_byte(cli, reports, tmp_path, name):
    folder = tmp_path / "reports"
    shutil.copytree(reports, folder)
    target = sorted(folder.glob(name))[0]
    data = bytearray(target.read_bytes())
    at = len(data) // 2
    data[at] = (data[at] + 1) % 256
    target.write_bytes(bytes(data))
    r = cli("verify", folder)
    assert r.exit_code == 1, r.stdout + r.stderr
    assert f"EDITED {target.relative_to(folder).as_posix()}" in r.stdout


def test_verify_report_refuses_an_unlisted_file(cli, reports, tmp_path):
    folder = tmp_path / "reports"
    shutil.copytree(reports, folder)
    shutil.copy(next(folder.glob("cards/*.pdf")), folder / "cards" / "H99999999999.pdf")
    r = cli("verify", folder)
    assert r.exit_code == 1
    assert "EXTRA cards/H99999999999.pdf" in r.stdout


def test_report_refuses_results_edited_after_the_run(cli, tiny, tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(tiny[1][1], folder)
    doc = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    doc["providers"][0]["grade"] = "优秀"
    (folder / "results.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = cli("report", "--results", folder, "--out", tmp_path / "rep", "--format", "xlsx")
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "results.json: differs from the file its manifest records" in r.stderr
    assert not (tmp_path / "rep").exists()


def test_messages_quote_input_literally(cli, tiny, tmp_path):
    """A column named like console markup or an emoji code is printed as typed."""
    data = tmp_path / "data"
    shutil.copytree(tiny[1][0], data)
    providers = next(p for p in data.iterdir() if p.stem == "providers")
    if providers.suffix != ".csv":  # the mixed layout ships providers.xlsx: write it as CSV
        from openpyxl import load_workbook

        ws = load_workbook(providers, read_only=True).active
        rows = [[("" if v is None else str(v)) for v in row] for row in ws.iter_rows(values_only=True)]
        providers.unlink()
        providers = data / "providers.csv"
    else:
        rows = [line.split(",") for line in providers.read_text(encoding="utf-8").splitlines()]
    rows[0] = [":x:" if i == 0 else "[bold]y[/bold]" if i == 1 else h for i, h in enumerate(rows[0])]
    providers.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    r = cli("score", "--data", data, "--out", tmp_path / "out")
    assert r.exit_code == 2, r.stdout + r.stderr
    assert ":x:" in r.stderr and "[bold]y[/bold]" in r.stderr
    assert "\u274c" not in r.stderr


KILL_AT_WRITE = """
import os, pathlib, shutil, signal, sys
k, calls = int(sys.argv[1]), [0]
def killer(real):
    def wrapped(*args, **kwargs):
        calls[0] += 1
        if calls[0] == k:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapped
pathlib.Path.write_text = killer(pathlib.Path.write_text)
shutil.copyfile = killer(shutil.copyfile)
real_open = pathlib.Path.open
counted_open = killer(real_open)
def opened(self, mode="r", *args, **kwargs):  # a file streamed through Path.open(w) is a write too
    return (counted_open if any(m in mode for m in "wax") else real_open)(self, mode, *args, **kwargs)
pathlib.Path.open = opened
from pingyi.cli import main
sys.argv = ["pingyi", *sys.argv[2:]]
main()
"""


def test_score_killed_at_every_file_write(tiny, tmp_path):
    """SIGKILL at the k-th file write of a run, for every k until a run completes: the random trials
    above rarely land in the short writing phase, these land in it every time."""
    out = tmp_path / "results"
    subprocess.run(_pingyi("score", "--data", tiny[1][0], "--out", out), check=True, capture_output=True)
    before = _complete_results(out)
    for k in range(1, 40):
        cmd = [sys.executable, "-c", KILL_AT_WRITE, str(k), "score", "--data", tiny[2][0], "--out", str(out)]
        r = subprocess.run(cmd, capture_output=True, timeout=300)
        if r.returncode == 0:
            assert _complete_results(out) != before  # the new set, whole
            break
        assert r.returncode == -signal.SIGKILL, r.stderr
        assert _complete_results(out) == before, f"killed at write {k}: --out is not the previous set"
    else:
        pytest.fail("the run never completed")
    assert k > 4  # the run writes at least the CSVs, results.json and the manifest
