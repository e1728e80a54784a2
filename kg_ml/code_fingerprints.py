"""Code fingerprints: one small file per stage script that changes exactly when the code it runs does.

``stages/code.yaml`` lists the kg_ml files each stage script imports (a directory stands for every
file under it; ``common`` lists what every script imports). The ``code`` stage writes
``data/code/<script>.sha256`` for each script, in ``sha256sum`` format: the script itself, then
every listed file, sorted. Every other stage depends on its script's fingerprint instead of on each
file, so dvc.lock keeps one code entry per stage where it kept ~24: DVC re-parses and rewrites the
whole lock after every stage, 0.9 s at its former 200 kB.

Bytecode (``__pycache__/``, ``*.pyc``) is never hashed: it depends on the interpreter, not the code.
``sha256sum -c data/code/<script>.sha256`` names the files that changed since the last run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import yaml

from kg_ml.errors import InputError

SUFFIX = ".sha256"


def _is_bytecode(path: Path) -> bool:
    return path.suffix == ".pyc" or "__pycache__" in path.parts


def _entry(spec: Path, root: Path, where: str, entry: object) -> str:
    """A listed path, checked: a relative path inside the repo that exists."""
    if not isinstance(entry, str) or not entry:
        raise InputError(spec, f"{entry!r} is not a path", field=where)
    pure = PurePosixPath(entry)
    if pure.is_absolute() or ".." in pure.parts or str(pure) != entry.rstrip("/"):
        raise InputError(spec, f"{entry!r} must be a normalised path relative to the repo root", field=where)
    if not (root / pure).exists():
        raise InputError(spec, f"{entry} does not exist", field=where)
    return str(pure)


def load_spec(spec: str | Path, root: str | Path, scripts_dir: str | Path, *,
              own: str = "code") -> dict[str, list[str]]:
    """Script name -> its listed paths (``common`` included), validated against the repo.

    Every ``<scripts_dir>/*.py`` but ``own`` (the code stage's script) needs an entry, and every
    entry a script: a stage without a fingerprint would fail later, in DVC, less clearly."""
    spec, root, scripts_dir = Path(spec), Path(root).resolve(), Path(scripts_dir)
    try:
        raw = yaml.safe_load(spec.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(spec, f"invalid YAML: {getattr(e, 'problem', e)}",
                         line=mark.line + 1 if mark else None) from None
    if not isinstance(raw, Mapping) or set(raw) != {"common", "scripts"}:
        raise InputError(spec, "expected exactly the keys 'common' and 'scripts'")
    common, scripts = raw["common"], raw["scripts"]
    if not isinstance(common, list):
        raise InputError(spec, "expected a list of paths", field="common")
    if not isinstance(scripts, Mapping):
        raise InputError(spec, "expected a mapping: script name -> list of paths", field="scripts")
    shared = [_entry(spec, root, "common", e) for e in common]
    out = {}
    for name, entries in scripts.items():
        where = f"scripts.{name}"
        if not (scripts_dir / f"{name}.py").is_file():
            raise InputError(spec, f"no script {scripts_dir / f'{name}.py'}", field=where)
        if not isinstance(entries, list):
            raise InputError(spec, "expected a list of paths", field=where)
        out[name] = sorted(set(shared) | {_entry(spec, root, where, e) for e in entries})
    missing = sorted(p.stem for p in scripts_dir.glob("*.py") if p.stem not in out and p.stem != own)
    if missing:
        raise InputError(spec, f"no entry for {', '.join(missing)} (list the kg_ml code each imports)",
                         field="scripts")
    return out


def files_of(root: Path, entry: str) -> list[str]:
    """The repo-relative files an entry stands for (a directory: every file under it), sorted."""
    path = root / entry
    if path.is_file():
        return [entry]
    return sorted(p.relative_to(root).as_posix() for p in path.rglob("*")
                  if p.is_file() and not _is_bytecode(p.relative_to(root)))


def fingerprint(root: str | Path, script: str, entries: list[str]) -> str:
    """``sha256sum`` lines for ``script`` and every file of ``entries`` (each once, sorted); all
    paths relative to ``root``."""
    root = Path(root).resolve()
    files = [script, *sorted({f for e in entries for f in files_of(root, e)} - {script})]
    return "".join(f"{hashlib.sha256((root / f).read_bytes()).hexdigest()}  {f}\n" for f in files)


def write_fingerprints(spec: str | Path, root: str | Path, scripts_dir: str | Path, out_dir: str | Path, *,
                       own: str = "code") -> None:
    """Write ``<out_dir>/<script>.sha256`` for every script of the spec (atomically, as one
    directory)."""
    from kg_ml.io import atomic_dir

    root, scripts_dir = Path(root).resolve(), Path(scripts_dir).resolve()
    listed = load_spec(spec, root, scripts_dir, own=own)
    with atomic_dir(out_dir) as tmp:
        for name, entries in listed.items():
            script = (scripts_dir / f"{name}.py").relative_to(root).as_posix()
            (tmp / f"{name}{SUFFIX}").write_text(fingerprint(root, script, entries))


def fingerprinted_files(path: str | Path) -> list[str]:
    """The repo-relative files a fingerprint covers (for the e2e check that deps cover imports)."""
    return [line.split("  ", 1)[1] for line in Path(path).read_text().splitlines()]
