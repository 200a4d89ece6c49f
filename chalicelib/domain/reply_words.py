"""The words and phrases that decide what a reply means, English and Chinese, after reply_text folds it.

Revocation words count wherever they stand in a reply that says more (47 CFR 64.1200(a)(10): consent
may be revoked by any reasonable means), except under a clear negation in the same clause ("don't stop
the reminders", 不用退订) or in a few idioms that are not requests ("stop by", "bus stop", "did you
stop"). Words that often mean something else (end, quit, cancel, T, TD, 取消) count when the reply is
that word alone, or with an object that is our messages. Chinese is matched with its spaces removed.
"""

from __future__ import annotations

import re

# A reply made only of these words (and FILLER) is that intent: "STOP", "cancel please", "T".
OPT_OUT_WORDS = frozenset(
    {"stop", "stopall", "quit", "end", "revoke", "optout", "cancel", "unsubscribe", "unsub", "td", "退订", "取消"}
)
OPT_IN_WORDS = frozenset({"start", "unstop", "resume"})
HELP_WORDS = frozenset({"help", "info", "帮助", "求助"})
FILLER = frozenset({"please", "pls", "plz", "it", "now", "thanks", "thank", "thx", "you", "all", "me", "out", "opt"})
ZH_FILLER = re.compile(r"谢谢|麻烦|请|帮我|我要|了|吧|啊|呀|哦|的")

_COMMS = r"(text\w*|txt\w*|message\w*|msg\w*|sms|call\w*|phon\w*|sending)"
# "I'm not able to pay" is no wrong party: what may follow "I am not" without naming someone else.
_NOT_A_NAME = (
    r"able|going|sure|paying|ready|working|home|available|interested|happy|trying|refusing|gonna|in|at|ok|okay|"
    r"fine|well|a|an|doing|responsible|aware|good|here|there|done|employed|joking|kidding|lying|my debt|mine"
)
CEASE = (
    r"\bcease\w*\b",
    r"\bdesist\b",
    r"\bstop (all |any )?(contact\w*|communicat\w*)\b",
    r"\b(dont|do not|never) (ever |again )?(contact|communicate with) me\b",
    r"\bno (further|more) (contact|communication)s?\b",
    r"(不要|别|勿|不准|不许)再?(跟我|和我|给我)?联系",
    r"停止(一切|所有)?的?(联系|催收|催款|沟通)",
    r"(不要|别)再?催",
)
OPT_OUT = (
    r"\b(stop|stopall|unsubscribe|unsub|revoke|optout|opt out)\b",
    rf"\b(quit|cancel|end) (\w+ )?{_COMMS}\b",
    rf"\b(dont|do not|never|no more) (ever |again |even )?{_COMMS} (me|this|my|us)\b",
    r"\bno more (texts?|messages?|sms|calls?|text messages)\b",
    r"\b(dont|do not) want (\w+ ){0,3}(texts?|messages?|sms|calls?)\b",
    r"\binstead of (texting|texts|text messages|messages)\b",
    r"\bleave me alone\b",
    r"\bremove (me|my number|this number)\b",
    r"\btake (me|my number|this number) off\b",
    r"\bopt me out\b",
    r"退订|退定|取消订阅|停止(发送|推送|发短信|发信息)|拒收|勿扰",
    r"(不要|别|勿|不准|不许)再?(给我)?(发|打)",
    r"(不想|不要|不愿意?)再?(收到|接收|接到)",
    r"别再?(烦|骚扰)我|(停止|不要|别再?)骚扰",
    r"取消(短信|通知|推送|简讯|信息|提醒)",
    r"回复?td|td退订",
)
WRONG_PARTY = (
    r"\bwrong (number|person|guy|girl|lady|man|one|#)\b",
    r"\bgot the wrong\b",
    rf"\b(this is not|this isnt|its not|it is not|i am not|i m not|im not) (?!{_NOT_A_NAME})\w+",
    r"\b(no one|nobody) (by|named|called|here)\b",
    r"\b(dont|do not) know (who|this|that|him|her|them|any)\b",
    r"\bnot (his|her|their|my) (number|name|phone)\b",
    r"打错|发错|找错|错人|错号|号码错|我不是(?!不|要|说|在|故意|没)|不是本人|不认识|没有这个人|查无此人",
    r"不是(他|她)的(号|手机|电话)",
)
DISPUTE = (
    r"\bnot my (debt|loan|account|bill)\b",
    r"\b(dont|do not|never) owe\b",
    r"\balready paid\b|\bpaid in full\b|\bpaid (this |it |that |the \w+ )?off\b",
    r"\bnot mine\b",
    r"\bnever (had|opened|borrowed|took|signed)\b",
    r"\bdisput\w*\b|\bfraud\w*\b|\bidentity theft\b",
    r"已经?还(款|清|了)|已还|还清|早就还|不是我借|没有?借|不欠|异议|冒用|被盗|不是我的(债|贷|欠|账)",
)
# A negation just before a match, in its clause, turns it around: "don't stop", "never stop", 不用退订.
# "if you don't stop ..." and "won't you stop" are requests, not negations.
NEGATION = re.compile(r"\b(dont|not|never|wont|didnt|doesnt|shouldnt|no need to|without)( (?!you\b)\w+){0,2} ?$")
NOT_NEGATION = re.compile(r"\b(if|unless) (you|u) (dont|do not|wont)( \w+)? ?$")
ZH_NEGATION = re.compile(r"(不|别|勿|无需|毋须|没)(是|用|要|想|必|需|需要|打算|会|准备|着急)*$")
# "stop by", "stop at the bank", "bus stop", "did you stop the autopay": not a request to stop.
IDIOM_AFTER = re.compile(r"^ (by|at|in|over|sign)\b")
IDIOM_BEFORE = re.compile(r"\b(bus|pit|last|truck|one|full|did (you|u|they|we|it|he|she|i)( \w+)?) $")
