"""Drop-in compatible endpoints: each foreign campaign API's request shapes under
``/compat/<system>``, translated onto native objects (docs/compat.md)."""

SYSTEMS = ("kejue", "kathan", "kayse", "playbook", "vapi")
