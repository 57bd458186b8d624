"""Informative crosswalks from JBG grades to other scales.

* :func:`cjs` - the labs' draft Cyber Jailbreak Severity scale (CJS-0..CJS-4 and its
  four axes), from a JBG 1.1 grade (a 1.0 grade is migrated first);
* :func:`jef_score` / :func:`jef_from_evidence` - 0DIN's Jailbreak Evaluation
  Framework score, from its four inputs or from a campaign's evidence.

Both are informative (docs/spec/jbg-1.1.md, section 17): JBG does not depend on
them and they do not change a grade.
"""

from jbgrade.crosswalk._cjs import CJS_BANDS, CjsResult, cjs
from jbgrade.crosswalk._jef import JEF_CAPS, JEF_WEIGHTS, JefResult, jef_from_evidence, jef_score

__all__ = [
    "CJS_BANDS",
    "JEF_CAPS",
    "JEF_WEIGHTS",
    "CjsResult",
    "JefResult",
    "cjs",
    "jef_from_evidence",
    "jef_score",
]
