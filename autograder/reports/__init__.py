"""Reports: terminal text, Gradescope JSON, CSV gradebook, HTML feedback."""
