"""Code fingerprints (kg_ml/code_fingerprints.py, the `code` stage): a stage's one code dep changes
exactly when a file its script runs changes, and a bad stages/code.yaml fails in one line."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
import yaml

from kg_ml.code_fingerprints import fingerprinted_files, load_spec, write_fingerprints
from kg_ml.errors import InputError


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A toy repo: two stage scripts, a kg_ml package, the code stage's own script."""
    files = {"stages/train.py": "import kg_ml.train\n", "stages/report.py": "import kg_ml.report\n",
             "stages/code.py": "", "kg_ml/__init__.py": "", "kg_ml/cli.py": "run = 1\n",
             "kg_ml/train/__init__.py": "", "kg_ml/train/loop.py": "steps = 3\n",
             "kg_ml/report.py": "x = 1\n"}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    _spec(tmp_path, {"common": ["kg_ml/__init__.py", "kg_ml/cli.py"],
                     "scripts": {"train": ["kg_ml/train"], "report": ["kg_ml/report.py"]}})
    return tmp_path


def _spec(root: Path, data) -> Path:
    path = root / "stages" / "code.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _write(root: Path) -> dict[str, str]:
    write_fingerprints(root / "stages" / "code.yaml", root, root / "stages", root / "data" / "code")
    return {p.name: p.read_text() for p in sorted((root / "data" / "code").iterdir())}


def test_a_fingerprint_is_sha256sum_of_the_script_and_its_files(repo: Path) -> None:
    out = _write(repo)
    assert sorted(out) == ["report.sha256", "train.sha256"]  # none for the code stage itself
    lines = out["train.sha256"].splitlines()
    assert [line.split("  ")[1] for line in lines] == [
        "stages/train.py", "kg_ml/__init__.py", "kg_ml/cli.py", "kg_ml/train/__init__.py",
        "kg_ml/train/loop.py"]
    for line in lines:  # the format `sha256sum -c` checks
        digest, rel = line.split("  ")
        assert digest == hashlib.sha256((repo / rel).read_bytes()).hexdigest()
    check = subprocess.run(["sha256sum", "-c", "--quiet", repo / "data" / "code" / "train.sha256"],
                           cwd=repo, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = fingerprinted_files(repo / "data" / "code" / "train.sha256")
    assert listed == [line.split("  ")[1] for line in lines]


def test_only_the_stages_whose_code_changed_get_a_new_fingerprint(repo: Path) -> None:
    before = _write(repo)
    (repo / "kg_ml" / "train" / "loop.py").write_text("steps = 4\n")
    after = _write(repo)
    assert after["train.sha256"] != before["train.sha256"]
    assert after["report.sha256"] == before["report.sha256"]
    (repo / "kg_ml" / "cli.py").write_text("run = 2\n")  # common code: every stage
    assert all(v != after[k] for k, v in _write(repo).items())


def test_bytecode_and_unlisted_files_are_not_hashed(repo: Path) -> None:
    before = _write(repo)
    for rel in ("kg_ml/train/__pycache__/loop.cpython-311.pyc", "kg_ml/train/old.pyc", "kg_ml/other.py"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(b"\x00bytecode")
    assert _write(repo) == before
    (repo / "kg_ml" / "train" / "data.txt").write_text("read by the package\n")  # new, in a listed dir
    assert _write(repo)["train.sha256"] != before["train.sha256"]


@pytest.mark.parametrize("scripts, message", [
    ({"train": ["kg_ml/missing.py"], "report": []}, "field 'scripts.train': kg_ml/missing.py does not exist"),
    ({"train": ["../outside.py"], "report": []},
     "field 'scripts.train': '../outside.py' must be a normalised path"),
    ({"train": ["/etc/passwd"], "report": []},
     "field 'scripts.train': '/etc/passwd' must be a normalised path"),
    ({"train": []}, "field 'scripts': no entry for report (list the kg_ml code each imports)"),
    ({"train": [], "report": [], "gone": []}, "field 'scripts.gone': no script"),
    ({"train": "kg_ml/train", "report": []}, "field 'scripts.train': expected a list of paths"),
])
def test_a_bad_spec_fails_in_one_line_naming_the_entry(repo: Path, scripts, message) -> None:
    spec = _spec(repo, {"common": [], "scripts": scripts})
    with pytest.raises(InputError) as e:
        _write(repo)
    assert str(e.value).startswith(f"{spec}: {message}")
    assert "\n" not in str(e.value)
    assert not (repo / "data" / "code").exists()  # no partial output


def test_invalid_yaml_names_the_line(repo: Path) -> None:
    spec = _spec(repo, "common: []\nscripts:\n  train: [kg_ml/train\n")
    with pytest.raises(InputError, match=rf"^{spec}:\d+: invalid YAML"):
        load_spec(spec, repo, repo / "stages")


def test_the_committed_spec_is_valid_and_covers_every_stage_script(repo_root: Path) -> None:
    listed = load_spec(repo_root / "stages" / "code.yaml", repo_root, repo_root / "stages")
    assert set(listed) == {p.stem for p in (repo_root / "stages").glob("*.py")} - {"code"}
    assert all("kg_ml/cli.py" in entries for entries in listed.values())
