"""The simulated callee: what a person (or their voicemail) says on an answered call.

Every answered call of the simulated carrier gets a plausible transcript, so post-call
analysis (disposition, opt-out detection, call-back time) has real text to work on in the
demo, the forecaster and tests. Pure and deterministic: the same ``(seed, call_id)`` gives
the same words and offsets; no network, no model.

The conversation follows a disposition chosen by the carrier when it places the call:
``interested``, ``not-interested``, ``call-back`` (names a time) or ``opt-out`` (says one of
:data:`OPT_OUT_PHRASES`, which an analyzer must catch). The assistant's opening message comes
first, rendered with ``core.templates.render`` and the contact variables; the callee's own
lines are templates too (``{{first_name}}``), so an empty name reads naturally.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

from ringwise.core.templates import render
from ringwise.telephony.port import Speaker, Turn

Disposition = Literal["interested", "not-interested", "call-back", "opt-out"]
DISPOSITIONS: Final[tuple[Disposition, ...]] = get_args(Disposition)

# Every opt-out line contains at least one of these (a test checks it): wording clear enough
# for a keyword analyzer, since an opt-out must be honoured whatever the analyzer is.
OPT_OUT_PHRASES: Final[tuple[str, ...]] = (
    "stop calling me", "take me off your list", "do-not-call list",
    "don't call this number again",
)
CALLBACK_TIMES: Final[tuple[str, ...]] = (
    "tomorrow afternoon", "tomorrow at 10 am", "after 5 pm today", "on Monday morning",
    "this evening around 7", "on Thursday at 2 pm",
)
# Said when a campaign has no opening message, so the first turn is still the assistant's.
DEFAULT_OPENING: Final = "Hello, this is an automated assistant calling on behalf of our team."


class ModelError(ValueError):
    """A simulation model (carrier or callee) is invalid; ``field`` names the culprit, as a
    dotted path into the model's dict form (``talk_time.median_s``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


def _frozen_weights(values: Mapping[Disposition, float], name: str) -> Mapping[Disposition,
                                                                                   float]:
    if set(values) != set(DISPOSITIONS):
        raise ModelError(name, f"needs exactly the dispositions {', '.join(DISPOSITIONS)}, "
                               f"got {', '.join(sorted(values))}")
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ModelError(f"{name}.{key}", f"must be a number >= 0, got {value!r}")
    return MappingProxyType({d: float(values[d]) for d in DISPOSITIONS})


@dataclass(frozen=True, slots=True)
class CalleeModel:
    """How simulated people react. ``weights``: relative frequency of each disposition among
    answered calls (normalized); ``talk_factor``: how much longer or shorter than the
    carrier's talk-time draw such a conversation lasts (opt-outs are short, interested
    callees ask questions); ``words_per_second``: speaking pace for offsets.

    Not hashable (its mappings are read-only views, not hashable values)."""

    weights: Mapping[Disposition, float] = field(default_factory=lambda: MappingProxyType({
        "interested": 0.15, "not-interested": 0.50, "call-back": 0.20, "opt-out": 0.15}))
    talk_factor: Mapping[Disposition, float] = field(default_factory=lambda: MappingProxyType({
        "interested": 1.6, "not-interested": 0.8, "call-back": 0.9, "opt-out": 0.5}))
    words_per_second: float = 2.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen_weights(self.weights, "weights"))
        object.__setattr__(self, "talk_factor",
                           _frozen_weights(self.talk_factor, "talk_factor"))
        if sum(self.weights.values()) <= 0:
            raise ModelError("weights", "at least one disposition needs a weight > 0")
        if any(v <= 0 for v in self.talk_factor.values()):
            raise ModelError("talk_factor", "every factor must be > 0")
        pace = self.words_per_second
        if isinstance(pace, bool) or not isinstance(pace, int | float) or not 0.5 <= pace <= 6:
            raise ModelError("words_per_second", f"must be between 0.5 and 6, got {pace!r}")

    def choose(self, u: float) -> Disposition:
        """The disposition for a uniform draw ``u`` in [0, 1)."""
        total = sum(self.weights.values())
        threshold = u * total
        for disposition in DISPOSITIONS:
            threshold -= self.weights[disposition]
            if threshold < 0:
                return disposition
        return next(d for d in reversed(DISPOSITIONS) if self.weights[d] > 0)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "") -> CalleeModel:
        """From a scenario file's dict; missing keys keep their defaults."""
        prefix = f"{path}." if path else ""
        if not isinstance(data, Mapping):
            raise ModelError(path or "callee", "must be an object")
        unknown = set(data) - {"weights", "talk_factor", "words_per_second"}
        if unknown:
            raise ModelError(f"{prefix}{sorted(unknown)[0]}", "unknown field")
        kwargs: dict[str, Any] = {}
        for name in ("weights", "talk_factor"):
            if name in data:
                if not isinstance(data[name], Mapping):
                    raise ModelError(f"{prefix}{name}", "must be an object")
                kwargs[name] = {**getattr(cls(), name), **data[name]}
        if "words_per_second" in data:
            kwargs["words_per_second"] = data["words_per_second"]
        try:
            return cls(**kwargs)
        except ModelError as exc:
            raise ModelError(f"{prefix}{exc.field}", exc.detail) from None

    def to_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "talk_factor": dict(self.talk_factor),
                "words_per_second": self.words_per_second}


# --- phrasing ----------------------------------------------------------------------------------
# Small pools, several variants each; callee lines are templates over the contact variables.

_REACTIONS: Final = (
    "Hello? Yes, this is {{first_name}}.",
    "Oh, hi. Okay, what's this about?",
    "Yeah, I've got a minute. Go ahead.",
    "Um, sure. Who did you say you're with?",
    "Hi. I'm a little busy, but go on.",
)
_ANNOYED_REACTIONS: Final = (
    "Who is this? How did you get my number?",
    "Not another one of these calls.",
    "Yes? What is it?",
)
_PITCHES: Final = (
    "I'm calling because we have a new offer that many of our customers found useful, and "
    "I thought it might be a good fit for you. Would you like to hear a bit more?",
    "We're reaching out to a few people in your area about our service. It only takes a "
    "minute to explain. Is now a good time?",
    "I wanted to follow up on your recent interest and see if you have any questions I can "
    "answer.",
    "I have a quick update that could save you some money. Can I tell you about it?",
)
_INTERESTED: Final = (
    "Actually, yes, that sounds interesting. Tell me more.",
    "Sure, I'd like to hear more about that.",
    "Okay, that could work for me. What are the next steps?",
    "Yes, I've been meaning to look into something like that.",
)
_INTERESTED_ACKS: Final = (
    "Great, I'm glad to hear that.",
    "Wonderful, happy to walk you through it.",
    "That's great to hear, {{first_name}}.",
)
_QUESTIONS: Final = (
    ("How much does it cost?",
     "It depends on the plan you choose, but most people start with the basic option, and "
     "there's no setup fee."),
    ("Is there a contract, or can I cancel anytime?",
     "There's no long-term contract; you can cancel whenever you like."),
    ("How long does it take to get started?",
     "Usually just a couple of days. We handle most of the setup for you."),
    ("Can you send me something in writing?",
     "Absolutely, I'll email you all the details right after this call."),
    ("Do I need to do anything right now?",
     "Nothing at all today. A specialist will reach out to confirm the details."),
)
_CLARIFICATIONS: Final = (
    ("Sorry, who did you say is calling?",
     "I'm an automated assistant calling on behalf of our team. I'll keep it short."),
    ("Is this a sales call?",
     "It's a quick informational call, and you can ask me to stop at any time."),
    ("How did you get my number?",
     "You're in our records as someone who asked to hear from us, {{first_name}}."),
    ("Wait, is this a recording?",
     "I'm a virtual assistant, but I can answer your questions or have someone call you."),
)
_INTERESTED_CLOSES: Final = (
    "Perfect. I'll send over the details and a specialist will follow up with you. Thanks so "
    "much, {{first_name}}!",
    "Great, you're all set for now. Someone from our team will be in touch soon. Have a "
    "wonderful day!",
    "Thank you, {{first_name}}. I'll make a note and we'll follow up shortly.",
)
_GOODBYES: Final = ("Sounds good, thanks. Bye.", "Great, talk soon.", "Thank you, bye-bye.",
                    "Okay, bye.")
_NOT_INTERESTED: Final = (
    "No thanks, I'm not interested.",
    "I'm all set, thank you.",
    "Sorry, that's not something I need right now.",
    "I'll pass, but thanks for calling.",
)
_NOT_INTERESTED_CLOSES: Final = (
    "I understand. Thank you for your time, and have a great day.",
    "No problem at all. Thanks for listening, goodbye.",
    "Understood. Sorry to bother you, take care.",
)
_CALL_BACK: Final = (
    "I'm in the middle of something. Can you call me back {{callback_time}}?",
    "This isn't a good time. Could you try me again {{callback_time}}?",
    "I'm driving right now. Call me {{callback_time}}, please.",
    "Can we do this later? I'm free {{callback_time}}.",
)
_CALL_BACK_CLOSES: Final = (
    "Of course. I'll call you back {{callback_time}}. Talk to you then!",
    "No problem, we'll call you {{callback_time}}. Thanks, goodbye.",
    "Sure thing, we'll reach you {{callback_time}}. Have a good day.",
)
_OPT_OUTS: Final = (
    "Please stop calling me.",
    "I'm not interested. Take me off your list.",
    "Don't call this number again. Please take me off your list.",
    "Put me on your do-not-call list and stop calling me.",
    "How many times do I have to say it? Please stop calling me.",
)
_OPT_OUT_CLOSES: Final = (
    "I'm sorry for the trouble. I've removed your number and you won't be called again. "
    "Goodbye.",
    "Understood, we'll take you off our list right away. Sorry to have bothered you.",
    "Of course. Your number is removed from our list. Have a good day.",
)
_GREETINGS: Final = (
    "Hi, you've reached {{first_name}}. I can't take your call right now. Please leave a "
    "message after the tone.",
    "The person you are calling is not available. Please record your message after the tone.",
    "Hey, it's {{first_name}}. Leave me a message and I'll call you back.",
    "You have reached the voicemail of {{phone}}. Please leave a message.",
)

_DANGLING = re.compile(r",\s*(?=[.!?])|\s+(?=[,.!?])")  # left by an empty variable
_SPACES = re.compile(r"\s{2,}")
# Seconds: pause between turns, quiet tail before the hang-up, the beep after a greeting.
_GAP: Final = (0.3, 1.2)
_TAIL: Final = 0.4
BEEP_S: Final = 0.6
_MAX_EXTRA_GAP: Final = 2.5  # a gap grows at most this much to fill a long call


def _say(template: str, context: Mapping[str, Any], **words: str) -> str:
    """Render a line with the contact variables (and ``words``, e.g. the call-back time),
    then tidy what an empty variable left."""
    text = render(template, {**context, **words} if words else context)
    text = _SPACES.sub(" ", _DANGLING.sub("", text)).strip()
    return text[:1].upper() + text[1:]


def opening_text(opening_template: str, context: Mapping[str, Any]) -> str:
    """The assistant's first words: the campaign's opening message for this contact."""
    text = _SPACES.sub(" ", render(opening_template, context)).strip()
    return text or DEFAULT_OPENING


Script = list[tuple[Speaker, str]]
# Lines a short call leaves out, first to go first: the goodbye, the pitch, the reaction.
_GOODBYE, _PITCH, _REACTION, _KEEP = 3, 2, 1, 0


def _lines(rng: random.Random, disposition: Disposition, opening: str,
           context: Mapping[str, Any], talk_s: float, pace: float) -> Script:
    """The script of a disposition, sized to ``talk_s`` at ``pace`` words a second: a long
    call gets questions and answers, a short one loses its optional lines."""

    def cost(text: str) -> float:
        return len(text.split()) / pace + sum(_GAP) / 2

    script: list[tuple[Speaker, str, int]] = [("assistant", opening, _KEEP)]
    fillers: list[tuple[str, str]] = []
    if disposition == "opt-out":
        script.append(("callee", _say(rng.choice(_ANNOYED_REACTIONS), context), _REACTION))
        if rng.random() < 0.5:  # half of the opt-outs do not wait for the pitch
            script.append(("assistant", rng.choice(_PITCHES), _PITCH))
        script.append(("callee", rng.choice(_OPT_OUTS), _KEEP))
        script.append(("assistant", rng.choice(_OPT_OUT_CLOSES), _KEEP))
    else:
        named = _has_name(context)
        reactions = [r for r in _REACTIONS if named or "first_name" not in r]
        script.append(("callee", _say(rng.choice(reactions), context), _REACTION))
        script.append(("assistant", rng.choice(_PITCHES), _PITCH))
        if disposition == "interested":
            script.append(("callee", rng.choice(_INTERESTED), _KEEP))
            ack = _say(rng.choice(_INTERESTED_ACKS), context)
            close = _say(rng.choice(_INTERESTED_CLOSES), context)
            fillers = rng.sample(_QUESTIONS, len(_QUESTIONS))
        else:
            fillers = rng.sample(_CLARIFICATIONS, len(_CLARIFICATIONS))
            when = rng.choice(CALLBACK_TIMES)
            if disposition == "not-interested":
                decision = rng.choice(_NOT_INTERESTED)
                close = rng.choice(_NOT_INTERESTED_CLOSES)
            else:
                decision = _say(rng.choice(_CALL_BACK), context, callback_time=when)
                close = _say(rng.choice(_CALL_BACK_CLOSES), context, callback_time=when)
        goodbye = rng.choice(_GOODBYES) if rng.random() < 0.7 else None
        # Fill a long call with exchanges while they fit (closing lines counted).
        budget = talk_s - _TAIL - sum(cost(text) for _, text, _ in script) - cost(close)
        budget -= cost(goodbye or "") if goodbye else 0.0
        if disposition == "interested":
            invite = f"{ack} What would you like to know?"
            budget -= cost(invite)
        else:
            budget -= cost(decision)
        asked: list[tuple[str, str]] = []
        for question, answer in fillers:
            budget -= cost(question) + cost(answer)
            if budget < 0:
                break
            asked.append((question, _say(answer, context)))
        if disposition == "interested":
            if asked:
                script.append(("assistant", invite, _KEEP))
                for question, answer in asked[:-1]:
                    script += [("callee", question, _KEEP), ("assistant", answer, _KEEP)]
                script.append(("callee", asked[-1][0], _KEEP))
                script.append(("assistant", f"{asked[-1][1]} {close}", _KEEP))
            else:
                script.append(("assistant", f"{ack} {close}", _KEEP))
        else:
            for question, answer in asked:
                script += [("callee", question, _KEEP), ("assistant", answer, _KEEP)]
            script.append(("callee", decision, _KEEP))
            script.append(("assistant", close, _KEEP))
        if goodbye:
            script.append(("callee", goodbye, _GOODBYE))
    # A short call: leave out optional lines until the rest fits (then _fit compresses).
    while sum(cost(text) for _, text, _ in script) > talk_s - _TAIL:
        rank = max(rank for _, _, rank in script)
        if rank == _KEEP:
            break
        at = next(i for i, line in enumerate(script) if line[2] == rank)
        del script[at]
    merged: Script = []
    for speaker, text, _ in script:  # a left-out line may leave one speaker twice in a row
        if merged and merged[-1][0] == speaker:
            merged[-1] = (speaker, f"{merged[-1][1]} {text}")
        else:
            merged.append((speaker, text))
    return merged


def _has_name(context: Mapping[str, Any]) -> bool:
    return bool(render("{{first_name}}", context).strip())


def _speech_s(text: str, rng: random.Random, words_per_second: float) -> float:
    return max(0.6, len(text.split()) / words_per_second * rng.uniform(0.85, 1.15))


def _timed(lines: Script, durations: Sequence[float],
           gaps: Sequence[float]) -> tuple[Turn, ...]:
    turns: list[Turn] = []
    t = 0.0
    for (speaker, text), duration, gap in zip(lines, durations, gaps, strict=True):
        t += gap
        turns.append(Turn(speaker, text, round(t, 3), round(t + duration, 3)))
        t += duration
    return tuple(turns)


def _fit(lines: Script, rng: random.Random, words_per_second: float,
         talk_s: float) -> tuple[Turn, ...]:
    """Time the lines inside ``[0, talk_s]``: natural pace, longer pauses when the call is
    long (up to a limit, then silence before the hang-up), compressed when it is short."""
    durations = [_speech_s(text, rng, words_per_second) for _, text in lines]
    gaps = [rng.uniform(*_GAP) for _ in lines]
    available = max(talk_s - _TAIL, 0.0)
    natural = sum(durations) + sum(gaps)
    if natural > available:
        scale = available / natural if natural else 0.0
        durations = [d * scale for d in durations]
        gaps = [g * scale for g in gaps]
    else:
        extra = min((available - natural) / len(gaps), _MAX_EXTRA_GAP)
        gaps = [gaps[0], *(g + extra for g in gaps[1:])]
    turns = _timed(lines, durations, gaps)
    # Rounding must not push the last word past the hang-up.
    return tuple(Turn(t.speaker, t.text, min(t.start_s, talk_s), min(t.end_s, talk_s))
                 for t in turns)


def conversation(seed: int | str, call_id: str, disposition: Disposition, *,
                 opening: str, context: Mapping[str, Any], talk_s: float,
                 model: CalleeModel | None = None) -> tuple[Turn, ...]:
    """The turns of a call a person answered; ``opening`` is the template of the assistant's
    first message; every offset lies within ``[0, talk_s]``."""
    model = model or _DEFAULT_MODEL
    rng = random.Random(f"{seed}:{call_id}:callee")
    pace = model.words_per_second
    lines = _lines(rng, disposition, opening_text(opening, context), context, talk_s, pace)
    return _fit(lines, rng, pace, talk_s)


def voicemail(seed: int | str, call_id: str, *, message: str | None,
              context: Mapping[str, Any], greeting_s: float,
              talk_s: float) -> tuple[Turn, ...]:
    """The turns of a call a machine answered: its greeting, then (if the assistant spoke)
    ``message`` rendered for the contact after the beep, all within ``[0, talk_s]``."""
    rng = random.Random(f"{seed}:{call_id}:callee")
    named = _has_name(context)
    greetings = [g for g in _GREETINGS if named or "first_name" not in g]
    greeting = _say(rng.choice(greetings), context)
    greeting_end = min(greeting_s, talk_s)
    turns = [Turn("callee", greeting, 0.0, round(greeting_end, 3))]
    start = greeting_s + BEEP_S
    end = talk_s - _TAIL
    if message is not None and start < end:
        # The message fills the time the carrier model gave it, whatever its word count.
        turns.append(Turn("assistant", opening_text(message, context), round(start, 3),
                          round(end, 3)))
    return tuple(turns)


_DEFAULT_MODEL: Final = CalleeModel()
