"""What a turn does around a transfer, read from its words: the caller asks for a colleague or for
something to be done, the agent puts the call through, the caller gives their name
(``transfer.no_identity``).

Each reader takes one utterance's text. The phrase lists (``lexicons/``: person_request,
put_through, caller_identity) hold the set phrases; the patterns here hold the shapes a sentence
takes around them, because the wording of a reply is open and a list only ever knows the wording
it was shown (docs/evaluation.md, "Guide benchmark"): a call put through is the line or the phone
moved somewhere. The shapes that are only safe in a reply (the call moved) are read by the rule
only there.
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


# --- a request ---------------------------------------------------------------------------------------
# A request, not a question: the caller asks the centre to do something (帮我, 给我, 你们把, 派个人,
# …吧/呗, 能不能帮…), which a transfer may answer. A question of fact (需要办卡吗) is not one.
_REQUEST = re.compile(
    r"帮我|给我|替我|帮忙|你们(给|帮|把|派|来|去|赶紧|马上)|把.{1,12}(给|退|免|关|挪|拆|修|开|借|发)|"
    r"让(保安|物业|你们|师傅)|麻烦你们|我要求|我要你们|你们先|呗[。！!]?$|吧[。！!]?$|"
    r"(能不能|可不可以|能否|可以不可以)(帮|给|把|让|派|免|退|借|批|先|直接)|给批|批一下|赶紧|"
    r"能(借|批|免|退|派|替)我?|"
    # Asking whether the centre can or will (物业可以发个通知吗, 先搁一段时间，行吧？; not whether something
    # is allowed: 电动车能在楼道充电吗).
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


def is_request(text: str) -> bool:
    return bool(_REQUEST.search(clause_text(text)))


# A question: a question mark, or the particles and words Mandarin asks with. Whisper punctuates
# most questions; the words catch the rest (电梯年检是哪一天 came out unpunctuated).
QUESTION = re.compile(r"[？?]|吗|嘛|呢$|什么|怎么|为什么|多少|几|哪|能不能|可不可以|是不是|有没有|行不行")
