"""Outbound webhooks: Standard Webhooks 1.0 signing and the destination (SSRF) guard."""
