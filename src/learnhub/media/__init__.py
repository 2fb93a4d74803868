"""Video media: where the files live (`storage.py`, a local directory by default) and the demo's
generated clips (`demo_clips.py`)."""
