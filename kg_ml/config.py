"""Typed view of params.yaml, validated when a stage starts.

Every section of params.yaml has a model here; unknown keys are errors, so a typo in an
override (`dvc exp run -S prepare.medqa.strcit=false`) fails loudly instead of being ignored.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from kg_ml.config_base import StrictModel
from kg_ml.errors import ConfigError
from kg_ml.graphs.config import GraphsParams
from kg_ml.grounding.config import GroundingParams
from kg_ml.kard.config import KardParams
from kg_ml.models.params import KgLmParams
from kg_ml.multitask.config import JointParams
from kg_ml.numerics import NumericsParams
from kg_ml.qa.config import TextKgParams
from kg_ml.report.config import ReportParams
from kg_ml.retrieval.config import RetrievalParams

SOURCE_NAMES = (
    "hotpotqa",
    "wikidata5m",
    "kgqa",
    "medqa",
    "conceptnet",
    "medical_kg",
    "knowledge_base",
    "rationales",
)
Profile = Literal["sample", "full"]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class FileSpec(StrictModel):
    """One file of a source: where it comes from and where it lands under data/raw/<source>/."""

    url: str
    path: str
    sha256: str | None = None
    extract: bool = False
    members: list[str] | None = None

    @field_validator("path")
    @classmethod
    def _relative(cls, v: str) -> str:
        p = PurePosixPath(v)
        if p.is_absolute() or ".." in p.parts or not p.parts:
            raise ValueError(f"must be a relative path inside the source directory, got {v!r}")
        return v

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str | None) -> str | None:
        if v is not None and not _SHA256.match(v):
            raise ValueError(f"must be 64 lowercase hex digits, got {v!r}")
        return v

    @model_validator(mode="after")
    def _members_need_extract(self) -> "FileSpec":
        if self.members is not None and not self.extract:
            raise ValueError("'members' only applies with extract: true")
        return self


class SourceProfile(StrictModel):
    """The files of one source in one profile, and what to tell a user who must fetch them by hand."""

    files: list[FileSpec] = Field(min_length=1)
    manual: str | None = None


class SourceConfig(StrictModel):
    sample: SourceProfile
    full: SourceProfile


MIRROR_ENV = "KG_ML_MIRROR"


def check_mirror(value: str) -> str:
    """A download mirror: an http(s) base URL with a host, a ``file:`` URL or a local directory
    path; returned without trailing slashes (the layout is ``<mirror>/<host>/<path>``)."""
    value = value.strip()
    stripped = value.rstrip("/")
    scheme, sep, rest = stripped.partition(":")
    scheme = scheme.lower() if sep and len(scheme) > 1 else ""  # "C:..." is a drive letter
    if scheme in ("http", "https"):
        host = rest.removeprefix("//").split("/", 1)[0]
        if not rest.startswith("//") or not host:
            raise ValueError(f"an http(s) mirror needs a host, e.g. https://mirror.example.org/kg-ml; "
                             f"got {value!r}")
        if "?" in rest or "#" in rest:
            raise ValueError(f"a mirror base URL takes no query or fragment, got {value!r}")
    elif scheme not in ("", "file") or not stripped or scheme == "file" and not rest.strip("/"):
        raise ValueError(f"must be an http(s) URL, a file: URL or a local directory, got {value!r}")
    return stripped


class DownloadParams(StrictModel):
    """download@<source> settings shared by every source.

    mirror: fetch every http(s) file from ``<mirror>/<host>/<path>`` instead of its upstream URL
    (query strings dropped; ``file:`` sources are never rewritten); an http(s) base URL, a
    ``file:`` URL or a local directory (relative: to the repo root). The environment variable
    ``KG_ML_MIRROR`` overrides it. Fill a mirror with ``python -m kg_ml.download --mirror-to DIR``.
    """

    mirror: str | None = None

    @field_validator("mirror")
    @classmethod
    def _mirror(cls, v: str | None) -> str | None:
        return None if v is None else check_mirror(v)


class TrainCapParams(StrictModel):
    """A cap on every training run, for smoke runs and the full-profile rehearsal (default: off).

    max_steps: every ``train:`` section of params.yaml (``full:`` blocks included) trains at most
    this many optimizer steps: its ``max_steps`` becomes the smaller of its own and this (null:
    no cap, nothing changes). Applied when params.yaml is loaded (`load_params`), so every
    training stage, and the stages it feeds, see it; training stages declare ``train_cap``.
    """

    max_steps: int | None = Field(None, ge=1)


def apply_train_cap(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` params with ``train_cap.max_steps`` written into every ``train:`` mapping (the same
    object when no cap is set)."""
    cap = (raw.get("train_cap") or {}).get("max_steps") if isinstance(raw.get("train_cap"), dict) else None
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
        return raw  # off, or invalid: validation names the field

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items()}
        if isinstance(out.get("train"), dict):
            own = out["train"].get("max_steps")
            out["train"] = {**out["train"], "max_steps": cap if not isinstance(own, int) else min(own, cap)}
        return out

    return {k: (v if k == "train_cap" else walk(v)) for k, v in raw.items()}


class PrepareOptions(StrictModel):
    """Options of prepare@<source>; `strict: false` skips and counts bad rows instead of failing."""

    strict: bool = True
    options: dict[str, bool | int | float | str] = Field(default_factory=dict)


class Params(StrictModel):
    """The whole params.yaml."""

    profile: Profile
    sources: dict[str, SourceConfig]
    download: DownloadParams = DownloadParams()
    prepare: dict[str, PrepareOptions]
    grounding: GroundingParams
    graphs: GraphsParams
    retrieval: RetrievalParams
    report: ReportParams
    kard: KardParams
    kg_lm: KgLmParams
    text_kg: TextKgParams
    joint: JointParams
    numerics: NumericsParams = NumericsParams()
    train_cap: TrainCapParams = TrainCapParams()

    @model_validator(mode="after")
    def _known_sources(self) -> "Params":
        for section in ("sources", "prepare"):
            keys = set(getattr(self, section))
            if unknown := sorted(keys - set(SOURCE_NAMES)):
                raise ValueError(f"{section}: unknown source(s) {unknown}; known: {list(SOURCE_NAMES)}")
            if missing := sorted(set(SOURCE_NAMES) - keys):
                raise ValueError(f"{section}: missing source(s) {missing}")
        return self

    @model_validator(mode="after")
    def _kard_reads_the_retrieve_stage(self) -> "Params":
        # evaluate_kard reads retrieve@<task>'s question rankings instead of retrieving again
        for profile in ("sample", "full"):
            kard = self.kard.for_profile(profile).inference.retriever
            if kard != self.retrieval.retrieve.retriever:
                raise ValueError(f"kard.inference.retriever is {kard!r} ({profile} profile) but "
                                 f"retrieval.retrieve.retriever is {self.retrieval.retrieve.retriever!r}: "
                                 "evaluate_kard reads retrieve's rankings, so set both alike")
        return self

    def source(self, name: str, profile: Profile | None = None) -> SourceProfile:
        """The file list of source ``name`` in ``profile`` (default: the active profile)."""
        check_source(name)
        return getattr(self.sources[name], profile or self.profile)


def check_source(name: str) -> str:
    if name not in SOURCE_NAMES:
        raise ConfigError(f"unknown source {name!r}; known sources: {', '.join(SOURCE_NAMES)}")
    return name


def _one_line(err: ValidationError, path: Path) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    got = f" (got {first['input']!r})" if "input" in first and not isinstance(first["input"], dict) else ""
    more = f" [+{err.error_count() - 1} more]" if err.error_count() > 1 else ""
    where = f"field '{loc}': " if loc else ""
    return f"{path}: {where}{first['msg']}{got}{more}"


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml; any problem becomes a one-line ConfigError."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: invalid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return Params.model_validate(apply_train_cap(raw))
    except ValidationError as e:
        raise ConfigError(_one_line(e, path)) from None
