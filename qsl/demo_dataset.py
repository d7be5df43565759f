"""A small, deterministic CNN-DailyMail-shaped demo dataset, built offline.

The real dataset cannot be downloaded here, so the embedded default uses
generated news-style articles with reference highlights, tokenized exactly like
the MLPerf file (the MLPerf prompt, BOS, no chat template). Same seed, same file.
"""

from __future__ import annotations

import random
from pathlib import Path

from qsl.prepare import make_record, write_dataset

_PLACES = ("Lisbon", "Denver", "Osaka", "Nairobi", "Glasgow", "Perth", "Quebec", "Lyon",
           "Austin", "Seville", "Hanoi", "Cork")
_ACTORS = ("The city council", "A local charity", "The national rail operator",
           "A team of researchers", "The regional health service", "A group of volunteers",
           "The football club", "The weather service", "A start-up company", "The museum")
_ACTIONS = ("announced a plan to", "voted on Tuesday to", "said it would", "has promised to",
            "is expected to", "confirmed it will")
_GOALS = ("rebuild the old harbour bridge", "open three new libraries", "cut bus fares by half",
          "plant 10,000 trees along the river", "test a new flood warning system",
          "restore a 19th-century theatre", "expand the children's hospital",
          "launch a night-time cycling service", "study the decline of local bees",
          "digitise its collection of old maps")
_DETAILS = (
    "Officials said the work would begin in {month} and take about {n} months.",
    "The project is expected to cost {m} million dollars, according to a statement.",
    "Residents have been asked to share their views at a public meeting on {day}.",
    "Critics argue the money could be better spent on schools and roads.",
    "Supporters say the change will help more than {k},000 people every year.",
    "A spokesperson said: 'This is an important day for everyone in {place}.'",
    "Similar schemes in other cities have had mixed results, experts warned.",
    "The announcement follows {n} years of campaigning by local groups.",
    "Mr. Smith, who led the review, said the decision was 'long overdue'.",
    "Dr. Jones said early results were encouraging but more data was needed.",
    "Funding will come partly from a national grant and partly from private donors.",
    "The plan still needs final approval from the regional government.",
)
_MONTHS = ("January", "March", "May", "July", "September", "November")
_DAYS = ("Monday", "Wednesday", "Friday", "Saturday")


def _article(rng: random.Random) -> tuple[str, str]:
    place, actor = rng.choice(_PLACES), rng.choice(_ACTORS)
    goal, action = rng.choice(_GOALS), rng.choice(_ACTIONS)
    lead = f"{actor} in {place} {action} {goal}."
    fill = dict(month=rng.choice(_MONTHS), day=rng.choice(_DAYS), place=place,
                n=rng.randint(2, 18), m=rng.randint(3, 250), k=rng.randint(2, 90))
    body = [d.format(**fill) for d in rng.sample(_DETAILS, k=rng.randint(6, len(_DETAILS)))]
    paragraphs = [lead] + body
    article = f"{place} (CNN) -- " + " ".join(paragraphs * rng.randint(2, 4))
    highlights = "\n".join([lead, body[0], body[1]])
    return article, highlights


def build_demo_dataset(path: Path, tokenizer, count: int, seed: int = 2026) -> Path:
    """Write `count` demo records in the MLPerf layout to path; return path."""
    rng = random.Random(seed)
    records = [make_record(tokenizer, *_article(rng)) for _ in range(count)]
    write_dataset(path, records)
    return path
