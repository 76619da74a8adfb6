"""What a turn does in the guide's later clauses, read from its words: the caller asks for a colleague
or for something to be done, the agent says the colleague is away, offers to take a message, puts
the call through, or turns a request down; the caller gives their name.

Each reader takes one utterance's text. The phrase lists (``lexicons/``: absence, person_request,
message_offer, put_through, caller_identity) hold the set phrases; the patterns here hold the
shapes a sentence takes around them, because the wording of a reply is open and a list only ever
knows the wording it was shown (docs/evaluation.md, "Guide benchmark"): a colleague elsewhere is
``在 + place`` or ``verb + 去了``, a call put through is the line or the phone moved somewhere, an
offer is the agent undertaking to do something. The shapes that are only safe in a reply (where
the colleague is, the call moved) are read by the rules only there.
"""

from __future__ import annotations

import re

from pipeline.asr.text import to_full_width_punctuation, to_simplified
from pipeline.lexicon import Lexicon

_HAN = r"[\u4e00-\u9fff]"


def clause_text(text: str) -> str:
    """The text as the patterns read it: Simplified, full-width punctuation kept (a clause's end
    bounds a pattern where Whisper wrote one), Latin lower-cased."""
    return to_full_width_punctuation(to_simplified(text)).lower()


# --- the caller asks for someone -------------------------------------------------------------------
# Beyond person_request.toml: 在办公室吗, 今天还回来吗, 帮我转一下, 你们经理呢？, 让保洁的人跟我说, and
# who handles it (找谁, 归哪个部门管), which a transfer answers.
_ASKS_FOR = re.compile(
    rf"(?<![现正实存所])在{_HAN}{{1,6}}吗|回来(了)?吗|回来没|转一下|帮我转|给我转|帮我接|给我接|"
    rf"(经理|主任|主管|师傅|队长|班长|会计|秘书|工|姐|哥){_HAN}{{0,2}}呢([，。？！]|$)|(小|老){_HAN}呢([，。？！]|$)|"
    r"(让|叫|请)[^，。？！]{1,12}(接|听|记)一?下?电话|"
    rf"(让|叫|请){_HAN}{{1,10}}(跟|和|同)我(说|讲|聊|谈)|想(跟|和|找)[^，。？！]{{1,10}}(说|谈|聊)|"
    r"要(跟|和|找)[^，。？！]{1,8}(本人|直接|当面)(说|谈|聊)|找[^，。？！]{1,10}(说说|谈谈|聊聊)|"
    r"(上班|上岗|到岗|回来)了?(没有?|吗)|(来|到)了(没有?|吗)|找谁|归谁|谁(管|负责)|(哪个|哪|什么)部门"
)


def asks_for_someone(text: str, lex: Lexicon) -> bool:
    """The caller asks for a person or a department (person_request.toml, or ``_ASKS_FOR``)."""
    return lex["person_request"].find(text) is not None or bool(_ASKS_FOR.search(clause_text(text)))


# --- the agent says the colleague is away -----------------------------------------------------------
# Where the person is instead, beyond absence.toml, in a reply to a caller who asked for them: busy
# with something (正在接电话, 在楼上见业主呢), gone somewhere (去银行了, 吃饭去了), somewhere that is not
# the desk (在总部, 在水泵房, 在南区剪树), back only later (下午才回来, 十一点多回, 还得四十来分钟), or
# gone for good (调走了, 离职了). 在办公室 and 在值班室 are where a colleague answers from: not here.
_PLACE = (
    r"(医院|总部|外地|外面|外头|楼顶|楼上|楼下|现场|隔壁|工地|路上|银行|街道|仓库|车库|地库|"
    rf"{_HAN}{{1,3}}[区房井库局栋室]|{_HAN}号楼|别的{_HAN}{{1,3}}|另一{_HAN}{{1,3}}|上一{_HAN}{{1,3}})"
)
_AWAY = re.compile(
    rf"正在{_HAN}|(去|到)(?!期|年|账)[\u4e00-\u9fff]{{1,6}}了|{_HAN}去了|才(能)?回来|"
    rf"在{_HAN}{{1,6}}(开会|检修|盘点|巡查|巡逻|施工|维修|值班|培训|接待|演练|忙)|"
    rf"(还|正|人)?在{_PLACE}|在{_HAN}{{1,8}}(呢|里头|里面)|{_HAN}{{2,8}}呢[，。！]|"
    r"([\d一二三四五六七八九十两]|几)点(多|半|左右)?(以后|之后)?(才)?回|点(以后|之后)吧|才(到|来|上班)|"
    r"还得.{0,6}(分钟|小时|会儿|阵)|(得|要)等[^，。？！]{0,8}(分钟|小时|钟头|会儿)|"
    r"离职|辞职|调走|调到|调去|退休|不干了|没(他|她)?的班|顾不上|腾不出|占着|没信号|打不通|没干完|"
    r"(已经|刚|早)(就)?走了|(刚|已经)(下|出|上)[楼门去]"
)


def is_away(text: str, lex: Lexicon) -> bool:
    """The agent says the person asked for is not available (absence.toml, or ``_AWAY``)."""
    # By sound from three syllables on: Whisper writes 解不料 for 接不了 (two sound like too much).
    return lex["absence"].find(text, sound_min_chars=3) is not None or bool(_AWAY.search(clause_text(text)))


# --- the agent offers to take a message or to help instead ------------------------------------------
# Beyond message_offer.toml: the agent undertakes to do something (我安排别的师傅, 我可以先帮您处理,
# 我现在就给他发微信, 我这边能派人), invites the caller to say what it is about (您先说是什么情况, 有什么
# 要我带到的), or asks whether the caller would like something (要不要…, 需要…吗, 您看行吗). Not 我给您说 (only telling), nor
# 我也不知道 (the guide's C: 有气无力，不负责任).
_TELLING = re.compile(r"(给|跟|和)(您|你)(说|讲)")
_OFFERS = re.compile(
    r"我(这边|们|们这边)?也?(来|先|可以|能|会|马上|现在就|这就|立刻|帮|替|安排|让|请|叫|通知|记|转|发|联系|派|调|跟进|给)|"
    r"(您|你)(先)?(说|讲)(一下|下|说|是什么|什么|吧|看)|(什么|啥)事.{0,3}(跟|和|对|告诉)我|要我|需要我|"
    r"(再|在|回头|然后|到时候?)(告诉|通知|回复|答复)(您|你)|"
    r"要不要|需不需要|需要.{0,8}吗|您看(行|可以|好|怎么样)|"
    r"让(他|她)[^，。？！]{0,4}(给您|回|打给|拨给|联系)|(号码|电话|联系方式)[^，。？！]{0,3}(报|留|给)给?我"
)


def offers_message(text: str, lex: Lexicon) -> bool:
    """The agent offers a message, a call-back or to pass something on (message_offer.toml)."""
    return lex["message_offer"].find(text, sound_min_chars=3) is not None


def takes_it_on(text: str) -> bool:
    """The agent undertakes to do something for the caller, or asks what they would like
    (``_OFFERS``). Only read in the reply that says the colleague is away: later in a call, the
    agent's 我马上安排 is about something else."""
    clean = _TELLING.sub(lambda m: " " * len(m.group(0)), clause_text(text))
    return bool(_OFFERS.search(clean))


# --- the agent puts the call through -----------------------------------------------------------------
# In few words, anywhere: 现在转车管, 我直接转楼管, 把电话转给保安队长. Not passing on a message (转告, 转达,
# 转交) nor money (转账, 转入).
_PUTS_THROUGH = re.compile(
    r"(现在|直接|这就|马上|立刻|就)转(?![告达交账入])[\u4e00-\u9fff]|把(电话|线|您)转(给|到|过去)"
)
# In a reply to a caller who asked for someone, the line or the phone moved to them (电话切到岗亭,
# 把线给您倒到收费处, 把听筒递给她, 电话给您过到队长那里), the caller taken there (把您转去, 把您送到…线上),
# a number dialled through (帮您打过去, 帮您直拨, 叫通), or the colleague fetched to the phone (喊老刘过来接,
# 让驿站那边接您的电话). Not a line that cannot be reached (电话接不了, 打不通).
_HANDS_OVER = re.compile(
    rf"(电话|线路|听筒|话筒|把线|线给){_HAN}{{0,4}}((切|转|接|倒|串|递|交|拿|送|拨|连|搭|拉)(?![不没上])|(过|挂)(到|去|给))|"
    rf"把您(转|接|送|切|连|拉|串)|(切|切换|串|挂|拨|呼|连)(到|去|过去|进去|进来|通)|转(去|进去)|接去{_HAN}{{0,8}}那|"
    r"(帮您|给您|为您|我)(打|拨|呼)(过去|通)|(呼|拨)一下|(搭|牵)(个|条)?线|叫通|直拨|三方通话|"
    r"(喊|叫|请)[^，。？！]{0,6}过来接|(让|叫|请)[^，。？！]{1,8}接(您的?|一下)?电话"
)


def puts_through(text: str, lex: Lexicon, *, in_reply: bool = False) -> bool:
    """The agent puts the call through (put_through.toml, or ``_PUTS_THROUGH``; and, ``in_reply``
    to a caller who asked for someone, ``_HANDS_OVER``)."""
    # put_through.toml is written with 您; an agent who says 你 transfers all the same.
    text = text.replace("你", "您")
    clean = clause_text(text)
    # By sound only in a reply, and from three syllables on: 为您赚到 is 为您转到 there.
    if lex["put_through"].find(text, homophones=in_reply, sound_min_chars=3) is not None:
        return True
    return bool(_PUTS_THROUGH.search(clean)) or (in_reply and bool(_HANDS_OVER.search(clean)))


# --- the caller gives their name ---------------------------------------------------------------------
# A caller naming themself by title (我是刘女士, 我这边是王经理), by surname alone at the start of a
# clause (姓刘，五栋的), or by their company and name (我是恒通物流公司的赵建国): 我是 alone (我是三号楼的)
# gives a flat, not a name.
_GIVES_NAME = re.compile(
    r"我(这边)?是.{1,4}(先生|女士|小姐|老师|阿姨|师傅|经理|总)|(^|[，。,、\s])姓[\u4e00-\u9fff]|"
    r"我(这边)?是[^，。？！]{1,12}(公司|物流|单位|集团|中心|站|店|所|局)的[\u4e00-\u9fff]{2,3}([，。？！,.]|$)"
)


def gives_name(text: str, lex: Lexicon) -> bool:
    # By sound too: Whisper writes 我性赵 and 性名 as often as 我姓赵 and 姓名.
    return lex["caller_identity"].find(text) is not None or _GIVES_NAME.search(text) is not None


# --- a request, and the agent's own no ---------------------------------------------------------------
# A request, not a question: the caller asks the centre to do something (帮我, 给我, 你们把, 派个人,
# …吧/呗, 能不能帮…). A question of fact (需要办卡吗) is answered, not refused, even with a 不.
_REQUEST = re.compile(
    r"帮我|给我|替我|帮忙|你们(给|帮|把|派|来|去|赶紧|马上)|把.{1,12}(给|退|免|关|挪|拆|修|开|借|发)|"
    r"让(保安|物业|你们|师傅)|麻烦你们|我要求|我要你们|你们先|呗[。！!]?$|吧[。！!]?$|"
    r"(能不能|可不可以|能否|可以不可以)(帮|给|把|让|派|免|退|借|批|先|直接)|给批|批一下|赶紧|"
    r"能(借|批|免|退|派|替)我?|"
    # Asking whether the centre can or will (物业可以发个通知吗, 先搁一段时间，行吧？; not whether something
    # is allowed: 电动车能在楼道充电吗 is answered, not refused):
    # answered with a no, it is turned down; answered with a yes, nothing is (see ``declined``).
    r"(你们|物业|您)[^，。？！]{0,4}(能|可以|能否|可否)[^，。？！]{1,10}(吗|么)|(行|可以|好)(吧|吗|不)？?$|你们(就)?不能|"
    r"你们[^，。？！]{0,4}(去|别|出钱|负责|赔)|"
    # The centre asked whether it can (你们物业能不能…, with or without the question's end), a wish put
    # as a question (我不想按月交了，能不能按天算), a price or a term asked to change (能不能按半价收),
    # and a plea (你们就通融一下嘛).
    r"(你们|物业)[^，。？！]{0,4}(能不能|可不可以|能否|可否)|(不想|不愿|希望|想要)[^？]{0,15}(能不能|可不可以|行不行)|"
    r"(能不能|可不可以|能否)(按|少|减|便宜|打折|晚|延|宽限|通融)|通融|嘛[。！!]?$|"
    # Leave asked at a clause's end, with more said after it (……寄养两天行不行，我要回趟老家).
    r"(行不行|行吗|可以吗|可以吧|好不好|成不成)[，。！？]|"
    # Wanting to see, take or put something of the centre's (我要看小区的监控, 我想提前拿钥匙); not 我想问.
    r"我(要|想)(先|提前)?(看|拿|查|调|借|领|进|装|搭|占|停|放)"
)
# The agent's no in their own words (物业不管, 前台不寄养, 没这个权限): 不 or 没 before a verb. Not the
# negations of a helpful answer (不用担心, 没问题, 不客气), of a hedge (不一定, 不太), of time (不到), nor
# the closing question 没别的事了吧.
_DECLINE = re.compile(r"(不|没有?|无)([\u4e00-\u9fff])")
_NOT_DECLINING = (
    "不用",
    "不客气",
    "不要紧",
    "不麻烦",
    "不错",
    "不好意思",
    "不少",
    "不久",
    "不过",
    "不仅",
    "不但",
    "不到",
    "不一定",
    "不太",
    "不然",
    "没问题",
    "没关系",
    "没事",
    "没多久",
    "没有变",
    "没变",
    "不会的",
    "不管是",
    "不论",
    "不要挂",
    "别挂",
    "不挂",
    "对不起",
    "对不住",
    "了不起",
    "不得不",
    "没别的",
    "没有别的",
    "没其他",
    "没有其他",
    "赔个不是",
    "赔不是",
    # Not knowing is doubt (hesitation.unsure reads it), not a no.
    "不知",
    "不清",
    "不确定",
    "不记得",
    "不晓得",
    "不了解",
    "不明白",
)
# A condition (如果道闸没有反应，请按呼叫按钮) says what to do if something fails, not that the agent
# will not: its first words are not read for a 不 or 没.
_CONDITION = re.compile(r"(?<!的)(如果|要是|万一|假如)[^，。？！]{0,8}")  # not 您的要是 (钥匙, misheard)
# A question asked both ways (有没有人被困, 是不是停电了, 能不能明天来) asks; it does not decline.
_ASKING = re.compile(r"有没有|([\u4e00-\u9fff])不\1")


def is_request(text: str) -> bool:
    return bool(_REQUEST.search(clause_text(text)))


# A question: a question mark, or the particles and words Mandarin asks with. Whisper punctuates
# most questions; the words catch the rest (电梯年检是哪一天 came out unpunctuated).
QUESTION = re.compile(r"[？?]|吗|嘛|呢$|什么|怎么|为什么|多少|几|哪|能不能|可不可以|是不是|有没有|行不行")
_GREETING = re.compile(r"^(喂|你好|您好|你们好|请问)[，、 ]*")


def asks_of_the_rules(text: str) -> bool:
    """The caller's last question asks what the rules allow, for nobody in particular (空调外机可以装在
    阳台外面吗, 请问几点到几点可以施工): no request, and neither the caller (我, 我家) nor the centre (你们,
    物业) in it beyond a greeting. Whisper
    often joins a caller's opening and their question in one utterance (我们家准备装修，想问问手续，
    空调外机能不能装在阳台外面那面墙上), so the question is read with only the clause before it in its
    sentence, which says whether it is asked for oneself (我家要办酒席，能不能在广场上搭个棚子)."""
    sentences = [
        t for t in re.split(r"[。？！；]", _GREETING.sub("", clause_text(text))) if QUESTION.search(t)
    ]
    if not sentences:
        return False
    clauses = [c for c in re.split(r"[，、]", sentences[-1]) if c]
    at = max(i for i, c in enumerate(clauses) if QUESTION.search(c))
    question = "".join(clauses[max(0, at - 1) : at + 1])
    return not is_request(question) and not re.search(r"我|你们|物业|您|你", question)


# A yes (可以，… / 能，… / 好的，…) opening the reply: what follows is how, not a refusal.
_YES = re.compile(r"^(可以|能|行|好的?|没问题|有的?|是的|对|当然)[，。！、]")
# Not ours in so many words (跟物业没关系), though 没关系 alone is "never mind".
_NOT_OURS = re.compile(r"(跟|根|和|与)[^，。？！]{1,8}没(有)?关系")  # 根: Whisper's 跟


def declined(text: str) -> str | None:
    """The agent's own words of declining (物业不管 → 不管) in a reply to a request, else None."""
    read = clause_text(text)
    if _YES.search(read):
        return None
    if found := _NOT_OURS.search(read):
        return found.group(0)
    clean = _CONDITION.sub(lambda m: " " * len(m.group(0)), read)
    clean = _ASKING.sub(lambda m: " " * len(m.group(0)), clean)
    for phrase in _NOT_DECLINING:
        clean = clean.replace(phrase, " " * len(phrase))
    found = _DECLINE.search(clean)
    return found.group(0) if found else None
