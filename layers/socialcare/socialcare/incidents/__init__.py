"""Root cause: similar open cases of one department become one incident with one update when fixed."""
