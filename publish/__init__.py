"""Publishing a rendered report (posting to GitHub): I/O, kept out of ``reports``."""
