"""The CDNOW sample of Fader, Hardie & Lee (2005): where it lies and where its calibration period ends."""

from datetime import date
from pathlib import Path

DATA = Path(__file__).parents[1] / "data" / "cdnow"
CALIBRATION_END = date(1997, 9, 30)  # 39 weeks from 1 January 1997; the holdout is the 39 weeks after
