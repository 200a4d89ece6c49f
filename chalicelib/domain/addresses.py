"""The grammar of an email address, shared by the API (which validates with it) and log masking (which
finds with it), so that no address the API accepts can pass through a log unmasked.

The local part is RFC 5322's dot-atom alphabet (``x=jane{doe}``, ``o'brien.patrick`` are valid); the domain
is dot-separated LDH labels.
"""

from __future__ import annotations

import re

EMAIL_LOCAL_CHARS = r"A-Za-z0-9.!#$%&'*+/=?^_`{|}~-"
EMAIL_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+"
EMAIL = re.compile(rf"[{EMAIL_LOCAL_CHARS}]+@{EMAIL_DOMAIN}")
