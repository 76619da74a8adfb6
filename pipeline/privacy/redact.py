"""PII redaction for Mandarin call transcripts: phone and ID numbers, unit addresses, self-introduced names.

Pure Python and ``re``; works on normalised transcripts (Simplified Chinese, full-width punctuation)
whose numbers are Arabic digits or spoken digits (一三八…, 幺三八…, 两), grouped or not.

Masking preserves length: every redacted character is replaced by one ``mask`` character and nothing
else changes, so ``len(redacted) == len(original)``, character offsets (and word timestamps aligned on
them) stay valid, and :func:`redact_words` can give each ASR word back its own slice.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.privacy.identifiers import MIN_DIGITS, NUMBER_LABEL_BEFORE, is_timestamp

if TYPE_CHECKING:
    from pipeline.records import CallResult

PII_KINDS = ("phone", "id_number", "unit", "name")
MASK = "＊"


@dataclass(frozen=True)
class Redaction:
    """One replaced span: every character of ``original[start:end]`` became the mask."""

    kind: str  # one of PII_KINDS
    start: int
    end: int


@dataclass(frozen=True)
class RedactedText:
    """The redacted text, exactly as long as the original, and its redactions in text order."""

    text: str
    redactions: tuple[Redaction, ...]


# Overlapping candidates: the lower number keeps the characters. An 18-digit string is an ID before
# its digits can be a phone, a phone before "138" after 单元 can be a room, a room before a name.
# "_keep" is a number that is deliberately not PII (the centre's 400/800 hotline): it claims its
# digits so that no other pattern redacts them, and is never reported.
_PRIORITY = {"id_number": 0, "phone": 1, "_keep": 1, "unit": 2, "name": 3}

# ---------------------------------------------------------------------------------------------------
# Phone and ID numbers: runs of digits, grouped by separators, classified by their digit string.

_DIGIT_CHARS = "0-9０-９零〇一二三四五六七八九幺两"
_TO_DIGIT = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **dict(zip("零〇一幺二两三四五六七八九", "0011223456789", strict=True)),
        "x": "X",
    }
)
# Separators Whisper writes inside a number: spaces, dashes, dots, brackets (weak: clearly one number)
# and commas at speech pauses (strong: may also sit between two numbers, see _number_candidates).
_NUM_RUN = re.compile(
    rf"[{_DIGIT_CHARS}](?:(?:\s*[-‐‑–—－.·()（）]\s*|\s+|\s*[，,、]\s*)?[{_DIGIT_CHARS}])*"
    r"(?:[Xx](?![A-Za-z]))?"
)
_GROUP = re.compile(rf"[{_DIGIT_CHARS}]+(?:[Xx](?![A-Za-z]))?")
_STRONG_SEPARATOR = re.compile(r"[，,、]")

# The ID patterns check the birth date so that digits glued from unrelated groups rarely pass;
# the check digit is not verified (one misrecognised digit must not leave an ID in the clear).
_ID_NUMBER = re.compile(
    r"[1-8]\d{5}(?:(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]"  # 18 characters
    r"|\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})"  # 15 digits (before 1999)
)
_MOBILE = re.compile(r"(?:0{0,2}86)?1[3-9]\d{9}")
# A mobile number with one digit lost or added: Whisper drops or repeats a digit of a number read
# fast (E008 of the evaluation corpus stored 手机后，是1391235678 in the clear). Ten or twelve digits
# starting 13-19 are rarely anything else in a call; an order number is longer.
_MOBILE_MISHEARD = re.compile(r"1[3-9]\d{8}|1[3-9]\d{10}")
_LANDLINE = re.compile(r"0[1-9]\d{8,10}")  # 0 + area code of 2-3 digits + 7-8 digits
_HOTLINE = re.compile(r"[48]00\d{7}")
_MAX_DIGITS = 18


def _classify_number(digits: str) -> str | None:
    if _ID_NUMBER.fullmatch(digits):
        return "id_number"
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits) or _MOBILE_MISHEARD.fullmatch(digits):
        return "phone"
    if _HOTLINE.fullmatch(digits):
        return "_keep"
    # Any other run long enough to be a phone or ID number is taken for one: Whisper damages the
    # numbers callers read out (一三八零零一二三四五六 stored as 以3800123456: 幺 heard as 以, ten
    # digits left, no pattern above fits). What the centre's own labels name stays (``_LABELS``).
    if len(digits) >= MIN_DIGITS and not is_timestamp(digits):
        return "_long_number"
    return None


# Labels of numbers that are not personal: a long run right after one is kept as it is.
_LABELS = NUMBER_LABEL_BEFORE
# The last digits of a number, said as such (尾号3091, 后六位273091): too short to be a number by
# their length, personal by what is said before them. Not a licence plate's (车牌尾号七七五一:
# the evaluation corpus's parking calls), which names a car, not a caller.
_TAIL_NUMBER = re.compile(
    rf"(?<!车牌)(?<!车牌号)(?:尾号|后[三四五六七八]位)(?:是|为)?[：:，,\s]*(?P<digits>[{_DIGIT_CHARS}]{{3,8}})"
)
# Homophones of 一 / 幺 that Whisper writes for the first or last digit read out (以3800123456).
_DIGIT_HOMOPHONES = frozenset("以义已意亿依衣医壹要腰妖")


def _number_candidates(text: str) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for run in _NUM_RUN.finditer(text):
        groups = [
            (g.start(), g.end(), g.group().translate(_TO_DIGIT)) for g in _GROUP.finditer(text, *run.span())
        ]
        for kind, i, j in _read_groups(text, groups):
            start, end = groups[i][0], groups[j][1]
            if kind == "_long_number":
                kind = "_keep" if _LABELS.search(text, 0, start) else "phone"
            if kind in ("phone", "id_number"):
                # A digit misheard as a word at the number's edge goes with it.
                if start > 0 and text[start - 1] in _DIGIT_HOMOPHONES:
                    start -= 1
                if end < len(text) and text[end] in _DIGIT_HOMOPHONES:
                    end += 1
            out.append((kind, start, end))
    out += [("phone", *m.span("digits")) for m in _TAIL_NUMBER.finditer(text)]
    return out


def _read_groups(text: str, groups: list[tuple[int, int, str]]) -> list[tuple[str, int, int]]:
    """(kind, first group, last group) of the numbers found in one run of digit groups."""
    strong = [
        i > 0 and _STRONG_SEPARATOR.search(text, groups[i - 1][1], groups[i][0]) is not None
        for i in range(len(groups))
    ]
    claimed = [False] * len(groups)
    found: list[tuple[str, int, int]] = []
    # A group that is a whole number by itself is the surest reading ("1502，13812345678");
    # then windows of groups joined by spaces or dashes; commas are crossed only last.
    for i, (_, _, digits) in enumerate(groups):
        if (kind := _classify_number(digits)) and kind != "_long_number":
            found.append((kind, i, i))
            claimed[i] = True
    for cross_commas in (False, True):
        i = 0
        while i < len(groups):
            total, j = 0, i
            while j < len(groups) and not claimed[j] and (j == i or cross_commas or not strong[j]):
                total += len(groups[j][2])
                if total > _MAX_DIGITS:
                    break
                j += 1
            # Longest window first, two groups at least (single groups were tried above).
            for end in range(j - 1, i, -1):
                if kind := _classify_number("".join(g[2] for g in groups[i : end + 1])):
                    found.append((kind, i, end))
                    claimed[i : end + 1] = [True] * (end + 1 - i)
                    i = end
                    break
            i += 1
    # Last, a group that is only long enough to be a number, when no joined reading took it.
    for i, (_, _, digits) in enumerate(groups):
        if not claimed[i] and _classify_number(digits) == "_long_number":
            found.append(("_long_number", i, i))
    return found


# ---------------------------------------------------------------------------------------------------
# Units: numbers attached to building words (栋, 单元, 室…) and bare room numbers right after them.

_LETTER = "A-Za-zＡ-Ｚａ-ｚ"
_CN_NUMERAL = "零〇一二三四五六七八九十百千两幺"
_UNIT_ELEMENT = re.compile(
    rf"(?<![{_DIGIT_CHARS}十百千{_LETTER}])"
    rf"(?P<num>[{_LETTER}][0-9０-９]{{0,4}}|[0-9０-９]{{1,6}}|[{_CN_NUMERAL}]{{1,6}})"
    r"(?P<suffix>号楼|号院|单元|房间|栋|幢|座|楼|层|室|房|号)"
)
# Rooms are read digit by digit and have 3-5 digits: this keeps 三室两厅, 两房, 十五号 (a date) and
# 二十三号 out, at the price of rooms said as 一千五百零二室.
_ROOM_SUFFIXES = frozenset({"室", "房", "房间", "号"})
_ROOM_NUMBER = re.compile(rf"[{_LETTER}]?[{_DIGIT_CHARS}]{{3,5}}")
# 一楼 / 一层 / 一座 are mostly not addresses (一层膜, 两层楼, 一座桥), and floor 1 identifies nobody.
_AMBIGUOUS_FLOOR = frozenset({"一", "两"})
_FLOOR_SUFFIXES = frozenset({"楼", "层", "座"})
# "105号客服为您服务", "我是一零五号": the agent's staff number, not the caller's room.
_STAFF_NUMBER_NEXT = ("客服", "话务", "坐席", "接线", "工作人员", "为您", "服务", "管家", "师傅")
_STAFF_NUMBER_BEFORE = ("我是", "工号")
_CHAINING_SUFFIXES = frozenset({"栋", "幢", "座", "号楼", "号院", "单元"})
# A building word whose own number Whisper misheard as words (九栋一单元 heard as 酒冬意单元):
# the room number right after it is still a room.
_CHAINING_WORD = re.compile("|".join(sorted(_CHAINING_SUFFIXES, key=len, reverse=True)))
# One character between a building and 单元 is the entrance's number, however it was heard
# (三栋一单元 as ＊栋议单元, ＊栋阿单元, ＊栋耳单元 in the evaluation corpus), unless it asks which
# (几栋几单元).
_MISHEARD_ENTRANCE = re.compile(
    "(?:" + "|".join(sorted(_CHAINING_SUFFIXES - {"单元"}, key=len, reverse=True)) + ")"
    r"(?P<num>[^\s，,。、？！的这那个几哪])单元"
)
# A bare number is a room only when it is not a date, a time, money or a count.
_NOT_ROOM_AFTER = rf"(?![{_DIGIT_CHARS}十百千年月日号点块元角分秒个次天岁周])"
_ROOM_AFTER_BUILDING = re.compile(
    rf"[，,、\s]?(?P<room>[{_LETTER}]?[{_DIGIT_CHARS}]{{2,5}}){_NOT_ROOM_AFTER}"
)
_ROOM_AFTER_CUE = re.compile(
    rf"(?:住在?|我是|我家(?:是|在)?|房号|房间号|门牌号?)(?:是|为|在)?[：:\s]?"
    rf"(?P<room>[{_LETTER}]?[{_DIGIT_CHARS}]{{3,5}}){_NOT_ROOM_AFTER}"
)
# 3-2-1502: building, entrance, room (dates have a 4-digit year or only two parts).
_HYPHEN_ADDRESS = re.compile(r"(?<![\d\-－])(\d{1,2})[-－](\d{1,2})[-－](\d{3,4})(?![\d\-－])")


def _unit_element_ok(text: str, m: re.Match[str]) -> bool:
    num, suffix = m["num"], m["suffix"]
    if suffix == "号" and (
        text.startswith(_STAFF_NUMBER_NEXT, m.end()) or text.endswith(_STAFF_NUMBER_BEFORE, 0, m.start())
    ):
        return False
    if suffix in _ROOM_SUFFIXES:
        return _ROOM_NUMBER.fullmatch(num) is not None
    return not (suffix in _FLOOR_SUFFIXES and num in _AMBIGUOUS_FLOOR)


def _unit_candidates(text: str) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for m in _UNIT_ELEMENT.finditer(text):
        if not _unit_element_ok(text, m):
            continue
        out.append(("unit", *m.span("num")))
    for m in _CHAINING_WORD.finditer(text):
        if room := _ROOM_AFTER_BUILDING.match(text, m.end()):
            out.append(("unit", *room.span("room")))
    for m in _MISHEARD_ENTRANCE.finditer(text):
        out.append(("unit", *m.span("num")))
    for m in _ROOM_AFTER_CUE.finditer(text):
        out.append(("unit", *m.span("room")))
    for m in _HYPHEN_ADDRESS.finditer(text):
        out.extend(("unit", *m.span(g)) for g in (1, 2, 3))
    return out


# ---------------------------------------------------------------------------------------------------
# Names: only after a self-introduction cue; the name itself is never recognised on its own.

_COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "夏侯", "尉迟", "公孙", "长孙",
    "宇文", "司徒", "司空", "端木", "轩辕", "呼延", "南宫", "西门", "独孤", "钟离", "赫连", "申屠",
)  # fmt: skip
# Common surnames, for 我是… where no other word marks a name. Characters that mostly start ordinary
# words after 我是 (时, 和, 来, 成, 全, 楼, 单, 房, 门…) are left out on purpose.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵"
    "钱严覃武戴莫孔汤温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
    "阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍喻祁蒲滕屈饶解牟艾尤穆农司卓古吉缪简车"
    "项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬仇栾隋商刁沙荣巫寇桑郎甄丛仲虞"
    "敖巩佘池查麻苑迟邝封谈匡鞠惠荆冀郁胥班储栗燕楚鄢谌奚皮粟冼蔺闻厉仝郜阚权帅屠朴廉禹井祖漆巴丰"
    "卿狄索宣晋芮阙浦戈伏鹿薄邸雍辜裘亓修邰赫杭逯茹诸慕嵇湛戎勾茅於揭尉冶檀昝衡尧"
)
# Words a name never starts with: what 我叫 / 我是 are followed by when they are not introductions
# (我叫了物业, 我叫你们的师傅, 我是管家, 我是马上要搬的).
_NOT_A_NAME = (
    "了", "过", "着", "你", "您", "他", "她", "它", "我", "人", "们", "谁", "啥", "什么", "几", "的",
    "都", "也", "就", "还", "不", "没", "来", "去", "这", "那", "上", "下", "车", "师傅", "物业",
    "保安", "保洁", "维修", "修理", "客服", "管家", "电工", "水电", "工人", "邻居", "家人", "老公",
    "老婆", "孩子", "儿子", "女儿", "外卖", "快递", "救护", "警察", "消防", "开锁", "门卫", "经理",
    "主管", "领导", "朋友", "同事", "马上", "高层", "方便", "关于", "于是", "江湖",
)  # fmt: skip
# A name ends before these (particles, verbs and pronouns that follow it, address words, 人/省/市 of
# "我是苏州人"); checked from the name's second character on, so 单, 楼 still start one.
_NAME_STOP_CHARS = frozenset(
    "的啊呀呢吧嘛哈啦哦噢喔呃嗯了吗是在住要想来打找给跟和就也还都我你您他她它们这那有没不请对哎诶人省市县区州镇村栋楼层单元室号座"
)
# Caller titles are kept in the text and confirm the name before them.
_TITLES = (
    "先生", "女士", "小姐", "太太", "阿姨", "叔叔", "大爷", "大妈", "大姐", "大哥", "老师", "业主",
    "家属", "租户", "本人",
)  # fmt: skip
# Staff words also end a name but do not confirm one: "我是王师傅" is the repairman, not the caller.
_STAFF_WORDS = ("师傅", "经理", "主管", "管家", "客服", "工程师", "物业")
_NAME_ENDS = _TITLES + _STAFF_WORDS
_CN_DIGITS = frozenset("零〇一二三四五六七八九十百千两幺")

_CALLED_CUE = re.compile(r"(?:我叫|名叫|名字叫|名字是|姓名是|姓名叫|全名是|全名叫|姓名[：:])做?[：:\s]?")
_SURNAME_CUE = re.compile(
    r"(?:(?<=我)|(?<=免贵)|(?<=本人)|(?<![\u4e00-\u9fff]))姓(?![名氏什啥的是了啊呀吗么])"
)
_SELF_CUE = re.compile("我是")
# "我姓王，叫王小明" / "我姓王叫小明": a name after the surname.
_THEN_CALLED = re.compile(r"[，,、\s]*(?:我)?(?:叫做?|名叫|名字叫|全名叫)")
_SPELLING_LEAD = re.compile(r"[，,、\s]*(?:就是|是)?")
_NOT_SPELLING = frozenset("叫名姓是我你您")


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _name_end(text: str, start: int) -> int:
    """End of a name starting at ``start``: up to 3 Han characters (4 with a compound surname)."""
    cap = 4 if text.startswith(_COMPOUND_SURNAMES, start) else 3
    end = start
    while end < len(text) and end - start < cap and _is_han(text[end]):
        if end > start and (text[end] in _NAME_STOP_CHARS or text.startswith(_NAME_ENDS, end)):
            break
        end += 1
    return end


def _titled(text: str, end: int) -> bool:
    return text.startswith(_TITLES, end) or (text.startswith("的", end) and text.startswith(_TITLES, end + 1))


def _called_name(text: str, start: int) -> tuple[int, int] | None:
    """The name after 我叫 / 姓名是: two characters or more, or one when a title follows (我叫李小姐)."""
    if start >= len(text) or not _is_han(text[start]) or text[start] in _CN_DIGITS:
        return None
    if text.startswith(_NOT_A_NAME, start):
        return None
    end = _name_end(text, start)
    return (start, end) if end - start >= 2 or (end > start and _titled(text, end)) else None


def _self_name(text: str, start: int) -> tuple[int, int] | None:
    """The name after 我是: a known surname, then a title (李先生) or the end of the clause (王小明，)."""
    if not (text.startswith(_COMPOUND_SURNAMES, start) or text[start : start + 1] in _SURNAMES):
        return None
    if text.startswith(_NOT_A_NAME, start):
        return None
    end = _name_end(text, start)
    for e in range(start + 1, end + 1):
        if _titled(text, e):
            return start, e
    if end - start >= 2 and (end == len(text) or not _is_han(text[end])):
        return start, end
    return None


def _surname_spans(text: str, start: int) -> list[tuple[int, int]]:
    """The surname after 姓, its spelling-out (弓长张, 李白的李) and a name said next (叫王小明, 王小明)."""
    if start >= len(text) or not _is_han(text[start]) or text[start] in _CN_DIGITS:
        return []
    size = 2 if text.startswith(_COMPOUND_SURNAMES, start) else 1
    surname = text[start : start + size]
    spans = [(start, start + size)]
    pos = start + size
    if not _THEN_CALLED.match(text, pos):
        lead = _SPELLING_LEAD.match(text, pos).end()  # everything in it is optional: always matches
        # Describing the character ends with it again; that spells the surname out as well.
        for width in (1, 2, 3):
            spelled = text[lead : lead + width]
            if (
                len(spelled) == width
                and all(_is_han(ch) and ch not in _NOT_SPELLING for ch in spelled)
                and text.startswith(surname, lead + width)
            ):
                spans.append((lead, lead + width + size))
                pos = lead + width + size
                break
    if called := _THEN_CALLED.match(text, pos):
        name = _called_name(text, called.end())
    else:  # the full name said straight after: 我姓王，王小明
        lead = _SPELLING_LEAD.match(text, pos).end()
        name = _called_name(text, lead) if text.startswith(surname, lead) else None
    if name is not None:
        spans.append(name)
    return spans


def _name_candidates(text: str) -> list[tuple[str, int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _CALLED_CUE.finditer(text):
        if (name := _called_name(text, m.end())) is not None:
            spans.append(name)
    for m in _SURNAME_CUE.finditer(text):
        spans.extend(_surname_spans(text, m.end()))
    for m in _SELF_CUE.finditer(text):
        if m.end() < len(text) and (name := _self_name(text, m.end())) is not None:
            spans.append(name)
    return [("name", s, e) for s, e in spans]


# ---------------------------------------------------------------------------------------------------

_DETECTORS = ((0, _number_candidates), (2, _unit_candidates), (3, _name_candidates))


def _resolve(candidates: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Non-overlapping spans: a candidate loses the characters a higher-priority one already holds."""
    taken: list[tuple[int, int]] = []
    out: list[tuple[str, int, int]] = []
    for kind, start, end in sorted(candidates, key=lambda c: (_PRIORITY[c[0]], c[1], -c[2])):
        pieces = [(start, end)]
        for t_start, t_end in taken:
            rest: list[tuple[int, int]] = []
            for p_start, p_end in pieces:
                if p_end <= t_start or p_start >= t_end:
                    rest.append((p_start, p_end))
                    continue
                if p_start < t_start:
                    rest.append((p_start, t_start))
                if p_end > t_end:
                    rest.append((t_end, p_end))
            pieces = rest
        taken.extend(pieces)
        out.extend((kind, s, e) for s, e in pieces)
    return out


def redact(text: str, kinds: Collection[str] = PII_KINDS, mask: str = MASK) -> RedactedText:
    """Mask the PII of ``kinds`` in ``text``, one ``mask`` character per character (length kept)."""
    if len(mask) != 1:
        raise ValueError(f"mask must be one character so that offsets survive, got {mask!r}")
    wanted = frozenset(kinds)
    if unknown := wanted - frozenset(PII_KINDS):
        raise ValueError(f"unknown PII kinds: {sorted(unknown)}")
    if not text or not wanted:
        return RedactedText(text, ())
    # Every kind that outranks a wanted one is still detected, so that it keeps its characters
    # (the digits of an ID are never redacted as a phone just because IDs were not asked for).
    lowest = max(_PRIORITY[k] for k in wanted)
    candidates = [c for rank, detect in _DETECTORS if rank <= lowest for c in detect(text)]
    spans = sorted((s, e, k) for k, s, e in _resolve(candidates) if k in wanted)
    if not spans:
        return RedactedText(text, ())
    chars = list(text)
    for start, end, _ in spans:
        chars[start:end] = mask * (end - start)
    return RedactedText("".join(chars), tuple(Redaction(k, s, e) for s, e, k in spans))


def redact_words(words: Sequence[str], kinds: Collection[str] = PII_KINDS, mask: str = MASK) -> list[str]:
    """Redact word tokens as :func:`redact` does their concatenation; each token keeps its length.

    A phone number split over several ASR words is found in the joined text, so every piece of it
    is masked, and the stored word rows reveal nothing the utterance text hides.
    """
    redacted = redact("".join(words), kinds, mask).text
    out: list[str] = []
    pos = 0
    for word in words:
        out.append(redacted[pos : pos + len(word)])
        pos += len(word)
    return out


def redact_call(result: CallResult, kinds: Collection[str] = PII_KINDS, mask: str = MASK) -> CallResult:
    """The call as it may be stored: PII masked in every utterance's text and words, in every
    event's evidence and in the abstentions (which quote what was said). The rules have already
    run on what was said; nothing downstream needs more."""
    from dataclasses import replace

    if not kinds:
        return result
    utterances = []
    for u in result.utterances:
        masked = redact_words([w.text for w in u.words], kinds, mask)
        words = tuple(replace(w, text=t) for w, t in zip(u.words, masked, strict=True))
        utterances.append(replace(u, text=redact(u.text, kinds, mask).text, words=words))
    events = tuple(replace(e, evidence=redact(e.evidence, kinds, mask).text) for e in result.events)
    abstentions = tuple(redact(a, kinds, mask).text for a in result.abstentions)
    return replace(result, utterances=tuple(utterances), events=events, abstentions=abstentions)
