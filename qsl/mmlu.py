"""MMLU prompt files in the CNN-DailyMail record format, from the published cais/mmlu data.

Records: `input` (the prompt text), `tok_input` (its token ids), `output` (the gold
letter), `subject`. Few-shot examples come from the dev split of the same subject.

Styles:
- `meta-5shot` (default): Meta's generative format for Llama-3.1-Instruct: chat
  template, few-shot as multi-turn, each answer "The best answer is X." Meta reports
  69.4 (macro average) for Llama-3.1-8B-Instruct with it.
- `plain-5shot`, `plain-0shot`: the original MMLU ("Answer:") format without a chat
  template, as in Hendrycks et al. and lm-evaluation-harness (which score it by
  log-likelihood; generation and answer extraction here can differ slightly).
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import DatasetError
from qsl import hf_source
from qsl.hf_source import HubDataset

MMLU = HubDataset("cais/mmlu", "all", "MMLU source")
LETTERS = "ABCD"
STYLES = ("meta-5shot", "plain-5shot", "plain-0shot")
SPLIT_SIZES = {"test": 14042, "validation": 1531, "dev": 285}

_CATEGORY_OF_GROUP = {
    "STEM": ("math", "physics", "chemistry", "biology", "computer science", "engineering"),
    "humanities": ("history", "philosophy", "law"),
    "social sciences": ("politics", "culture", "economics", "geography", "psychology"),
    "other": ("other", "business", "health"),
}
# Subject -> subject group, as in the MMLU authors' categories.
SUBJECT_GROUPS = {
    "abstract_algebra": "math", "anatomy": "health", "astronomy": "physics",
    "business_ethics": "business", "clinical_knowledge": "health", "college_biology": "biology",
    "college_chemistry": "chemistry", "college_computer_science": "computer science",
    "college_mathematics": "math", "college_medicine": "health", "college_physics": "physics",
    "computer_security": "computer science", "conceptual_physics": "physics",
    "econometrics": "economics", "electrical_engineering": "engineering",
    "elementary_mathematics": "math", "formal_logic": "philosophy", "global_facts": "other",
    "high_school_biology": "biology", "high_school_chemistry": "chemistry",
    "high_school_computer_science": "computer science",
    "high_school_european_history": "history", "high_school_geography": "geography",
    "high_school_government_and_politics": "politics", "high_school_macroeconomics": "economics",
    "high_school_mathematics": "math", "high_school_microeconomics": "economics",
    "high_school_physics": "physics", "high_school_psychology": "psychology",
    "high_school_statistics": "math", "high_school_us_history": "history",
    "high_school_world_history": "history", "human_aging": "health",
    "human_sexuality": "culture", "international_law": "law", "jurisprudence": "law",
    "logical_fallacies": "philosophy", "machine_learning": "computer science",
    "management": "business", "marketing": "business", "medical_genetics": "health",
    "miscellaneous": "other", "moral_disputes": "philosophy", "moral_scenarios": "philosophy",
    "nutrition": "health", "philosophy": "philosophy", "prehistory": "history",
    "professional_accounting": "other", "professional_law": "law",
    "professional_medicine": "health", "professional_psychology": "psychology",
    "public_relations": "politics", "security_studies": "politics", "sociology": "culture",
    "us_foreign_policy": "politics", "virology": "health", "world_religions": "philosophy",
}


def category(subject: str) -> str:
    group = SUBJECT_GROUPS.get(subject, "other")
    return next(c for c, groups in _CATEGORY_OF_GROUP.items() if group in groups)


def load_mmlu_split(source: str | Path, split: str):
    """One split of cais/mmlu ("all" config) as a datasets.Dataset."""
    return hf_source.load_split(MMLU, source, split, ("question", "subject", "choices", "answer"))


def _question_block(row: dict) -> str:
    if len(row["choices"]) != 4 or not 0 <= int(row["answer"]) < 4:
        raise DatasetError(f"MMLU question {row['question'][:60]!r} does not have four choices "
                           f"and an answer 0..3")
    return row["question"].strip() + "\n" + "\n".join(
        f"{letter}. {choice}" for letter, choice in zip(LETTERS, row["choices"]))


def _meta_user_turn(row: dict) -> str:
    return ("Given the following question and four candidate answers (A, B, C and D), choose "
            "the best answer.\n\nQuestion: " + _question_block(row)
            + '\n\nYour response should end with "The best answer is [the_answer_letter]" '
              "where the [the_answer_letter] is one of A, B, C or D.")


def _chat(turns: list[tuple[str, str]]) -> str:
    """Llama-3.1 chat format, ending with an open assistant header."""
    body = "".join(f"<|start_header_id|>{role}<|end_header_id|>\n\n{text}<|eot_id|>"
                   for role, text in turns)
    return "<|begin_of_text|>" + body + "<|start_header_id|>assistant<|end_header_id|>\n\n"


def build_prompt(row: dict, shots: list[dict], style: str) -> str:
    if style == "meta-5shot":
        turns: list[tuple[str, str]] = []
        for shot in shots:
            turns += [("user", _meta_user_turn(shot)),
                      ("assistant", f"The best answer is {LETTERS[int(shot['answer'])]}.")]
        return _chat(turns + [("user", _meta_user_turn(row))])
    header = (f"The following are multiple choice questions (with answers) about "
              f"{row['subject'].replace('_', ' ')}.\n\n")
    examples = "".join(f"{_question_block(s)}\nAnswer: {LETTERS[int(s['answer'])]}\n\n"
                       for s in shots)
    return header + examples + _question_block(row) + "\nAnswer:"


def build_mmlu_records(source: str | Path, tokenizer, style: str, split: str = "test"
                       ) -> list[dict]:
    from tqdm import tqdm

    if style not in STYLES:
        raise DatasetError(f"unknown MMLU style {style!r}; use one of {', '.join(STYLES)}")
    rows = load_mmlu_split(source, split)
    shots_by_subject: dict[str, list[dict]] = {}
    if style.endswith("5shot"):
        for shot in load_mmlu_split(source, "dev"):
            shots_by_subject.setdefault(shot["subject"], []).append(shot)
    records = []
    for row in tqdm(rows, total=len(rows), desc="MMLU prompts", unit="question"):
        shots = shots_by_subject.get(row["subject"], [])[:5] if style.endswith("5shot") else []
        if style.endswith("5shot") and len(shots) < 5:
            raise DatasetError(f"the dev split has {len(shots)} example(s) for subject "
                               f"{row['subject']!r}; 5-shot needs 5")
        prompt = build_prompt(row, shots, style)
        # The chat style carries its own <|begin_of_text|>; the plain style gets BOS from encode.
        ids = tokenizer.encode(prompt, add_special_tokens=not style.startswith("meta"))
        records.append({"input": prompt, "tok_input": ids,
                        "output": LETTERS[int(row["answer"])], "subject": row["subject"],
                        "instruction": style})
    return records
