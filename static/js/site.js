// Site-wide behaviour (no third-party code, nothing loaded from outside).
