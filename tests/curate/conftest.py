"""Shared real-text fixtures for the curate tests.

English prose comes from Python's own documentation (``pydoc_data.topics``), code from the standard library's
sources; the Chinese paragraphs below were written for this project (no third-party text), on everyday topics,
in ordinary modern written Chinese.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

ZH_PARAGRAPHS = [
    "今天早上下了一场小雨，空气变得特别清新。我和朋友在公园里散步，看到很多老人在打太极拳。"
    "湖边的柳树已经发芽了，孩子们在草地上放风筝。我们走累了，就在长椅上坐下来聊天。"
    "朋友说他最近在学习做饭，每天晚上都会试着做一道新菜。我觉得这是一个很好的习惯。",
    "学习一门新的编程语言需要时间和耐心。刚开始的时候，很多概念都显得陌生，比如变量、函数和循环。"
    "但是只要每天坚持练习，写一些小程序，就会慢慢熟悉起来。遇到问题的时候，可以先阅读官方文档，"
    "再去社区里提问。很多有经验的开发者都愿意帮助新人。最重要的是不要害怕犯错。",
    "我们的城市这几年发生了很大的变化。新的地铁线路开通以后，上下班的时间缩短了不少。"
    "以前需要一个多小时的路程，现在只要四十分钟。街道也变得更加干净，路边种了很多树。"
    "不过，房价上涨得很快，年轻人买房的压力越来越大。政府正在建设更多的保障性住房。",
    "周末的时候，我喜欢去图书馆看书。图书馆里很安静，大家都在认真地阅读或者学习。"
    "我最近在读一本关于历史的书，书中讲述了古代丝绸之路上的贸易和文化交流。"
    "作者用生动的语言描写了商人们的旅途，让我仿佛回到了那个时代。读完以后，我对历史更有兴趣了。",
    "健康的生活方式包括合理的饮食、适量的运动和充足的睡眠。很多人因为工作忙，经常不吃早饭，"
    "这对身体是不好的。医生建议每天至少运动半个小时，比如快走、游泳或者骑自行车。"
    "晚上最好在十一点以前睡觉，睡前不要长时间看手机。保持好的心情也很重要。",
    "这家小饭馆开在学校旁边，已经有二十多年的历史了。老板是一对夫妻，他们每天早上五点就起来准备。"
    "店里最受欢迎的是牛肉面，汤是用牛骨慢慢熬出来的，味道非常浓。很多毕业多年的学生回到这里，"
    "都会特意来吃一碗面。老板总是笑着说，看到大家喜欢，他们就觉得很满足。",
    "数据清洗是训练语言模型之前非常重要的一步。原始的网页数据中有大量的广告、导航菜单和重复内容。"
    "如果不把这些内容去掉，模型就会学到很多没有用的东西。常见的方法包括语言识别、质量过滤和去重。"
    "对于中文数据，还需要处理繁体和简体的转换，以及全角和半角字符的统一。",
    "春节是中国最重要的传统节日。在节日到来之前，人们会打扫房子，贴春联，买年货。"
    "除夕的晚上，一家人坐在一起吃年夜饭，看春节联欢晚会。孩子们最高兴的是收到红包。"
    "初一早上，大家穿上新衣服，去亲戚朋友家拜年。街上到处都是热闹的气氛，人们互相祝福新年快乐。",
    "我的奶奶今年八十岁了，但是身体还很好。她每天早上都会去菜市场买菜，然后回家做饭。"
    "她做的红烧肉是全家人最喜欢的菜。奶奶常常给我们讲她年轻时候的故事，那时候生活很困难，"
    "但是大家都很努力。听了这些故事，我更加珍惜现在的生活，也更加尊敬老一辈的人。",
    "在网上购物越来越方便了。只要打开手机，就可以买到各种各样的商品，而且很快就能送到家里。"
    "不过，网上购物也有一些问题。有时候收到的东西和图片上的不一样，退货也比较麻烦。"
    "所以在下单之前，最好先看看其他买家的评价，选择信誉好的商家。这样可以减少很多不必要的麻烦。",
    "环境保护是每个人的责任。我们可以从身边的小事做起，比如少用塑料袋，节约用水和用电。"
    "垃圾分类也是一个很好的办法，可以让更多的资源得到回收利用。很多城市已经开始实行垃圾分类，"
    "虽然刚开始大家不太习惯，但是慢慢地就会成为一种生活习惯。保护环境就是保护我们自己。",
    "去年夏天，我和家人一起去云南旅行。我们先到了昆明，那里的天气非常舒服，不冷也不热。"
    "然后我们去了大理和丽江，看到了美丽的洱海和古老的街道。当地的少数民族文化很有特色，"
    "我们参加了他们的节日活动，还品尝了很多好吃的小吃。这次旅行给我留下了很深的印象。",
]


@pytest.fixture(scope="session")
def zh_paragraphs() -> list[str]:
    return list(ZH_PARAGRAPHS)


@pytest.fixture(scope="session")
def en_paragraphs() -> list[str]:
    """Prose paragraphs of at least 250 characters from the Python documentation topics."""
    from pydoc_data.topics import topics

    out = []
    for key in sorted(topics):
        for para in topics[key].split("\n\n"):
            if len(para) >= 250 and not para.startswith((" ", "*")) and para.count("\n") >= 1:
                out.append(para)
    return out


@pytest.fixture(scope="session")
def code_files() -> list[str]:
    """Standard-library Python sources (whole files, first 20,000 characters)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return [p.read_text(encoding="utf-8", errors="replace")[:20000] for p in sorted(stdlib.glob("*.py"))]
