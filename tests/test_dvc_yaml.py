"""dvc.yaml is the one place a stage's paths come from: each ``cmd`` passes them, they agree with the
stage CLI's defaults (kg_ml/paths.py), and every path a ``cmd`` names is a declared dep or output."""

from __future__ import annotations

import importlib.util
import shlex
from functools import cache
from pathlib import Path

import pytest
from dvc.repo import Repo

from kg_ml import paths as layout
from kg_ml.cli import _fill_defaults

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("data/", "models/", "checkpoints/", "plots/", "metrics/", "reports/")


@cache
def _stages() -> list[tuple[str, str, list[str], list[str]]]:
    """(name, cmd, deps, outs) of every stage, foreach items expanded."""
    repo = Repo(str(REPO))
    try:
        return [(s.addressing, s.cmd, [d.def_path for d in s.deps], [o.def_path for o in s.outs])
                for s in repo.index.stages]
    finally:
        repo.close()


@cache
def _parser(script: str):
    spec = importlib.util.spec_from_file_location(f"stage_{Path(script).stem}", REPO / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.parser()


def _is_path(value) -> bool:
    return isinstance(value, str) and value.startswith(ROOTS)


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


@pytest.mark.parametrize("name,cmd,deps,outs", _stages(), ids=[s[0] for s in _stages()])
def test_cmd_paths_are_declared_and_match_the_cli_defaults(name, cmd, deps, outs) -> None:
    python, script, *argv = shlex.split(cmd)
    assert python == "python" and script.startswith("stages/"), cmd
    parser = _parser(script)
    given = parser.parse_args(argv)
    _fill_defaults(parser, given)
    paths = {k: v for k, v in vars(given).items() if _is_path(v)}
    assert paths, f"{name}: cmd passes no paths"
    declared = deps + outs
    for key, value in paths.items():
        # a directory argument may stand for the files in it that the stage declares one by one
        assert _under(value, declared) or any(_under(d, [value]) for d in declared), \
            f"{name}: --{key} {value} is neither a dep nor an output"
    for out in outs:
        assert any(_under(out, [v]) or _under(v, [out]) for v in paths.values()), \
            f"{name}: output {out} is not passed in cmd"
    # The CLI's own defaults (for runs by hand) name the same paths as dvc.yaml.
    flags = {a.dest: a.option_strings[0] for a in parser._actions if a.option_strings}
    kept = []
    it = iter(argv)
    for token in it:
        value = next(it) if not token.startswith("--no-") and "=" not in token else None
        dest = next((d for d, f in flags.items() if f == token), None)
        if dest not in paths:
            kept += [token] + ([value] if value is not None else [])
    defaults = parser.parse_args(kept)
    _fill_defaults(parser, defaults)
    for key, value in paths.items():
        default = getattr(defaults, key)
        if default is not None:  # None: the default depends on params (e.g. the task's graph)
            assert str(default) == value, f"{name}: --{key} is {value} in dvc.yaml, {default} by default"


@pytest.mark.parametrize("name,cmd,deps,outs", _stages(), ids=[s[0] for s in _stages()])
def test_code_reaches_a_stage_only_through_its_scripts_fingerprint(name, cmd, deps, outs) -> None:
    """Every stage but `code` names the code it runs by one dep, its script's fingerprint; a kg_ml
    file named directly would be a second, unchecked list (stages/code.yaml is the one)."""
    script = Path(shlex.split(cmd)[1]).stem
    code = [d for d in deps if d.startswith(("kg_ml", "stages", layout.CODE.as_posix()))]
    if name == "code":
        assert sorted(code) == ["kg_ml", "stages"] and outs == [layout.CODE.as_posix()]
    else:
        assert code == [layout.code_fingerprint(script).as_posix()], name


def test_no_command_pins_a_setting_that_the_full_profile_changes() -> None:
    """DVC fills a command's ``${a.b.c}`` from params.yaml as written, the sample's value; where a
    ``full:`` block overrides it (``a.full.b.c``, ``a.b.full.c``, ...) the full profile would get
    the sample's value (the pretrain stage once read the medical graph's embeddings for a
    ConceptNet corpus). Such a stage must take the setting from params instead."""
    import re

    import yaml

    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    cmds = [(v.get("do") or v)["cmd"] for v in stages.values()]
    pinned = []
    for placeholder in sorted({p for c in cmds for p in re.findall(r"\$\{([a-z_][\w.]*)\}", c)}):
        parts = placeholder.split(".")
        for i in range(1, len(parts)):
            node = raw
            for key in [*parts[:i], "full", *parts[i:]]:
                node = node.get(key) if isinstance(node, dict) else None
            if node is not None:
                pinned.append(placeholder)
    assert pinned == []
