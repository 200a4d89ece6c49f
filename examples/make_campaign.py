"""Writes examples/campaign.jsonl: a synthetic morning campaign, the same every time (fixed seed).

About 3,000 requests across every jurisdiction a pack covers (US federal, Massachusetts, Washington, New
York City, China, Australia, Ontario, Quebec, India, the Philippines, Indonesia, Ireland, the UK), on every
channel. Some people get more than their caps allow (three texts to a Boston number, four calls to a
Chinese one), some are third parties, and the people in campaign-opt-outs.jsonl asked not to be texted
(``./gateway demo`` records that first).

    .venv/bin/python examples/make_campaign.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import phonenumbers

HERE = Path(__file__).resolve().parent
PEOPLE = 1300
# (place, country, subdivision, number prefix, digits after it, language)
PLACES = (
    ("US-GA", "US", "GA", "+1404555", 4, "en"),
    ("US-MA", "US", "MA", "+1617555", 4, "en"),
    ("US-WA", "US", "WA", "+1206555", 4, "en"),
    ("US-NYC", "US", "NY", "+1212555", 4, "en"),
    ("US-CA", "US", "CA", "+1310555", 4, "en"),
    ("CN", "CN", None, "+86138", 8, "zh"),
    ("AU", "AU", "NSW", "+614", 8, "en"),
    ("CA-ON", "CA", "ON", "+1416555", 4, "en"),
    ("CA-QC", "CA", "QC", "+1514555", 4, "en"),
    ("IN", "IN", None, "+9198", 8, "en"),
    ("PH", "PH", None, "+63917", 7, "en"),
    ("ID", "ID", None, "+62812", 8, "en"),
    ("IE", "IE", None, "+35387", 7, "en"),
    ("UK", "GB", None, "+447700", 6, "en"),
)
TEXTS = {
    "en": "Your payment of {amount} on account {account} is {dpd} days overdue. Reply STOP to opt out.",
    "zh": "您的账户{account}已逾期{dpd}天,应还{amount}。回复TD退订。Reply STOP to opt out.",
}


def number(rng: random.Random, prefix: str, digits: int) -> str:
    for _ in range(1000):
        candidate = prefix + "".join(rng.choice("0123456789") for _ in range(digits))
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate, None)):
            return candidate
    raise ValueError(f"no valid number under {prefix}")


def requests_for(rng: random.Random, person: int) -> list[dict[str, object]]:
    place, country, subdivision, prefix, digits, language = PLACES[person % len(PLACES)]
    debtor, account, dpd = f"cm-{person:04d}", f"acct-{person:04d}", rng.choice((3, 9, 16, 31, 45, 62, 95))
    location = {"country": country, **({"subdivision": subdivision} if subdivision else {})}
    text = TEXTS[language].format(amount=f"{rng.randint(40, 900)}.00", account=account, dpd=dpd)
    base = {"debtor_id": debtor, "account_id": account, "location": location, "days_past_due": dpd}
    phone = number(rng, prefix, digits)
    sms = {**base, "channel": "sms", "to": phone, "message": {"body": text}}
    email = {
        **base,
        "channel": "email",
        "to": f"{debtor}@example.com",
        "message": {"subject": "Payment reminder" if language == "en" else "还款提醒", "body": text},
    }
    voice = {**base, "channel": "voice", "to": phone}
    chosen: list[dict[str, object]] = [sms, email]
    if place == "US-MA" and person % 3 == 0:
        chosen += [sms, sms]  # 2 texts in 7 days per debt: the third is deferred
    if place == "CN" and person % 2 == 0:
        chosen += [voice] * 4  # more calls than the day allows
    elif person % 4 == 0:
        chosen.append(voice)
    if person % 29 == 0:
        chosen.append({**sms, "recipient_role": "third_party", "to": number(rng, prefix, digits)})
    return chosen


def main() -> None:
    rng = random.Random(20261201)
    lines = [json.dumps(r, ensure_ascii=False) for p in range(PEOPLE) for r in requests_for(rng, p)]
    (HERE / "campaign.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    opt_outs = [{"debtor_id": f"cm-{p:04d}", "opt_outs": [{"channel": "sms"}]} for p in range(0, PEOPLE, 17)]
    (HERE / "campaign-opt-outs.jsonl").write_text("\n".join(json.dumps(o) for o in opt_outs) + "\n", encoding="utf-8")
    print(f"{len(lines)} requests for {PEOPLE} people; {len(opt_outs)} opted out of texts")


if __name__ == "__main__":
    main()
