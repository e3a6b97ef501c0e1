"""The offline analyzer: deterministic keyword and phrase rules, no network, no model.

It reads only what the callee said (the assistant's own script would otherwise count as the
callee's interest) and decides, in this order:

1. voicemail or no conversation (a machine answered, or the callee never spoke);
2. opt-out: any of ``telephony.callee.OPT_OUT_PHRASES`` or a common variant ("remove me",
   "do not call", "unsubscribe", ...). An opt-out must be honoured whatever else was said;
3. call-back: a time expression ("tomorrow at 10 am", "after 5 pm", "on Monday morning");
4. interest: strong positive phrases ("tell me more", "interested") against strong negative
   ones ("not interested", "no thanks"); weak words ("yes", "sure", "sounds good") only tip
   the balance when nothing strong was said, since people say them while declining too.

English only (English wording in the rules); for another language the analyzer finds little
and says so in a neutral result rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from ringwise.analysis.port import (
    AnalysisRequest,
    AnalysisResult,
    FieldDef,
    TagDef,
    validate,
)
from ringwise.telephony.callee import CALLBACK_TIMES, OPT_OUT_PHRASES

NAME: Final = "offline-v1"


def _split(words: str) -> list[str]:
    return words.split()


def _phrases(words: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of ``words`` as whole words (longest
    first, so "tomorrow at 10 am" wins over "tomorrow")."""
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    body = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


_OPT_OUT: Final = re.compile(
    "|".join([
        _phrases(OPT_OUT_PHRASES).pattern,
        r"(?<!\w)(?:remove|delete|take)\s+(?:me|my\s+(?:number|name|details))\s+(?:from|off)\b",
        r"(?<!\w)remove\s+me\b",
        r"\bunsubscribe\b",
        r"\bopt\s*-?\s*out\b",
        r"\bstop\s+(?:calling|contacting|phoning|ringing|texting)\b",
        r"\bdo\s*-?\s*not\s*-?\s*call\s+(?:list|registry)\b",
        r"\b(?:do\s+not|don'?t|never)\s+(?:call|contact|phone|ring)\s+"
        r"(?:me|us|this\s+number|here)\s+(?:again|ever)\b",
        r"\b(?:do\s+not|don'?t|never)\s+(?:call|contact|phone|ring)\s+"
        r"(?:me|us|this\s+number|here)\s*(?:again\s*)?[.!]",
        r"\bno\s+more\s+calls\b",
        r"\bleave\s+me\s+alone\b",
    ]),
    re.IGNORECASE,
)

_WEEKDAY: Final = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_PART: Final = r"(?:morning|afternoon|evening|night)"
_CLOCK: Final = r"\d{1,2}(?::\d{2})?(?:\s*(?:a\.?m\.?|p\.?m\.?|o'?clock))?"
_AT: Final = rf"(?:\s+(?:at|around|after|before|by)\s+{_CLOCK})"
_CALLBACK: Final = re.compile(
    "|".join([
        _phrases(CALLBACK_TIMES).pattern,
        rf"(?<!\w)tomorrow(?:\s+{_PART})?{_AT}?(?!\w)",
        rf"(?<!\w)(?:on\s+|next\s+|this\s+)?{_WEEKDAY}(?:\s+{_PART})?{_AT}?(?!\w)",
        rf"(?<!\w)(?:this|tomorrow)\s+{_PART}{_AT}?(?!\w)",
        rf"(?<!\w)tonight{_AT}?(?!\w)",
        rf"(?<!\w)(?:after|before|around)\s+{_CLOCK}(?:\s+(?:today|tonight|tomorrow))?"
        r"(?!\w)",
        r"(?<!\w)at\s+\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?|o'?clock)"
        r"(?:\s+(?:today|tonight|tomorrow))?(?!\w)",
        r"(?<!\w)(?:later\s+(?:today|this\s+week)|next\s+week|in\s+(?:an?|one|two|a\s+couple"
        r"\s+of|\d+)\s+(?:hours?|minutes?|days?))(?!\w)",
    ]),
    re.IGNORECASE,
)

_STRONG_NEGATIVE: Final = _phrases([
    "not interested", "no thanks", "no thank you", "all set", "not something i need",
    "don't need", "do not need", "don't want", "do not want", "i'll pass", "i will pass",
    "already have", "not for me", "no interest", "not looking", "not really", "no way",
])
_STRONG_POSITIVE: Final = _phrases([
    "interested", "interesting", "tell me more", "hear more", "learn more", "sign me up",
    "sounds great", "could work", "would work", "next steps", "look into", "i'd like",
    "i would like", "count me in", "let's do it", "love to", "i want",
    "that works for me", "let's go ahead", "sounds interesting",
])
_WEAK_POSITIVE: Final = _phrases([
    "yes", "yeah", "yep", "sure", "okay", "ok", "sounds good", "great", "perfect", "good",
    "absolutely", "of course",
])
_WEAK_NEGATIVE: Final = _phrases([
    "no", "nope", "busy", "annoying", "waste", "scam", "how did you get my number",
    "not another",
])
_NEGATION: Final = re.compile(r"\b(?:not|no|never|don'?t|doesn'?t|isn'?t|wasn'?t|hardly)"
                              r"(?:\s+\w+){0,2}\s*$", re.IGNORECASE)
_VOICEMAIL_CUES: Final = _phrases([
    "leave a message", "leave me a message", "after the tone", "after the beep",
    "record your message", "voicemail", "voice mail", "is not available", "can't take your call",
    "cannot take your call", "mailbox",
])
_MACHINES: Final = frozenset({"machine_start", "machine_end_beep", "machine_end_silence",
                              "machine_end_other", "fax"})

_WORD: Final = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE: Final = re.compile(r"(?<=[.!?])\s+|\n+")
_STOPWORDS: Final = frozenset(_split("""
a about above after again all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers him his how i if in into is it its itself just me more
most my no nor not of off on once only or other our out over own same she should so some
such than that the their them then there these they this those through to too under until
up very was we were what when where which while who whom why will with would you your
call calls called caller callee contact customer person score scoring based criteria out
whether wants want expressed stated mentioned e g eg etc 0 100
"""))

_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE: Final = re.compile(r"\+?\d[\d\s().-]{6,18}\d")
_NUMBER: Final = re.compile(r"(?<![\w.])[-+]?\$?\d{1,3}(?:,\d{3}){1,4}(?:\.\d{1,6})?(?!\d)"
                            r"|(?<![\w.])[-+]?\$?\d{1,12}(?:\.\d{1,6})?(?!\d)")
_NUMBER_WORDS: Final = {w: i for i, w in enumerate(
    _split("zero one two three four five six seven eight nine ten eleven twelve"))}
_MONTHS: Final = {m: i + 1 for i, m in enumerate(
    _split("january february march april may june july august september october november "
           "december"))}
_MONTH: Final = r"(?P<month>" + "|".join(
    [*(m for m in _MONTHS), *(m[:3] for m in _MONTHS if len(m) > 3), "sept"]) + r")\.?"
_DATES: Final = (
    re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<mon>\d{1,2})-(?P<day>\d{1,2})(?!\d)"),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b",
               re.IGNORECASE),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+"
               rf"(?P<year>\d{{4}})\b", re.IGNORECASE),
    re.compile(r"(?<!\d)(?P<mon>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})(?!\d)"),  # US
)
_YES: Final = re.compile(r"^\W*(?:yes|yeah|yep|yup|sure|correct|right|absolutely|i do|we do|"
                         r"i have|we have|definitely|of course)\b", re.IGNORECASE)
_NO: Final = re.compile(r"^\W*(?:no|nope|nah|not|never|i don'?t|we don'?t|i haven'?t|"
                        r"we haven'?t)\b", re.IGNORECASE)
_YES_ANYWHERE: Final = _phrases(["yes", "yeah", "yep", "i do", "we do", "i have", "we have",
                                  "definitely", "of course"])
_NO_ANYWHERE: Final = _phrases(["no", "nope", "not", "never", "don't", "do not", "haven't",
                                 "have not"])


def _normalize(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")


def keywords(text: str | None) -> tuple[str, ...]:
    """The content words of ``text``, lower-case, in order, without repeats."""
    if not text:
        return ()
    seen: dict[str, None] = {}
    for word in _WORD.findall(_normalize(text).lower()):
        if word not in _STOPWORDS and len(word) > 1:
            seen.setdefault(word, None)
    return tuple(seen)


def _word_pattern(word: str) -> re.Pattern[str]:
    """A whole word, allowing a plural / -ed / -ing ending for words of 4+ letters."""
    suffix = r"(?:s|es|ed|d|ing)?" if len(word) >= 4 else ""
    return re.compile(rf"(?<!\w){re.escape(word)}{suffix}(?!\w)", re.IGNORECASE)


def _negated(text: str, start: int) -> bool:
    """A negation ends within two words before ``start`` (only a short window is read, so
    a long text stays linear)."""
    return bool(_NEGATION.search(text[max(0, start - 60):start]))


def _found(pattern: re.Pattern[str], text: str, *, negatable: bool = True) -> bool:
    """``pattern`` occurs in ``text`` at least once not right after a negation."""
    for match in pattern.finditer(text):
        if not negatable or not _negated(text, match.start()):
            return True
    return False


def _blank(pattern: re.Pattern[str], text: str) -> tuple[str, int]:
    """``text`` with the matches of ``pattern`` blanked out, and how many there were."""
    count = 0

    def spaces(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return " " * len(match.group())

    return pattern.sub(spaces, text), count


@dataclass(frozen=True, slots=True)
class _Facts:
    voicemail: bool
    silent: bool
    opted_out: bool
    callback: str | None
    interested: bool
    declined: bool
    sentiment: float
    callee_words: int
    questions: int


def _count(pattern: re.Pattern[str], text: str) -> tuple[str, int]:
    """Blank out the matches of ``pattern`` not preceded by a negation; the negated ones stay
    (and count as nothing)."""
    count = 0

    def spaces(match: re.Match[str]) -> str:
        nonlocal count
        if _negated(match.string, match.start()):
            return match.group()
        count += 1
        return " " * len(match.group())

    return pattern.sub(spaces, text), count


def _facts(request: AnalysisRequest, callee: str, sentences: Sequence[str]) -> _Facts:
    words = len(_WORD.findall(callee.lower()))
    opted_out = bool(_OPT_OUT.search(callee))
    machine = request.outcome == "voicemail" or request.answered_by in _MACHINES
    callee_turns = [t for t in request.turns if t.speaker == "callee" and t.text.strip()]
    greeting = (len(callee_turns) == 1 and bool(_VOICEMAIL_CUES.search(callee_turns[0].text)))
    voicemail = (machine or greeting) and not opted_out
    silent = words == 0 and not voicemail
    if voicemail or silent:
        return _Facts(voicemail, silent, False, None, False, False, 0.0, words, 0)
    callback = None
    if not opted_out:
        match = _CALLBACK.search(callee)
        callback = " ".join(match.group().split()) if match else None
        if callback and callback.endswith(".") and not callback.endswith(".m."):
            callback = callback[:-1]  # "3 pm." ends a sentence, "3 p.m." keeps its dot
    # Per sentence, so a negation never reaches into the next sentence.
    strong_neg = strong_pos = weak_pos = weak_neg = 0
    for sentence in sentences:
        rest, n = _blank(_STRONG_NEGATIVE, sentence)
        strong_neg += n
        rest, n = _count(_STRONG_POSITIVE, rest)
        strong_pos += n
        rest, n = _count(_WEAK_POSITIVE, rest)
        weak_pos += n
        _, n = _blank(_WEAK_NEGATIVE, rest)
        weak_neg += n
    if opted_out:
        interested, declined = False, True
    elif strong_pos or strong_neg:
        interested, declined = strong_pos > strong_neg, strong_neg >= strong_pos
    else:
        interested = callback is None and weak_pos - weak_neg >= 2
        declined = callback is None and weak_neg - weak_pos >= 2
    positive = 2 * strong_pos + 0.5 * weak_pos
    negative = 2 * strong_neg + 0.5 * weak_neg
    sentiment = (positive - negative) / (positive + negative + 1.0)
    if opted_out:
        sentiment = min(sentiment, -0.6)
    elif interested:
        sentiment = max(sentiment, 0.3)
    elif declined:
        sentiment = min(sentiment, -0.2)
    questions = sum(1 for s in sentences if s.rstrip().endswith("?"))
    return _Facts(False, False, opted_out, callback, interested, declined,
                  round(max(-1.0, min(1.0, sentiment)), 3), words, questions)


def _success(request: AnalysisRequest, facts: _Facts, callee: str) -> bool:
    if facts.opted_out or facts.voicemail or facts.silent:
        return False
    wanted = keywords(request.success_criteria)
    if not wanted:
        return facts.interested
    hits = sum(1 for word in wanted if _found(_word_pattern(word), callee))
    return hits * 2 >= len(wanted)


def _score(request: AnalysisRequest, facts: _Facts, success: bool, transcript: str) -> int:
    if facts.voicemail or facts.silent:
        return 0
    score = 40.0 + 30.0 * facts.sentiment + min(10.0, facts.callee_words / 6.0)
    score += 15.0 if success else 0.0
    score += 5.0 if facts.callback else 0.0
    wanted = keywords(request.scoring_criteria)
    if wanted:
        hits = sum(1 for word in wanted if _found(_word_pattern(word), transcript))
        score += 10.0 * hits / len(wanted)
    if facts.opted_out:
        score = min(score, 5.0)
    return round(max(0.0, min(100.0, score)))


_CONCEPTS: Final = (
    ("opted_out", _phrases(["opt-out", "opt out", "opted out", "dnc", "do not call",
                            "do-not-call", "unsubscribe", "remove", "removal"])),
    ("callback", _phrases(["callback", "call back", "call-back", "callback requested",
                           "follow-up", "follow up", "reschedule", "call later"])),
    ("voicemail", _phrases(["voicemail", "voice mail", "machine", "answering machine"])),
    ("declined", _phrases(["not interested", "uninterested", "declined", "rejected",
                           "no interest", "refused"])),
    ("interested", _phrases(["interested", "interest", "hot lead", "warm lead", "qualified"])),
)


def _concept(tag: TagDef) -> str | None:
    """The fact a tag's name stands for, if the name says one ("Interested", "Opt-out")."""
    name = _normalize(tag.name)
    for concept, pattern in _CONCEPTS:
        if pattern.search(name):
            return concept
    return None


def _tags(request: AnalysisRequest, facts: _Facts, callee: str) -> tuple[str, ...]:
    chosen: list[str] = []
    for tag in request.tags:
        concept = _concept(tag)
        if concept is not None:
            if getattr(facts, concept):
                chosen.append(tag.name)
            continue
        if facts.voicemail or facts.silent:
            continue
        name = " ".join(_normalize(tag.name).split())
        if _found(_phrases([name]), callee):
            chosen.append(tag.name)
            continue
        wanted = keywords(tag.description)
        hits = sum(1 for word in wanted if _found(_word_pattern(word), callee))
        if wanted and hits >= 2 and hits * 2 >= len(wanted):
            chosen.append(tag.name)
    return tuple(chosen)


def _date(text: str) -> str | None:
    for pattern in _DATES:
        for match in pattern.finditer(text):
            parts = match.groupdict()
            if parts.get("month"):
                name = parts["month"].lower().rstrip(".")
                month = next(n for m, n in _MONTHS.items() if m.startswith(name[:3]))
            else:
                month = int(parts["mon"])
            try:
                return date(int(parts["year"]), month, int(parts["day"])).isoformat()
            except ValueError:
                continue
    return None


def _number(text: str, integer: bool) -> int | float | None:
    for match in _NUMBER.finditer(text):
        raw = match.group().replace(",", "").replace("$", "")
        value = float(raw)
        if value.is_integer():
            return int(value)
        if not integer:
            return value
    for word in _WORD.findall(text.lower()):
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
    return None


def _boolean(sentence: str, pattern: re.Pattern[str]) -> bool | None:
    if _YES.search(sentence):
        return True
    if _NO.search(sentence):
        return False
    match = pattern.search(sentence)
    before = sentence[:match.start()] if match else sentence
    if _NO_ANYWHERE.search(before):
        return False
    if _YES_ANYWHERE.search(sentence):
        return True
    return None


def _extract(spec: FieldDef, request: AnalysisRequest, callee_sentences: Sequence[str],
             callee: str) -> object | None:
    words = keywords(spec.key.replace("_", " ")) or keywords(spec.key)
    words += tuple(w for w in keywords(spec.description) if w not in words)
    patterns = [_word_pattern(w) for w in words]
    relevant = [s for s in callee_sentences if any(p.search(s) for p in patterns)]
    if spec.type == "date":
        return next((d for s in relevant if (d := _date(s))), None) or _date(callee)
    if spec.type in ("number", "integer"):
        return next((n for s in relevant
                     if (n := _number(s, spec.type == "integer")) is not None), None)
    if spec.type == "boolean":
        return _answered(spec, request, patterns, relevant)
    if {"email", "mail"} & set(words):
        found = _EMAIL.search(callee)
        return found.group() if found else None
    if {"phone", "mobile", "cell"} & set(words):
        found = _PHONE.search(callee)
        return " ".join(found.group().split()) if found else None
    return relevant[0].strip() if relevant else None


def _answered(spec: FieldDef, request: AnalysisRequest, patterns: Sequence[re.Pattern[str]],
              relevant: Sequence[str]) -> bool | None:
    """A yes / no: the callee's answer to an assistant question about the field, else a
    callee sentence mentioning it."""
    turns = request.turns
    for index, turn in enumerate(turns[:-1]):
        following = turns[index + 1]
        if (turn.speaker == "assistant" and following.speaker == "callee"
                and any(p.search(turn.text) for p in patterns)):
            if _YES.search(_normalize(following.text)):
                return True
            if _NO.search(_normalize(following.text)):
                return False
    for sentence in relevant:
        pattern = next(p for p in patterns if p.search(sentence))
        value = _boolean(sentence, pattern)
        if value is not None:
            return value
    return None


def _summary(request: AnalysisRequest, facts: _Facts) -> str:
    if facts.voicemail:
        left = any(t.speaker == "assistant" and t.text.strip() for t in request.turns)
        return ("The call reached voicemail; the assistant left a message." if left
                else "The call reached voicemail; no message was left.")
    if facts.silent:
        return "The call was answered but the callee said nothing."
    who = ("A person answered" if request.answered_by in (None, "human", "unknown")
           else "The call was answered")
    if facts.opted_out:
        return f"{who} and asked not to be called again (opt-out)."
    if facts.callback:
        return f"{who} and asked to be called back {facts.callback}."
    if facts.interested:
        asked = (f" and asked {facts.questions} question{'s' * (facts.questions != 1)}"
                 if facts.questions else "")
        return f"{who} and was interested{asked}."
    if facts.declined:
        return f"{who} and was not interested."
    return f"{who}; no clear interest or refusal was expressed."


class OfflineAnalyzer:
    """The keyword analyzer (``offline-v1``): deterministic, no network; see the module."""

    name: Final = NAME

    def analyze(self, request: AnalysisRequest) -> AnalysisResult:
        callee_texts = [_normalize(t.text) for t in request.turns if t.speaker != "assistant"]
        callee = "\n".join(callee_texts)
        sentences = [s for text in callee_texts for s in _SENTENCE.split(text) if s.strip()]
        transcript = "\n".join(_normalize(t.text) for t in request.turns)
        facts = _facts(request, callee, sentences)
        success = _success(request, facts, callee)
        structured = {spec.key: _extract(spec, request, sentences, callee)
                      for spec in request.fields}
        return validate(AnalysisResult(
            summary=_summary(request, facts),
            sentiment=facts.sentiment,
            score=_score(request, facts, success, transcript),
            tags=_tags(request, facts, callee),
            structured=structured,
            success=success,
            opted_out=facts.opted_out,
            callback_requested=facts.callback,
            analyzer=NAME,
        ), request)
