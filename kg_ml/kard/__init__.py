"""KARD: knowledge-augmented reasoning distillation into a T5 student.

Modules: `config` (params), `answers` (robust answer-letter extraction, self-consistency vote),
`prompts` (the student's input/target text per variant), `data` (training examples from the
teacher rationales, KARD's verification filter and the passages retrieved for each rationale),
`student` (tokenizer + T5 from scratch or a hub checkpoint), `distill` (training through the
shared loop), `infer` (question-query retrieval, greedy / self-consistency decoding, the answer
by option log-likelihood after the rationale or by extraction, accuracy).

Variants (one `distill@<variant>` each): knowledge + rationale (KARD), rationale without
knowledge (reasoning distillation), and answer only (plain finetuning).
"""
