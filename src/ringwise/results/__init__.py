"""What follows a call: analysis, statistics, webhooks, exports and reports."""
