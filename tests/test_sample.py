"""The bundled sample: regenerable byte for byte, parseable like the real files, and coherent."""

from __future__ import annotations

import csv
import gzip
import json
import re
import tarfile
from pathlib import Path

import pytest

from kg_ml.sample import generate
from kg_ml.sample.__main__ import main

COMMITTED = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "sample"
    generate(out, seed=0)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _tar(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_regeneration_is_byte_identical_to_committed_sample(sample: Path) -> None:
    committed, fresh = _files(COMMITTED), _files(sample)
    assert sorted(committed) == sorted(fresh)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"regenerated files differ from data/sample: {changed}"


def test_other_seed_changes_the_world(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path / "s1"), "--seed", "1"]) == 0
    name = "medqa/phrases_no_exclude_dev.jsonl"
    assert (tmp_path / "s1" / name).read_bytes() != (COMMITTED / name).read_bytes()


def test_archives_have_fixed_metadata(sample: Path) -> None:
    for path in sample.rglob("*.gz"):
        assert path.read_bytes()[4:8] == b"\0\0\0\0", f"{path}: gzip mtime not 0"
    for path in sample.rglob("*.tar.gz"):
        with tarfile.open(path, "r:gz") as tar:
            members = tar.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert all(m.mtime == 0 and m.uid == 0 and m.uname == "" and m.mode == 0o644 for m in members)


def test_mrqa_spans_match_answers(sample: Path) -> None:
    for split in ("train", "dev"):
        lines = _jsonl_gz(sample / "hotpotqa" / split / "HotpotQA.jsonl.gz")
        assert lines[0] == {"header": {"dataset": "HotpotQA", "split": split}}
        assert len(lines) - 1 == {"train": 800, "dev": 200}[split]
        for rec in lines[1:]:
            assert list(rec) == ["id", "context", "qas", "context_tokens"]
            ctx, toks = rec["context"], rec["context_tokens"]
            assert ctx.startswith("[PAR] [TLE] ") and " [SEP] " in ctx
            assert all(ctx[off:off + len(tok)] == tok for tok, off in toks)
            for qa in rec["qas"]:
                assert list(qa) == ["answers", "question", "id", "qid", "question_tokens",
                                    "detected_answers"]
                for det in qa["detected_answers"]:
                    assert det["text"] in qa["answers"] and det["char_spans"]
                    for (s, e), (ts, te) in zip(det["char_spans"], det["token_spans"]):
                        assert ctx[s:e + 1] == det["text"]  # inclusive at both ends
                        assert toks[ts][1] == s and toks[te][1] + len(toks[te][0]) - 1 == e


def test_wikidata_held_out_triples_are_seen_in_train(sample: Path) -> None:
    members = _tar(sample / "wikidata5m" / "wikidata5m_transductive.tar.gz")
    split = {name.rsplit("_", 1)[1][:-4]: [tuple(line.split("\t")) for line in data.decode().splitlines()]
             for name, data in members.items()}
    assert sorted(split) == ["test", "train", "valid"]
    entities = {x for h, _, t in split["train"] for x in (h, t)}
    relations = {r for _, r, _ in split["train"]}
    for name in ("valid", "test"):
        assert 0.03 * len(split["train"]) < len(split[name]) < 0.07 * len(split["train"])
        assert all(h in entities and t in entities and r in relations for h, r, t in split[name])
    every = split["train"] + split["valid"] + split["test"]
    assert len(set(every)) == len(every), "a triple appears twice"
    aliases = _tar(sample / "wikidata5m" / "wikidata5m_alias.tar.gz")
    names = [line.split("\t")[1] for line in aliases["wikidata5m_entity.txt"].decode().splitlines()]
    assert len(names) != len(set(names)), "expected colliding canonical names"
    assert any("|" in n for n in names) and any(not n.isascii() for n in names)
    rel_lines = aliases["wikidata5m_relation.txt"].decode().splitlines()
    assert {line.split("\t")[0] for line in rel_lines} >= relations


def test_kgqa_lines_are_metaqa_format(sample: Path) -> None:
    for split in ("train", "dev", "test"):
        for line in (sample / "kgqa" / f"qa_{split}.txt").read_text(encoding="utf-8").splitlines():
            question, answers = line.split("\t")
            assert re.search(r"\[[^\]]+\]", question) and all(answers.split("|"))


def _medical_kg(sample: Path) -> tuple[dict[str, str], dict[str, set[str]], dict[str, set[str]]]:
    """Canonical name -> CUI; drug CUI -> treated diseases; disease CUI -> symptom names."""
    cui_of, name_of = {}, {}
    for line in (sample / "medical_kg" / "concept_names.txt").read_text(encoding="utf-8").splitlines():
        cui, name = line.split("\t")
        if cui not in name_of:  # first line per CUI is the canonical name
            name_of[cui] = name
            cui_of[name] = cui
    treats: dict[str, set[str]] = {}
    symptoms: dict[str, set[str]] = {}
    for line in (sample / "medical_kg" / "umls.csv").read_text().splitlines():
        rel, head, tail, weight = line.split("\t")
        assert float(weight) > 0
        if rel == "may_treat":
            treats.setdefault(head, set()).add(tail)
        elif rel == "has_symptom":
            symptoms.setdefault(head, set()).add(name_of[tail])
    concepts = (sample / "medical_kg" / "concepts.txt").read_text().splitlines()
    assert concepts == sorted(name_of) and all(re.fullmatch(r"C\d{7}", c) for c in concepts)
    return cui_of, treats, symptoms


def test_medqa_answers_follow_from_the_medical_kg(sample: Path) -> None:
    cui_of, treats, symptoms = _medical_kg(sample)

    def shown(disease_cui: str, question: str) -> bool:
        return sum(s in question for s in symptoms[disease_cui]) >= 3

    for split, n in (("train", 600), ("dev", 150), ("test", 150)):
        lines = (sample / "medqa" / f"phrases_no_exclude_{split}.jsonl").read_text().splitlines()
        assert len(lines) == n
        for line in lines:
            rec = json.loads(line)
            assert list(rec) == ["question", "answer", "options", "meta_info", "answer_idx",
                                 "metamap_phrases"]
            assert rec["options"][rec["answer_idx"]] == rec["answer"]
            answer = cui_of[rec["answer"]]
            if answer in treats:  # a drug: it treats a disease the vignette shows
                assert any(shown(d, rec["question"]) for d in treats[answer]), rec["question"]
            else:  # a diagnosis
                assert shown(answer, rec["question"]), rec["question"]


def test_rationales_and_gold_passages_cover_medqa(sample: Path) -> None:
    train = (sample / "medqa" / "phrases_no_exclude_train.jsonl").read_text().splitlines()
    members = _tar(sample / "rationales" / "teacher_rationales.tar.gz")
    assert sorted(members) == [f"medqa/train/train-{i:05d}.json" for i in range(len(train))]
    first = json.loads(members["medqa/train/train-00000.json"])
    assert first["object"] == "chat.completion" and len(first["choices"]) == 3
    answers = [json.loads(line)["answer"] for line in train]
    reach_gold = [choice["message"]["content"].endswith(f") {answer}.")
                  for k, answer in enumerate(answers)
                  for choice in json.loads(members[f"medqa/train/train-{k:05d}.json"])["choices"]]
    assert 0.75 < sum(reach_gold) / len(reach_gold) < 0.98, "a minority of rationales should be wrong"

    with gzip.open(sample / "knowledge_base" / "psgs_w100.tsv.gz", "rt", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert rows[0] == ["id", "text", "title"]
    passages = {r[0]: r[1] for r in rows[1:]}
    assert list(passages) == [str(i) for i in range(1, len(rows))]
    gold_lines = (sample / "meta" / "medqa_gold_passages.jsonl").read_text().splitlines()
    gold = [json.loads(line) for line in gold_lines]
    assert len(gold) == 900 and gold[0]["question_id"] == "train-00000"
    for g, answer in zip(gold, answers):
        texts = [passages[i].lower() for i in g["passage_ids"]]
        assert any(answer.lower() in t for t in texts)


def test_conceptnet_rows_are_well_formed(sample: Path) -> None:
    data = gzip.decompress((sample / "conceptnet" / "conceptnet-assertions-5.7.0.csv.gz").read_bytes())
    assert data.endswith(b"\n")
    lines = data.decode("utf-8").splitlines()
    assert lines == sorted(lines) and len(lines) > 3000
    english = 0
    for line in lines:
        uri, rel, start, end, meta = line.split("\t")
        assert uri.startswith(f"/a/[{rel}/,{start}/,") and rel.startswith("/r/")
        assert "weight" in json.loads(meta)
        english += start.startswith("/c/en/") and end.startswith("/c/en/")
    assert english > 0.8 * len(lines)
    assert any(line.split("\t")[1] == "/r/ExternalURL" for line in lines)
    assert any(line.split("\t")[2].startswith("/c/fr/") for line in lines)


def test_cli_help(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0 and "--seed" in capsys.readouterr().out


def test_read_back_as_bytes_streams(sample: Path) -> None:
    # Formats a reader opens in text mode must decode as UTF-8 with \n line ends only.
    for path in sample.rglob("*"):
        if path.is_file() and not path.name.endswith(".gz"):
            text = path.read_bytes().decode("utf-8")
            assert "\r" not in text and text.endswith("\n")
