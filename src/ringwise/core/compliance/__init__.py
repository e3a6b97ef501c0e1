"""Legal guardrails under every campaign: calling-hour floors, frequency caps, do-not-call."""
