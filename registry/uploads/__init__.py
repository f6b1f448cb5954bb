"""The upload pipeline of ``csv.md``: receiving a file (streamed to storage while hashed),
reading it (gzip, encoding, CSV, limits), staging and checking its rows, and applying them in
one transaction per upload. ``services`` is the entry point; ``docs/uploads.md`` explains it."""
