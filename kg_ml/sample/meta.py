"""Sample-only annotations: gold KB passages per MedQA question, and a README of every file."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from kg_ml.sample.archive import write_bytes, write_lines
from kg_ml.sample.medqa import MedQuestion

# path -> (upstream file it imitates, what to know about it)
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "hotpotqa/train/HotpotQA.jsonl.gz": (
        "MRQA v2 `train/HotpotQA.jsonl.gz`",
        "header line, then one context per line (2 gold + 2 distractor paragraphs as "
        "`[PAR] [TLE] title [SEP] text`, sentences double-spaced) with one bridge or comparison "
        "question; top-level `id` is empty as in MRQA's SQuAD; spans inclusive, every occurrence"),
    "hotpotqa/dev/HotpotQA.jsonl.gz": ("MRQA v2 `dev/HotpotQA.jsonl.gz`", "same format"),
    "wikidata5m/wikidata5m_transductive.tar.gz": (
        "Wikidata5M `wikidata5m_transductive.tar.gz`",
        "`wikidata5m_transductive_{train,valid,test}.txt`, `head<TAB>relation<TAB>tail`; held-out "
        "triples are inferable (inverse pairs, P27 = P17 of P19) and their entities occur in train"),
    "wikidata5m/wikidata5m_alias.tar.gz": (
        "Wikidata5M `wikidata5m_alias.tar.gz`",
        "`wikidata5m_entity.txt` / `wikidata5m_relation.txt`, `ID<TAB>alias1<TAB>alias2...`, first "
        "alias canonical; some people share a canonical name, some names contain `|` or non-ASCII"),
    "wikidata5m/wikidata5m_text.txt.gz": (
        "Wikidata5M `wikidata5m_text.txt.gz`",
        "`QID<TAB>text`; the first sentence is a unique one-line description"),
    "kgqa/qa_train.txt": (
        "MetaQA-style `qa_train.txt`",
        "1-hop questions over the Wikidata5M world, `question with [Entity]<TAB>ans1|ans2`; "
        "answers are canonical names from the full graph"),
    "kgqa/qa_dev.txt": ("MetaQA-style `qa_dev.txt`", "same format"),
    "kgqa/qa_test.txt": ("MetaQA-style `qa_test.txt`", "same format"),
    "medqa/phrases_no_exclude_train.jsonl": (
        "MedQA US 4-option `phrases_no_exclude_train.jsonl`",
        "vignettes whose three symptoms identify one disease; answer = a drug that treats it or the "
        "disease; question id = `train-<line:05d>` (0-based line)"),
    "medqa/phrases_no_exclude_dev.jsonl": ("MedQA `phrases_no_exclude_dev.jsonl`", "same format"),
    "medqa/phrases_no_exclude_test.jsonl": ("MedQA `phrases_no_exclude_test.jsonl`", "same format"),
    "conceptnet/conceptnet-assertions-5.7.0.csv.gz": (
        "ConceptNet `conceptnet-assertions-5.7.0.csv.gz`",
        "5 tab columns with JSON metadata, sorted by edge URI; also rows a reader must drop or "
        "normalise: non-English ends, ExternalURL / dbpedia / FormOf / DerivedFrom / "
        "EtymologicallyRelatedTo, `/n/wn/...` and `/n/wikt/en_1` senses, POS tags, self-loops, "
        "terms with digits or punctuation"),
    "medical_kg/umls.csv": (
        "DRAGON `data/umls/umls.csv`", "`relation<TAB>head_cui<TAB>tail_cui<TAB>weight`"),
    "medical_kg/concepts.txt": ("DRAGON `data/umls/concepts.txt`", "one CUI per line, sorted"),
    "medical_kg/relations.txt": (
        "DRAGON `data/umls/relations.txt`", "relation names, one per line (line index = id)"),
    "medical_kg/concept_names.txt": (
        "names from UMLS `MRCONSO.RRF`",
        "`CUI<TAB>name`, canonical name first, then synonyms / abbreviations / tagged forms"),
    "knowledge_base/psgs_w100.tsv.gz": (
        "DPR `psgs_w100.tsv.gz`",
        "header `id<TAB>text<TAB>title`, unquoted fields; world articles, disease / drug facts "
        "(the only source of disease -> drug besides the medical KG and rationales), distractors"),
    "rationales/teacher_rationales.tar.gz": (
        "KARD teacher rationales",
        "`medqa/train/<question_id>.json`, raw ChatCompletion responses with 3 choices; some "
        "questions have one wrong or reason-less choice"),
    "meta/medqa_gold_passages.jsonl": (
        "(sample only)",
        "KB passage ids stating the facts behind each MedQA question of every split: the disease "
        "overview, plus for treatment questions the treatment and drug passages"),
}


def write_gold_passages(out: Path, medqa: dict[str, list[MedQuestion]], ids: dict[str, str]) -> None:
    """Per question: the disease overview; for treatment questions also treatment + drug passages."""
    lines = []
    for questions in medqa.values():
        for q in questions:
            keys = [f"overview:{q.disease}"]
            if q.kind == "treatment":
                keys += [f"treatment:{q.disease}", f"drug:{q.answer}"]
            lines.append(json.dumps({"question_id": q.qid, "passage_ids": [ids[k] for k in keys]}))
    write_lines(out / "medqa_gold_passages.jsonl", lines)


def _lines(data: bytes) -> int:
    return data.count(b"\n")


def _count(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".tar.gz"):
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            parts = [f"{m.name}: {_lines(tar.extractfile(m).read())} lines" for m in tar.getmembers()]
        return f"{len(parts)} members" + ("" if len(parts) > 3 else f" ({'; '.join(parts)})")
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return f"{_lines(data)} lines"


def write_readme(out: Path, root: Path) -> None:
    """Describe every file under ``root`` with the upstream file it imitates and its size."""
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731 - a '|' would end the table cell
    rows = [f"| `{rel}` | {cell(upstream)} | {_count(root / rel)} | {cell(about)} |"
            for rel, (upstream, about) in DESCRIPTIONS.items()]
    text = "\n".join([
        "# Bundled sample world",
        "",
        "One synthetic world (people, places, organisations, everyday concepts, diseases, symptoms,",
        "drugs) written in the exact raw formats of the real upstream files, so the real download",
        "and prepare code runs on it. All names are built from small word lists; all facts agree",
        "across files. Regenerate byte for byte with:",
        "",
        "    python -m kg_ml.sample --out data/sample --seed 0",
        "",
        "| file | imitates | records | notes |",
        "|---|---|---|---|",
        *rows,
        "| `meta/README.md` | - | - | this file |",
        "",
    ])
    write_bytes(out / "README.md", text.encode())
