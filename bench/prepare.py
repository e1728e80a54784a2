"""Benchmark prepare@wikidata5m and prepare@conceptnet on synthetic inputs of upstream size.

    python bench/prepare.py [--quick] [--scale X] [--only wikidata5m|conceptnet]
                            [--workdir DIR] [--keep] [--regenerate]

1. Writes synthetic raw files in the upstream formats (bench/_synth.py, in a spawned process) at
   full upstream size (``--quick``: 1 %), cached under ``<workdir>/inputs/`` keyed by source,
   scale and generator version, so a rerun skips generation unless ``--regenerate``.
2. Runs ``kg_ml.sources.prepare_source`` for each source in a fresh child process and measures
   its wall time and peak RSS (the child's own ``ru_maxrss``, plus a psutil-polled sum over the
   child's process tree in case the parser ever starts workers). The child's log lines are echoed
   with elapsed time and current RSS, and the log line in force at the RSS peak is reported as the
   phase that peaked.
3. Prints progress lines, then as the last stdout line one JSON object. ``ok`` is true when every
   run succeeded, stayed under ``--target-rss-mb`` (default 4096) and emitted every input row.
   The exit status is 1 only if a run crashed (nothing measured), else 0.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import multiprocessing
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
import tty
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

import _synth  # bench/ is sys.path[0] when run as `python bench/prepare.py`

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("wikidata5m", "conceptnet")
QUICK_SCALE = 0.002
TARGET_RSS_MB = 4096
POLL_S = 0.1
PROGRESS_EVERY_S = 10.0  # tqdm redraws are echoed at most this often
_PIECE = re.compile(rb"[^\r\n]*[\r\n]")  # a log line ('\n') or a progress redraw ('\r')
_BAR = re.compile(r"\|[^|]*\|")
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")  # cursor moves of tqdm's multi-bar layout

# Runs inside the measured child: import, prepare, then report its own peak RSS through a file
# (stdout/stderr carry the parser's logs and progress bars).
CHILD = """
import json, logging, resource, sys, time
from pathlib import Path
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
t0 = time.perf_counter()
from kg_ml.sources import prepare_source
t1 = time.perf_counter()
name, raw, out, result = sys.argv[1:5]
metrics = prepare_source(name, Path(raw), Path(out), strict=True)
t2 = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
Path(result).write_text(json.dumps({
    "metrics": metrics, "seconds": t2 - t1, "import_seconds": t1 - t0,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "maxrss_kb": usage.ru_maxrss, "workers_maxrss_kb": workers.ru_maxrss}, default=str))
"""


def say(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------- inputs

def ensure_inputs(source: str, scale: float, workdir: Path, regenerate: bool) -> tuple[Path, dict]:
    """Generated raw dir for ``source`` at ``scale`` and its manifest; generated only if missing."""
    key = f"{source}-x{scale:g}-v{_synth.GEN_VERSION}"
    raw = workdir / "inputs" / key
    manifest_path = raw.with_name(key + ".json")  # written last: its presence means complete
    if not regenerate and raw.is_dir() and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        say(f"[{source}] reusing inputs {raw} (generated in {manifest['gen_seconds']:.0f}s)")
        manifest["reused"] = True
        return raw, manifest
    manifest_path.unlink(missing_ok=True)
    tmp = raw.with_name(key + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(raw, ignore_errors=True)
    tmp.mkdir(parents=True)
    say(f"[{source}] generating inputs at scale {scale:g} into {raw}")
    t0 = time.perf_counter()
    # Generate in a spawned process: this parent must stay small, because a child's ru_maxrss
    # starts from the RSS high-water mark of the process that forked it (Linux keeps it on exec).
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        counts = ex.submit(_synth.WRITERS[source], tmp, scale, say).result()
    gen_seconds = time.perf_counter() - t0
    tmp.rename(raw)
    manifest = {"source": source, "scale": scale, "gen_version": _synth.GEN_VERSION,
                "gen_seconds": round(gen_seconds, 2),
                "input_mb": round(sum(p.stat().st_size for p in raw.iterdir()) / 2**20, 1), **counts}
    manifest_path.write_text(json.dumps(manifest, indent=1))
    say(f"[{source}] generated {manifest['input_mb']:,} MB in {gen_seconds:.1f}s")
    manifest["reused"] = False
    return raw, manifest


# --------------------------------------------------------------------------- measured child

@dataclass
class Watch:
    """What the parent sees of a running child: RSS samples and timestamped log lines."""

    t0: float = field(default_factory=time.perf_counter)
    rss_mb: float = 0.0
    peak_mb: float = 0.0
    peak_t: float = 0.0
    lines: list[tuple[float, str]] = field(default_factory=list)

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def phase_at(self, t: float) -> str:
        """The last log line printed before time ``t`` (what the child was doing then)."""
        before = [text for when, text in self.lines if when <= t]
        if not before:
            return "(start-up)"
        return " ".join(_BAR.sub(" ", before[-1]).split())  # a tqdm line without its bar


def _tree_rss_mb(proc: psutil.Process) -> float:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:  # exited between listing and reading
            pass
    return total / 2**20


def _pty_chunks(fd: int) -> Iterator[bytes]:
    """What the child writes to its terminal, until it exits (Linux reports EIO then)."""
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            return
        if not chunk:
            return
        yield chunk


def _echo(chunks: Iterator[bytes], source: str, watch: Watch) -> None:
    """Echo the child's output: log lines in full, tqdm redraws ('\\r') at most every 10 s.

    Every piece is recorded, so ``phase_at`` also sees which progress bar was running.
    """
    last_progress = -PROGRESS_EVERY_S
    buf = b""
    for chunk in chunks:
        buf += _ANSI.sub(b"", chunk)
        end = 0
        for m in _PIECE.finditer(buf):
            end = m.end()
            text = m.group()[:-1].decode("utf-8", "replace").strip()
            if not text:
                # a bar with leave=False erases itself when done: what follows is the next phase
                last = watch.lines[-1][1] if watch.lines else ""
                if "%|" in last and not last.startswith("after "):
                    watch.lines.append((watch.now(), f"after {last}"))
                continue
            watch.lines.append((watch.now(), text))
            if m.group().endswith(b"\r"):  # a progress bar redrawing in place
                if watch.now() - last_progress < PROGRESS_EVERY_S:
                    continue
                last_progress = watch.now()
            say(f"  [{source} {watch.now():7.1f}s {watch.rss_mb:7.0f} MB] {text}")
        buf = buf[end:]
    if text := buf.decode("utf-8", "replace").strip():
        watch.lines.append((watch.now(), text))
        say(f"  [{source} {watch.now():7.1f}s] {text}")


def run_prepare(source: str, raw: Path, out: Path, result: Path) -> tuple[int, dict, Watch]:
    """Run prepare_source in a fresh interpreter; returns (exit code, child report, watch)."""
    shutil.rmtree(out, ignore_errors=True)
    result.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    # The child writes to a pseudo-terminal so that its tqdm bars (off when not a tty) show which
    # phase is running; raw mode keeps '\n' from becoming '\r\n'.
    master, slave = pty.openpty()
    tty.setraw(slave)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 110, 0, 0))
    watch = Watch()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, source, str(raw), str(out), str(result)],
                            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    ps = psutil.Process(proc.pid)
    echo = threading.Thread(target=_echo, args=(_pty_chunks(master), source, watch), daemon=True)
    echo.start()
    while proc.poll() is None:
        try:
            watch.rss_mb = _tree_rss_mb(ps)
        except psutil.Error:
            break
        if watch.rss_mb > watch.peak_mb:
            watch.peak_mb, watch.peak_t = watch.rss_mb, watch.now()
        time.sleep(POLL_S)
    code = proc.wait()
    echo.join()
    os.close(master)
    report = json.loads(result.read_text()) if code == 0 and result.is_file() else {}
    report["process_seconds"] = watch.now()
    return code, report, watch


def summarise(source: str, manifest: dict, code: int, report: dict, watch: Watch, out: Path,
              target_mb: float) -> dict:
    """The per-source JSON entry (figures rounded for reading)."""
    entry: dict = {"gen_seconds": manifest["gen_seconds"], "gen_reused": manifest["reused"],
                   "input_mb": manifest["input_mb"], "process_seconds": round(report["process_seconds"], 2)}
    if code != 0:
        tail = [text for _, text in watch.lines[-5:]]
        return {**entry, "ok": False, "exit_code": code, "error": tail,
                "peak_rss_tree_mb": round(watch.peak_mb)}
    m = report["metrics"]
    sec = report["seconds"]
    peak = report["maxrss_kb"] / 1024
    entry.update({
        "seconds": round(sec, 2), "import_seconds": round(report["import_seconds"], 2),
        "cpu_seconds": round(report["cpu_seconds"], 2),
        "peak_rss_mb": round(peak), "peak_rss_tree_mb": round(watch.peak_mb),
        "workers_peak_rss_mb": round(report["workers_maxrss_kb"] / 1024),
        "peak_at_s": round(watch.peak_t, 1), "peak_phase": watch.phase_at(watch.peak_t),
        "output_mb": round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20, 1),
    })
    if source == "wikidata5m":
        triples = sum(v for k, v in m.items() if k.startswith("triples_") and k.endswith("_rows"))
        entry.update({"triples": triples, "entities": m.get("entities"), "relations": m.get("relations"),
                      "triples_per_s": round(triples / sec), "entities_in": manifest["entities"],
                      "aliases_in": manifest["aliases"], "triples_in": manifest["triples"]})
        complete = triples == manifest["triples"] and m.get("entities", 0) >= manifest["entities"]
    else:
        entry.update({"assertions": m.get("rows"), "english_rows": m.get("english_rows"),
                      "nodes": m.get("nodes"), "edges": m.get("edges"),
                      "assertions_per_s": round(m.get("rows", 0) / sec),
                      "assertions_in": manifest["assertions"], "en_en_in": manifest["en_en"]})
        complete = m.get("rows") == manifest["assertions"]
    entry["rows_complete"] = complete
    entry["metrics"] = m
    entry["ok"] = bool(complete and max(peak, watch.peak_mb) <= target_mb)
    return entry


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"scale {QUICK_SCALE:g} (0.2%% of every count)")
    ap.add_argument("--scale", type=float, help="fraction of upstream size (default 1.0; overrides --quick)")
    ap.add_argument("--only", choices=SOURCES, help="benchmark one source")
    ap.add_argument("--workdir", type=Path, default=REPO / "bench" / "out",
                    help="inputs cache and outputs (default bench/out/)")
    ap.add_argument("--keep", action="store_true", help="keep the prepared Parquet under <workdir>/prepared/")
    ap.add_argument("--regenerate", action="store_true", help="regenerate inputs even if cached")
    ap.add_argument("--target-rss-mb", type=float, default=TARGET_RSS_MB)
    args = ap.parse_args(argv)
    scale = args.scale if args.scale is not None else (QUICK_SCALE if args.quick else 1.0)
    workdir = args.workdir.resolve()
    sources = [args.only] if args.only else list(SOURCES)

    summary: dict = {"bench": "prepare", "scale": scale}
    crashed = False
    for source in sources:
        raw, manifest = ensure_inputs(source, scale, workdir, args.regenerate)
        out = workdir / "prepared" / source
        say(f"[{source}] prepare_source in a child process ({manifest['input_mb']:,} MB of input)")
        code, report, watch = run_prepare(source, raw, out, workdir / f"{source}.result.json")
        entry = summarise(source, manifest, code, report, watch, out, args.target_rss_mb)
        if code != 0:
            crashed = True
            say(f"[{source}] FAILED (exit {code}) after {report['process_seconds']:.1f}s")
        else:
            rate = entry.get("triples_per_s") or entry.get("assertions_per_s")
            say(f"[{source}] {entry['seconds']:.1f}s ({rate:,} rows/s), peak RSS {entry['peak_rss_mb']:,} MB "
                f"(tree {entry['peak_rss_tree_mb']:,} MB at {entry['peak_at_s']}s during: "
                f"{entry['peak_phase']!r}), rows complete: {entry['rows_complete']}")
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
        summary[source] = entry
    summary["target_peak_rss_mb"] = args.target_rss_mb
    summary["ok"] = all(summary[s]["ok"] for s in sources)
    print(json.dumps(summary), flush=True)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
