"""Throughput of the offline analyzer: answered calls analyzed per second.

Transcripts come from the simulated callee (every disposition, 20-160 s of talk) and the
voicemail generator, with a campaign's tags, structured-data fields and scoring criteria, so
each analysis does the full work. Only ``OfflineAnalyzer.analyze`` is timed.

Run: ``python benchmarks/bench_analysis.py [--calls N]``; prints a summary and writes
``benchmarks/results/analysis.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ringwise.analysis.offline import OfflineAnalyzer  # noqa: E402
from ringwise.analysis.port import AnalysisRequest, FieldDef, TagDef  # noqa: E402
from ringwise.telephony import callee  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "analysis.json"
OPENING = "Hi {{first_name}}, this is Ava from Acme Insurance about your renewal."
TAGS = (TagDef("Interested", "wants the offer"), TagDef("Follow-up", "asked to be called back"),
        TagDef("Opt-out", "asked not to be called"), TagDef("Voicemail", "reached a machine"),
        TagDef("Price", "talked about price or cost"))
FIELDS = (FieldDef("email", "e-mail address", "string"), FieldDef("renew", "will renew",
                                                                   "boolean"),
          FieldDef("callback_date", "date to call back", "date"))


def requests(count: int, seed: int = 7) -> list[AnalysisRequest]:
    rng = random.Random(seed)
    out: list[AnalysisRequest] = []
    for i in range(count):
        context = {"first_name": rng.choice(["Ana", "Bo", ""])}
        if i % 5 == 4:
            turns = callee.voicemail(seed, f"call-{i}", message="Please call us back.",
                                     context=context, greeting_s=6.0, talk_s=20.0)
            outcome = "voicemail"
        else:
            disposition = callee.DISPOSITIONS[i % len(callee.DISPOSITIONS)]
            turns = callee.conversation(seed, f"call-{i}", disposition, opening=OPENING,
                                        context=context, talk_s=rng.uniform(20, 160))
            outcome = "answered"
        out.append(AnalysisRequest(turns=turns, outcome=outcome, duration_s=60.0, tags=TAGS,
                                   fields=FIELDS, scoring_criteria="interest in renewing"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    batch = requests(args.calls)
    analyzer = OfflineAnalyzer()
    started = time.perf_counter()
    for request in batch:
        analyzer.analyze(request)
    elapsed = time.perf_counter() - started
    result = {"calls": args.calls, "seconds": round(elapsed, 2),
              "calls_per_s": round(args.calls / elapsed),
              "python": platform.python_version()}
    print(json.dumps(result))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
