"""The demo templates a new install starts with: `<slug>/meta.json` plus its background image.

`build.py` made them and regenerates them (`python -m promostack.templates.demo.build`).
"""

from pathlib import Path

DEMO_DIR = Path(__file__).parent
