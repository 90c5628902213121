"""Moving a tenant's memory out and back in: ``mcp-memory export`` and ``mcp-memory import``.

- ``jsonl``: every table of a tenant as JSON Lines, full fidelity, any backend to any backend
  (``storage.contracts.portability``); sealed confidential content stays sealed unless asked otherwise.
- ``markdown`` (+ ``markdown_files``): one file per memory and one per namespace's facts, readable and
  editable; importing the folder applies the edits through the service's normal write path.
- ``sealing``: opening and re-sealing confidential content inside exported rows.
- ``commands`` and ``cli``: the two CLI commands (progress bars, summaries, errors).

Nothing is imported here, so the CLI loads only what a command needs.
"""
