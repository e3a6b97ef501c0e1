"""Post-call analysis: the analyzer port and the offline keyword analyzer."""
