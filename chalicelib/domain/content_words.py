"""The words of forbidden content, by category, in English, Spanish and Chinese, as they read once folded.

Patterns run on ``content_text.fold``'s output: lower case, Latin letters without accents (``carcel``),
simplified Chinese, contractions spelled out (``will not``), no spaces between Chinese characters. A
category marked negatable is set aside when a negation or a warning governs the match (``we will not
contact your employer``, ``谨防冒充公检法``); see ``content_scan.py`` for the window. Insults and any
mention of the debt to a third party are never set aside.
"""

from __future__ import annotations

from typing import Literal

Category = Literal[
    "threat_violence",
    "threat_arrest",
    "insult",
    "impersonation",
    "threat_disclosure",
    "threat_visit",
    "third_party_debt",
]

_YOUR = r"(?:your |ur |the )?"
_PEOPLE = (
    r"(?:employers?|boss|manager|supervisor|hr(?: department)?|human resources|work ?place|job|famil(?:y|ies)"
    r"|relatives?|parents?|mother|father|mom|dad|wife|husband|spouse|partner|child(?:ren)?|kids?|friends?"
    r"|neighbou?rs?|coworkers?|co ?workers?|colleagues?|references?|contacts?(?: list)?|everyone you know"
    r"|church|pastor|landlord|in-?laws?)"
)
_PLACES = r"(?:home|house|door|doorstep|work ?place|workplace|office|job|work|place of (?:work|employment)|apartment)"
_ZH_PEOPLE = (
    r"(?:单位|领导|公司|同事|家人|家里人|家属|父母|爸妈|亲戚|亲友|亲属|朋友|老婆|老公|配偶|子女|孩子|邻居|村里|人事"
    r"|紧急联系人|联系人|通讯录)"
)
_ZH_PLACES = r"(?:家|家里|单位|公司|老家|学校|宿舍|住处)"

WORDS: dict[str, tuple[str, ...]] = {
    "threat_violence": (
        r"\b(?:kill|murder|hurt|harm|beat|stab|shoot)(?: you| u|\b)",
        r"\bbreak (?:your|his|her) (?:legs?|arms?|neck|face|bones)",
        r"\bburn (?:down )?your",
        r"\bwatch your back",
        r"\b(?:you will|make you) regret",
        r"\bnot safe\b",
        r"\baccidents? (?:can |do |will )?happen",
        r"\bsomething (?:bad|terrible|awful) (?:might|will|could|may|is going to) happen",
        r"\bbad things (?:will|might|could) happen",
        r"\bwe know where (?:you|your \w+) (?:live|go|work|sleep)",
        r"\bfind you and\b",
        r"\bsee what happens",
        r"\bbeat (?:the money|it) out of",
        r"打断.{0,3}腿|弄死|杀了?你|砍(?:死|你)|捅(?:死|你)|去死|不得好死",
        r"出门小心|小心(?:点|你的?|您的?)(?:家人|孩子|家里|安全|小命|车)?|让你好看|等着瞧|给你点颜色",
        r"(?:知道|晓得)(?:你|您)(?:的)?(?:孩子|儿子|女儿|家人|家)(?:在哪|住)",
        r"晚上最好别|走夜路|你会后悔|有的是办法(?:对付|收拾)|收拾你|下场|你就完了",
        r"\brompe(?:r|remos|rle|remosle)? (?:las|los|sus) (?:piernas|brazos|huesos)|\ble romperemos\b",
        r"\bsabemos donde (?:vive|estudian|trabaja|duerme)|\balgo malo (?:le )?(?:puede|va a|podria) pasar",
        r"\b(?:se|te) va(?:s)? a arrepentir|\bcuidese\b|\bmatar(?:lo|la|te)?\b|\bgolpear(?:lo|la|te)?\b|\bhacerle dano",
    ),
    "threat_arrest": (
        r"\barrest(?:ed|ing)?\b",
        r"\bjail(?:ed)?\b|\bprison\b|\blocked up\b|\block you up\b|\bbehind bars\b",
        r"\bwarrants?\b",
        r"\bhandcuffs?\b",
        r"\bcriminal(?:ly)? (?:charges?|complaint|case|offen[cs]e|prosecution|record)",
        r"\bpress(?:ing)? charges\b|\bprosecut\w*",
        r"\b(?:is|be|was|as) (?:a )?(?:crime|theft|fraud)\b|\bcommitting (?:a crime|fraud|theft)",
        r"\b(?:call|calling|contact) the (?:police|cops)|\bcops?\b",
        r"\bdistrict attorney\b",
        r"逮捕|拘留|坐牢|监狱|判刑|刑事|立案|通缉|牢饭|进局子|蹲大牢|诈骗罪|犯罪|涉嫌|带走",
        r"(?:就|会|要|将|去|已经?|立即|马上)报警|报警抓|抓(?:你|人|去|起来)|被抓|移送公安|公安机关|经侦|备案|配合调查",
        r"\barrestad[oa]s?\b|\barrest(?:ar|aremos|arlo|arla)\b|\bdetener(?:lo|la)?\b|\bdetenid[oa]\b",
        r"\bcarcel\b|\bprision\b|\bencarcelad[oa]\b|\borden de (?:arresto|captura|detencion)",
        r"\bcargos (?:penales|criminales)|\bdenuncia(?:r|remos|rlo|rla)?\b|\bdelito\b",
    ),
    "insult": (
        r"\bf[u*]+ck\w*|\bsh[i*]t\b|\bb[i*]tch\w*|\bbastards?\b|\bdamn\b|\bass(?:hole)?s?\b|\bcrap\b",
        r"\bscum(?:bag)?s?\b|\bpiece of (?:shit|garbage|trash|work)",
        r"\b(?:moron|idiot|stupid|dumb|deadbeat|loser|worthless|pathetic|lowlife|bum|lazy)s?\b",
        r"\b(?:you are|you|you re) (?:a |an |such an? )?(?:liar|thief|crook|cheat|fraud|disgrace)",
        r"老赖|不要脸|垃圾|废物|王八蛋|人渣|傻逼|傻b|\bsb\b|混蛋|无耻|畜生|狗东西|败类|白眼狼|贱人",
        r"(?:你|您)(?:就|真|才)?(?:是)?(?:个|这个|这种)?骗子|骗子[，,!！]",
        r"\b(?:idiota|estupid[oa]|imbecil|sinverguenza|ladron(?:a)?|mentiros[oa]|mierda|pendej[oa]|cabron"
        r"|inutil|basura|desgraciad[oa]|tramposo)s?\b",
    ),
    "impersonation": (
        r"\b(?:this is|i am|we are|from|message from|notice from|letter from|on behalf of) (?:the |an? )?"
        r"(?:officer\b|police|sheriff|county court|district court|court\b|fbi\b|irs\b|attorney general|"
        r"federal agent|government|law enforcement|department of justice|marshal)",
        r"\b(?:police|sheriff)(?:'s| s)? (?:department|office)\b",
        r"\bofficer \w+ of\b|\bfederal agents?\b|\blaw enforcement\b|\bgovernment notice\b|\bprocess server\b",
        r"\bcourt (?:summons|order)|\bsummons\b|\border(?:ed)? to appear\b",
        r"\bthe court (?:has|will) (?:issued|issue|ordered|order)",
        r"\b(?:i am|we are|this is) (?:a |an |the )?(?:lawyers?|attorneys?|law firm|legal department of)",
        r"公安|警察|民警|警官|派出所|法院|法官|检察|律师|经侦|公检法|政府|监管部门|执法|法警|司法机关",
        r"\b(?:le habla|somos|soy|habla|mensaje del?|aviso del?|de parte del?) (?:el |la |los |las |un |una )?"
        r"(?:oficial|policia|tribunal|juzgado|corte|abogad[oa]s?|gobierno|fiscal|alguacil|agentes? federal)",
        r"\b(?:policia|tribunal|juzgado) del (?:condado|distrito|estado)|\borden judicial\b|\bcitacion judicial\b",
    ),
    "threat_disclosure": (
        r"\b(?:contact|call|calling|tell|telling|notify|inform|text|email|message|reach out to|speak to|talk to"
        r"|write to|let) (?:to )?" + _YOUR + r"(?:\w+ )?" + _PEOPLE + r"\b",
        r"\b" + _YOUR + _PEOPLE + r"(?: and \w+)? (?:will|are going to|is going to|would) "
        r"(?:hear|know|find out|be told|learn|be (?:notified|informed|called|contacted))",
        r"\bpost (?:this|your \w+|you|it|about you)\b.{0,20}\b(?:facebook|social media|online|instagram|twitter|x)\b",
        r"\b(?:name|you|photo) will be (?:published|posted|listed|shared)",
        r"\blist of (?:bad )?debtors\b|\bwall of shame\b",
        r"爆(?:你的?)?通讯录|曝光|挂(?:到|在)网上|朋友圈|同事群|家族群|村里人",
        r"(?:联系|通知|告诉|告知|打电话给|发给|找|给|向|对)(?:你|您)?(?:的)?(?:所有的?)?" + _ZH_PEOPLE,
        r"(?:掌握|有)(?:你|您)(?:的)?通讯录",
        r"\b(?:everyone|everybody|all|each|people) (?:in|on|from) your (?:contacts?|contact list|phone|address book)",
        _ZH_PEOPLE + r".{0,6}(?:都?会|就会)?(?:知道|接到电话)|(?:父母|家人|单位)还不知道",
        r"\b(?:llamar|llamaremos|contactar|contactaremos|avisar|avisaremos|decir|diremos|decirle|informar"
        r"|informaremos|notificar|notificaremos|escribir|escribiremos) (?:a )?(?:su|sus|todos sus|toda su) "
        r"(?:empleador|jefe|familia|familiares|parientes|amigos|vecinos|companeros|contactos|referencias"
        r"|esposa|esposo|padres|hijos)",
        r"\b(?:su|sus) (?:empleador|jefe|familia|vecinos|companeros|amigos|parientes) "
        r"(?:se van a enterar|se enteraran|sabran|van a saber)|\bpublicar(?:emos)? su nombre|\ben redes sociales\b",
    ),
    "threat_visit": (
        r"\b(?:visit|come to|come by|show up at|stop by|knock on|waiting outside|wait outside|be at|turn up at)"
        r" (?:at )?" + _YOUR + _PLACES + r"\b",
        r"\bsend (?:someone|somebody|people|a team|our (?:agents?|team|people|collectors?)|officers?|"
        r"a field agent|an agent)\b",
        r"\b(?:field agent|field visit|home visit|house call)s?\b.{0,20}\b(?:will|to)\b",
        r"\bexpect a visit\b|\bwe know where you live\b|\bserved? at (?:your )?(?:work|home|job|office)\b",
        r"\b(?:cops?|police|team|someone|agents?|officers?) will be at (?:your )?" + _PLACES,
        r"上门|外访|派人|堵你|(?:到|去)(?:你|您)(?:的)?" + _ZH_PLACES + r"|找你父母|去.{0,4}老家",
        r"\b(?:iremos|vamos a ir|iran|ira|visitaremos|visitara|pasaremos|llegaremos|vendremos|vendra)"
        r" (?:a |por )?(?:su |tu )?(?:casa|domicilio|trabajo|oficina|puerta|negocio)",
        r"\b(?:enviaremos|mandaremos) a (?:alguien|un agente|nuestros agentes|un equipo)",
    ),
    "third_party_debt": (
        r"\b(?:debts?|owes?|owed|owing|overdue|past due|arrears|default(?:ed)?|delinquen\w*|collections?|"
        r"collecting|collectors?|balance|unpaid|loans?|payments?|pay back|repay\w*)\b",
        r"欠|债|逾期|还款|还钱|催收|催一下|贷款|借款|账单|信用卡",
        r"\b(?:deudas?|debe|deben|adeuda|vencid[oa]|saldo|pagos?|prestamos?|cobranza|cobro|moros[oa]|atrasad[oa])\b",
    ),
}

NEGATABLE = frozenset({"threat_violence", "threat_arrest", "impersonation", "threat_disclosure", "threat_visit"})

# A negation or a warning before the match, in its clause, sets it aside (within NEGATION_WORDS words).
NEGATION = (
    r"\b(?:not|never|no|nobody|no one|none|neither|nor|cannot|without|nothing)\b"
    r"|\b(?:beware|scam\w*|pretend\w*|posing|impersonat\w*|claim(?:s|ing)? to be|threaten\w*|threats?)\b"
    r"|\b(?:nunca|nadie|jamas|tampoco|ningun[oa]?|ni|sin)\b"
    r"|\b(?:cuidado con|estafador\w*|se hacen pasar|haciendose pasar|fingiendo|amenaz\w*)\b"
)
# What looks like a negation and is not one: it negates the payment, or it is a figure of speech.
NOT_NEGATION = (
    r"\b(?:not|never|no|can not|cannot) (?:pay|paying|payment|respond|reply|settle|act|answer|receive|hear|get)"
    r"|\bnot (?:want|hesitate|be able to stop|stop)\b|\bno (?:choice|option)\b"
    r"|\bcan not promise(?: you| that)*(?: will not| are not| will never)?"
    r"|\b(?:nobody|no one) can (?:protect|save|help|stop)\b|\bnot a threat\b"
    r"|\bno (?:paga|pague|pagar|paga usted|recibimos|responde|responda|contesta)\b|\bno es una amenaza\b"
    r"|\bno (?:tendremos|tenemos) (?:otra )?opcion|\bno dudaremos\b"
)
ZH_NEGATION = (
    r"不会|绝不|决不|从不|从未|不得|不能|不可能|不是|并非|并不|并未|没有|未曾|不存在|不再|无需|无须|不用|不必"
    r"|冒充|假冒|自称|谨防|警惕|诈骗|如遇|投诉|严禁|杜绝|不允许|禁止|不要轻信|请勿|勿|不敢"
)
ZH_NOT_NEGATION = r"别以为.{0,6}(?:不敢|不会)|不是威胁|没有还款|没有还钱"
NEGATION_WORDS = 12
ZH_NEGATION_CHARS = 10
# An English comma does not end a clause: "nobody will visit you, call your boss, or contact your relatives";
# a comma beside a Chinese character does (NFKC has made "，" a ",").
CLAUSE_BREAK = (
    r"[.!?;:\n。；：]|(?<=[\u3400-\u9fff]),|,(?=[\u3400-\u9fff])"
    r"| but | however | unless | otherwise | or else | pero | sino | a menos que |但是|但|可是|然而|否则"
)
