"""Outbound notifications: webhook deliveries and e-mail."""
