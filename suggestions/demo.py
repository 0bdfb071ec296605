"""Demo data of 代表建议: 第十八届 with five sessions, about 150 suggestions in every state.

The texts are put together here from county-level topics (roads, schools, clinics, rural
water, farmland, elderly care, budget transparency …) with varied wording; every step runs
through the services "as of" its own date, so timelines, due dates and late answers are
what a real year of handling would leave. Idempotent: nothing happens once the term has
its suggestions.
"""

import datetime
import random

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from budget.models import Department

from . import services
from .choices import EvaluationResult, Period, Status, SuggestionKind
from .models import AnswerClass, Category, Deputy, Session, Suggestion

TERM_NUMBER = 18
TARGET_COUNT = 150

TOWNS = [
    "城关镇",
    "甘庄街道",
    "曼来镇",
    "因远镇",
    "澧江街道",
    "羊街乡",
    "那诺乡",
    "洼垤乡",
    "咪哩乡",
]
VILLAGE_PARTS = (
    ["大", "小", "新", "老", "上", "下", "东", "西", "南", "北"],
    ["塘", "坝", "寨", "营", "箐", "坡", "河", "田", "湾", "岭"],
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何罗高林普白杞龙施"
GIVEN = ["建华", "秀英", "文斌", "丽萍", "国强", "志明", "春梅", "海燕", "德顺", "玉兰", "永福", "红霞",
         "家祥", "树林", "金凤", "正荣", "美珍", "云飞", "绍华", "兴旺", "琼芬", "光明", "雪梅", "思远"]  # fmt: skip


def village(rng) -> str:
    return rng.choice(VILLAGE_PARTS[0]) + rng.choice(VILLAGE_PARTS[1]) + "村"


def pick(rng, options):
    return rng.choice(options)


# topic: category, lead unit, possible co-units, title makers, situation, problem, request
TOPICS = [
    {
        "category": "城建环资", "lead": "036", "co": ["006", "031", "038"],
        "titles": [
            lambda r, t: f"关于加快{t}至{village(r)}通村公路硬化的建议",
            lambda r, t: f"关于尽快修复{t}集镇过境路段坑洼路面的建议",
            lambda r, t: f"关于拓宽{t}{village(r)}进村道路并增设会车道的建议",
            lambda r, t: f"关于加强{t}农村公路日常养护的建议",
        ],
        "situation": [
            "该路段全长约{n}公里，是沿线{m}个村民小组群众出行和农产品外运的主要通道。",
            "目前道路仍为砂石路面，雨季泥泞，旱季扬尘，沿线群众反映强烈。",
        ],
        "problem": [
            "由于重型车辆通行增多，路面破损严重，近两年已发生多起车辆侧滑事故。",
            "路面宽度不足{w}米，大型农用车辆会车困难，学生上下学存在安全隐患。",
        ],
        "request": [
            "建议将该路段纳入明年农村公路提质改造计划，统筹安排建设资金。",
            "建议交通部门尽快组织勘察设计，并明确养护责任主体和经费来源。",
        ],
    },
    {
        "category": "教科文卫", "lead": "020", "co": ["006", "031"],
        "titles": [
            lambda r, t: f"关于改善{t}中心小学办学条件的建议",
            lambda r, t: f"关于解决{t}乡村教师周转宿舍不足问题的建议",
            lambda r, t: f"关于在{t}增设公办幼儿园学位的建议",
            lambda r, t: f"关于加强{t}寄宿制学校食堂管理的建议",
        ],
        "situation": [
            "学校现有在校生{m}0余人，其中寄宿学生占比超过一半。",
            "近年来随着易地搬迁安置点建成，适龄儿童明显增加。",
        ],
        "problem": [
            "部分校舍建于上世纪九十年代，墙体开裂，功能教室严重不足。",
            "教师周转宿舍仅有{n}套，不少年轻教师只能在镇上租房，通勤距离较远。",
        ],
        "request": [
            "建议教育部门将该校列入薄弱学校改造项目，分年度安排资金。",
            "建议统筹使用义务教育保障经费，优先解决宿舍和食堂问题。",
        ],
    },
    {
        "category": "教科文卫", "lead": "028", "co": ["029", "006"],
        "titles": [
            lambda r, t: f"关于加强{t}{village(r)}卫生室标准化建设的建议",
            lambda r, t: f"关于为{t}卫生院配备数字化X光机的建议",
            lambda r, t: f"关于稳定{t}乡村医生队伍的建议",
            lambda r, t: f"关于提升{t}家庭医生签约服务质量的建议",
        ],
        "situation": [
            "{t}常住人口约{m}千人，距县城较远，群众看病主要依靠乡镇卫生院和村卫生室。",
            "村卫生室现有业务用房面积不足{n}0平方米，诊室、药房混用。",
        ],
        "problem": [
            "乡村医生年龄偏大，待遇偏低，年轻人不愿留下，后继乏人。",
            "卫生院缺少必要的检查设备，群众做常规检查也要跑到县城。",
        ],
        "request": [
            "建议卫生健康部门统筹安排设备购置资金，并加强县乡医疗人员帮扶。",
            "建议落实乡村医生补助政策，按时足额发放，并解决养老保险问题。",
        ],
    },
    {
        "category": "农业农村", "lead": "035", "co": ["033", "006"],
        "titles": [
            lambda r, t: f"关于解决{t}{village(r)}人畜饮水困难的建议",
            lambda r, t: f"关于改造{t}老化农村供水管网的建议",
            lambda r, t: f"关于加强{t}集中供水工程水质检测的建议",
            lambda r, t: f"关于修复{t}{village(r)}水毁灌溉沟渠的建议",
        ],
        "situation": [
            "该村共有{m}户群众，饮用水主要依靠山箐引水，旱季经常断流。",
            "现有供水管网铺设已超过{n}年，跑冒滴漏现象普遍。",
        ],
        "problem": [
            "每到三至五月，群众需要到几公里外拉水，生产生活受到很大影响。",
            "去年汛期沟渠多处垮塌，下游约{m}0亩农田灌溉无法保障。",
        ],
        "request": [
            "建议水利部门尽快实施水源扩容和管网改造工程。",
            "建议将该工程纳入农村供水保障项目库，并落实工程建成后的管护责任。",
        ],
    },
    {
        "category": "农业农村", "lead": "033", "co": ["038", "035", "006"],
        "titles": [
            lambda r, t: f"关于做好{t}高标准农田建设后期管护的建议",
            lambda r, t: f"关于扶持{t}特色水果产业冷链仓储的建议",
            lambda r, t: f"关于加大{t}耕地撂荒整治力度的建议",
            lambda r, t: f"关于完善{t}农业保险理赔服务的建议",
        ],
        "situation": [
            "{t}近年建成高标准农田{m}千亩，芒果、柑橘等特色产业初具规模。",
            "部分村组青壮年外出务工较多，土地流转不畅。",
        ],
        "problem": [
            "建成后管护主体不明确，部分机耕路和沟渠已出现损坏。",
            "产地缺少冷库，采摘高峰期果品压价严重，农民增收受限。",
        ],
        "request": [
            "建议明确管护主体和管护经费，建立“谁受益、谁管护”的长效机制。",
            "建议整合涉农资金，支持合作社建设产地初加工和冷链设施。",
        ],
    },
    {
        "category": "社会建设", "lead": "025", "co": ["028", "006", "024"],
        "titles": [
            lambda r, t: f"关于在{t}建设农村互助养老服务点的建议",
            lambda r, t: f"关于提高{t}敬老院护理服务水平的建议",
            lambda r, t: f"关于加强{t}留守老人关爱服务的建议",
            lambda r, t: f"关于落实{t}困难群众临时救助政策的建议",
        ],
        "situation": [
            "{t}60岁以上老年人口占比已超过{n}%，其中独居和留守老人较多。",
            "敬老院现有护理人员{n}名，需照护的失能半失能老人却有{m}0余人。",
        ],
        "problem": [
            "现有养老服务设施少，老人就餐、就医、日间照料需求难以满足。",
            "护理人员多为临时聘用，缺乏专业培训，服务质量不稳定。",
        ],
        "request": [
            "建议民政部门统筹福彩公益金等资金，在中心村建设互助养老点。",
            "建议通过政府购买服务引入专业机构，提高护理人员待遇和能力。",
        ],
    },
    {
        "category": "财政经济", "lead": "006", "co": ["007", "004"],
        "titles": [
            lambda r, t: "关于进一步细化部门预算公开内容的建议",
            lambda r, t: "关于加强财政专项资金绩效评价结果运用的建议",
            lambda r, t: f"关于加快拨付{t}基础设施项目配套资金的建议",
            lambda r, t: "关于规范政府投资项目预算评审的建议",
            lambda r, t: "关于压减一般性支出、保障基层“三保”的建议",
            lambda r, t: f"关于加强{t}村级财务公开的建议",
        ],
        "situation": [
            "本级部门预算已连续几年向社会公开，但公开表格以功能分类为主。",
            "近年来上级转移支付和专项资金规模较大，项目数量多、分布散。",
            "{t}多个已建成项目的县级配套资金仍未到位，施工单位多次反映。",
        ],
        "problem": [
            "群众和代表看不懂、查不细，项目支出的具体用途和绩效目标公开不充分。",
            "部分项目绩效目标设定笼统，评价结果与下年度预算安排挂钩不够。",
            "资金拨付滞后影响工程结算，也增加了基层的债务风险。",
        ],
        "request": [
            "建议财政部门按项目细化公开内容，并附绩效目标和完成情况。",
            "建议把绩效评价结果作为预算安排的重要依据，并向人大报告。",
            "建议财政部门制定拨付时间表，按合同约定及时拨付配套资金。",
        ],
    },
    {
        "category": "社会建设", "lead": "024", "co": ["006", "025"],
        "titles": [
            lambda r, t: f"关于加强{t}农村劳动力转移就业培训的建议",
            lambda r, t: f"关于在{t}搬迁安置点开发公益性岗位的建议",
            lambda r, t: "关于扩大城乡居民养老保险参保覆盖面的建议",
        ],
        "situation": [
            "{t}每年外出务工人员约{m}千人，多从事体力劳动，技能水平不高。",
            "易地搬迁安置点入住群众{m}00余人，就近就业岗位有限。",
        ],
        "problem": [
            "现有培训内容与企业用工需求对接不够，培训后就业率不高。",
            "部分群众因年龄和技能原因难以外出务工，收入来源单一。",
        ],
        "request": [
            "建议人社部门按订单式开展培训，并落实培训补贴。",
            "建议统筹开发保洁、护路、护林等公益性岗位，优先安置困难群众。",
        ],
    },
    {
        "category": "内务司法", "lead": "016", "co": ["019", "032"],
        "titles": [
            lambda r, t: f"关于在{t}学校周边增设交通安全设施的建议",
            lambda r, t: f"关于加强{t}农村道路交通安全劝导的建议",
            lambda r, t: f"关于完善{t}人民调解工作经费保障的建议",
        ],
        "situation": [
            "{t}中心学校位于国道旁，上下学时段车流人流交织。",
            "村级人民调解委员会每年调处矛盾纠纷{m}0余件。",
        ],
        "problem": [
            "路口缺少减速带和警示标志，存在较大安全隐患。",
            "调解员补贴标准低且发放不及时，工作积极性受到影响。",
        ],
        "request": [
            "建议公安交警部门尽快增设减速带、信号灯和护学岗。",
            "建议将调解工作经费纳入预算，按件给予补贴。",
        ],
    },
    {
        "category": "城建环资", "lead": "030", "co": ["031", "033"],
        "titles": [
            lambda r, t: f"关于治理{t}河道沿岸生活垃圾乱倒的建议",
            lambda r, t: f"关于加快{t}集镇污水处理设施建设的建议",
            lambda r, t: f"关于加强{t}畜禽养殖污染防治的建议",
        ],
        "situation": [
            "{t}集镇常住人口逐年增加，生活污水大多直排河道。",
            "沿河村组畜禽散养较多，粪污处理设施不足。",
        ],
        "problem": [
            "夏季河道异味明显，下游群众意见较大。",
            "垃圾收运体系不健全，部分村组垃圾池长期满溢。",
        ],
        "request": [
            "建议生态环境部门会同住建部门加快污水管网和处理站建设。",
            "建议完善“户清扫、村收集、镇转运”机制，并落实运行经费。",
        ],
    },
    {
        "category": "教科文卫", "lead": "022", "co": ["006", "036"],
        "titles": [
            lambda r, t: f"关于保护利用{t}传统村落的建议",
            lambda r, t: f"关于完善{t}乡村旅游配套设施的建议",
            lambda r, t: f"关于丰富{t}群众文化活动的建议",
        ],
        "situation": [
            "{t}保存有较完整的土掌房民居和民族传统节庆。",
            "近年来周末到{t}游玩的游客逐渐增多。",
        ],
        "problem": [
            "部分老房年久失修，停车场、公厕等配套设施不足。",
            "村级文化活动室利用率不高，缺少活动经费和专业指导。",
        ],
        "request": [
            "建议文旅部门编制保护利用规划，争取上级传统村落保护资金。",
            "建议整合资源，支持群众文艺队开展常态化活动。",
        ],
    },
    {
        "category": "城建环资", "lead": "031", "co": ["006", "038"],
        "titles": [
            lambda r, t: f"关于加快{t}老旧小区改造的建议",
            lambda r, t: f"关于解决{t}农村危房改造遗留问题的建议",
            lambda r, t: "关于规范县城物业服务管理的建议",
        ],
        "situation": [
            "{t}有建成于二十世纪的老旧小区{n}个，涉及住户{m}00余户。",
            "部分危房改造户因资金不足，房屋至今未能完工。",
        ],
        "problem": [
            "小区管网老化、无物业管理，停车难、环境差问题突出。",
            "改造户已入住但未验收，无法领取剩余补助资金。",
        ],
        "request": [
            "建议住建部门将其列入年度老旧小区改造计划，并引导居民参与。",
            "建议逐户排查遗留问题，分类提出解决办法并限期办结。",
        ],
    },
]  # fmt: skip

EXTENSION_REASONS = [
    "项目涉及用地调整，需待国土空间规划批复后实施，已向代表当面说明。",
    "所需资金较大，需提交县政府常务会议研究，已与领衔代表沟通延期答复。",
    "涉及多个部门协调，协办单位意见尚未统一，已书面告知代表延期原因。",
]
CONSTRAINTS = ["当前财力", "用地指标", "上级项目审批", "技术条件"]
PRAISE = [
    "答复及时，措施具体。",
    "承办单位主动上门沟通，态度诚恳。",
    "问题已基本解决，群众满意。",
    "",
]
CRITIQUE = [
    "答复内容空泛，没有具体时间表。",
    "只作解释，没有实际解决措施。",
    "未与代表沟通即作答复。",
]
FOLLOW_UPS = [
    "项目已完成立项和招标，预计年内开工。",
    "资金已下达，工程正在施工。",
    "已完成前期勘察设计。",
    "项目已建成投入使用。",
]
RETURN_REASONS = [
    "所提事项属于乡镇人民政府职责，建议改由乡镇办理。",
    "该事项已划转至县林业和草原局管理。",
]

# the mix of final states (counts add up to TARGET_COUNT less the converted motions' new items)
STATE_PLAN = (
    [Status.CLOSED] * 52
    + [Status.EVALUATED] * 14
    + [Status.ANSWERED] * 14
    + [Status.DISSATISFIED] * 4
    + [Status.REHANDLING] * 6
    + [Status.HANDLING] * 24
    + [Status.ASSIGNED] * 10
    + [Status.RETURN_REQUESTED] * 3
    + [Status.REGISTERED] * 10
    + [Status.SUBMITTED] * 9
    + [Status.CONVERTED] * 2
)


def _content(rng, topic, town) -> str:
    def fill(text):
        return text.format(t=town, n=rng.randint(2, 9), m=rng.randint(2, 9), w=rng.choice([4, 5]))

    parts = [
        fill(pick(rng, topic["situation"])),
        fill(pick(rng, topic["problem"])),
        fill(pick(rng, topic["request"])),
    ]
    if rng.random() < 0.4:
        parts.insert(2, fill(pick(rng, topic["problem"])))
    return "".join(dict.fromkeys(parts))


def _reply_text(rng, answer_class, unit, title, year) -> str:
    subject = title.removeprefix("关于").removesuffix("的建议")
    if answer_class.code == "A":
        return f"{unit}收到建议后进行了实地调研。{subject}一事已于近期落实，相关资金已拨付到位，后续将加强日常管理。"
    if answer_class.code == "B":
        return f"经研究，{subject}已列入{year + 1}年度工作计划，正在开展前期工作，预计{rng.randint(3, 10)}月完成。"
    if answer_class.code == "C":
        return f"代表所提问题客观存在，但受{pick(rng, CONSTRAINTS)}限制，目前暂不具备实施条件，待条件成熟后优先安排。"
    return f"代表所提意见对改进{unit}工作很有参考价值，我们将在制定相关政策时认真研究吸收。"


def _deputies(rng, term, deputy_user) -> list[Deputy]:
    existing = list(Deputy.objects.filter(terms=term))
    if len(existing) >= 40:
        return existing
    people = []
    used = set(Deputy.objects.values_list("name", flat=True))
    if deputy_user is not None:
        own, _ = Deputy.objects.get_or_create(
            user=deputy_user,
            defaults={
                "name": "张建国",
                "delegation": "城关镇代表团",
                "phone": "13908770101",
                "id_number": "530428197103150012",
                "employer": "城关镇红光社区居委会",
                "address": "城关镇红光社区12号",
            },
        )
        own.terms.add(term)
        used.add(own.name)
        people.append(own)
    delegations = [f"{t}代表团" for t in TOWNS] + ["县直机关代表团"]
    while len(people) < 46:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        if name in used:
            continue
        used.add(name)
        d = Deputy.objects.create(
            name=name,
            delegation=rng.choice(delegations),
            phone=f"139{rng.randint(10000000, 99999999)}",
            id_number=f"530428{rng.randint(1960, 1990)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(1000, 9999)}",
            employer=rng.choice(
                [
                    "县第一中学",
                    "城关镇卫生院",
                    "某农业合作社",
                    "县人民医院",
                    "个体工商户",
                    "村民委员会",
                ]
            ),
            address=f"{rng.choice(TOWNS)}{village(rng)}{rng.randint(1, 99)}号",
        )
        d.terms.add(term)
        people.append(d)
    return people


def _sessions(term, today) -> list[Session]:
    sessions = []
    first_year = today.year - 4
    for i in range(5):
        year = first_year + i
        start = datetime.date(year, 1, 10 + (i % 3))
        session, _ = Session.objects.get_or_create(
            term=term,
            number=i + 1,
            defaults={"start_date": start, "end_date": start + datetime.timedelta(days=3)},
        )
        sessions.append(session)
    return sessions


class _Player:
    """Runs one suggestion's history through the services, each step on its own date."""

    def __init__(self, rng, today, staff, liaison, deputy_user, answer_classes):
        self.rng, self.today, self.staff = rng, today, staff
        self.liaison, self.deputy_user = liaison, deputy_user
        self.classes = answer_classes

    def unit_actor(self, s):
        if self.liaison is not None and s.lead_unit_id and s.lead_unit.code == "006":
            return self.liaison
        return self.staff

    def deputy_actor(self, s):
        if self.deputy_user is not None and s.lead_deputy.user_id == self.deputy_user.pk:
            return self.deputy_user
        return self.staff

    def day(self, d):
        return services.as_of(min(d, self.today))

    def answer_class(self):
        r = self.rng.random()
        code = "A" if r < 0.45 else "B" if r < 0.8 else "C" if r < 0.92 else "D"
        return self.classes[code]

    def reply(self, s, on, second=False):
        cls = self.answer_class()
        text = _reply_text(self.rng, cls, s.lead_unit.name, s.title, on.year)
        doc = None
        if self.rng.random() < 0.7:
            body = f"{s.lead_unit.name}关于{s.code}号建议的答复\n\n{s.lead_deputy.name}代表：\n{text}\n"
            doc = SimpleUploadedFile(f"{s.code}答复函.txt", body.encode("utf-8"))
        fn = services.second_answer if second else services.answer
        with self.day(on):
            fn(
                s,
                self.unit_actor(s),
                answer_class=cls,
                signed_by=pick(self.rng, ["李卫东", "周明", "杨丽", "罗永"]),
                answered_on=min(on, self.today),
                summary=text,
                document=doc,
            )

    def evaluate(self, s, on, result):
        comment = (
            pick(self.rng, CRITIQUE)
            if result == EvaluationResult.DISSATISFIED
            else pick(self.rng, PRAISE)
        )
        with self.day(on):
            services.evaluate(s, self.deputy_actor(s), result=result, comment=comment)

    def play(self, s, target, assigned_on, units):
        rng, staff = self.rng, self.staff
        lead, co = units
        registered_on = min(
            s.submitted_on + datetime.timedelta(days=rng.randint(2, 8)), assigned_on
        )
        with self.day(registered_on):
            if target == Status.CONVERTED:
                new = services.convert_to_suggestion(s, staff, "联名代表不足 10 人，转为建议办理")
                services.register(new, staff, "转为建议后登记")
                return
            services.register(s, staff, pick(rng, ["符合建议办理范围", "内容具体，予以登记", ""]))
        if target == Status.REGISTERED:
            return
        with self.day(assigned_on):
            services.assign(s, staff, lead_unit=lead, co_units=co, assigned_on=assigned_on)
        if rng.random() < 0.06 and target not in (Status.ASSIGNED, Status.RETURN_REQUESTED):
            with self.day(assigned_on + datetime.timedelta(days=1)):
                services.set_key_supervision(
                    s,
                    staff,
                    on=True,
                    leader=pick(
                        rng,
                        ["县人大常委会主任 何志远", "县人大常委会副主任 普玉芬", "副县长 杨晓东"],
                    ),
                )
        if target == Status.RETURN_REQUESTED:
            with self.day(assigned_on + datetime.timedelta(days=2)):
                services.request_return(s, self.unit_actor(s), pick(rng, RETURN_REASONS))
            return
        if target == Status.ASSIGNED:
            return
        started = assigned_on + datetime.timedelta(days=rng.randint(1, 6))
        with self.day(started):
            services.start_handling(
                s, self.unit_actor(s), pick(rng, ["已明确承办科室和承办人", "已签收"])
            )
        for unit in co:
            if rng.random() < 0.85:
                on = assigned_on + datetime.timedelta(days=rng.randint(8, 34))
                if on <= self.today:
                    with self.day(on):
                        services.add_co_unit_view(
                            s,
                            staff,
                            unit=unit,
                            text=pick(
                                rng,
                                [
                                    "同意主办单位意见，将积极配合。",
                                    "本单位可在职责范围内给予资金和技术支持。",
                                    "建议结合年度计划统筹安排。",
                                ],
                            ),
                        )
        extended = (
            rng.random() < 0.1
            and target != Status.HANDLING
            or (target == Status.HANDLING and rng.random() < 0.15)
        )
        earliest = 25
        if extended:
            earliest = rng.randint(60, 85)
            with self.day(assigned_on + datetime.timedelta(days=earliest)):
                services.extend(s, staff, reason=pick(rng, EXTENSION_REASONS))
            earliest += 5
        if target == Status.HANDLING:
            return
        s.refresh_from_db()
        limit = (s.due_on - assigned_on).days
        late = 20 if rng.random() < 0.15 else -3
        answered = assigned_on + datetime.timedelta(
            days=rng.randint(earliest, max(earliest, limit + late))
        )
        answered = min(
            answered, self.today - datetime.timedelta(days=1 if target != Status.ANSWERED else 0)
        )
        self.reply(s, answered)
        if target == Status.ANSWERED:
            return
        evaluated = min(answered + datetime.timedelta(days=rng.randint(5, 20)), self.today)
        if target in (Status.DISSATISFIED, Status.REHANDLING) or (
            target == Status.CLOSED and rng.random() < 0.08
        ):
            self.evaluate(s, evaluated, EvaluationResult.DISSATISFIED)
            if target == Status.DISSATISFIED:
                return
            rehandled = min(evaluated + datetime.timedelta(days=rng.randint(3, 10)), self.today)
            with self.day(rehandled):
                services.rehandle(s, staff)
            if target == Status.REHANDLING:
                return
            second = min(rehandled + datetime.timedelta(days=rng.randint(20, 55)), self.today)
            self.reply(s, second, second=True)
            evaluated = min(second + datetime.timedelta(days=rng.randint(5, 15)), self.today)
        result = EvaluationResult.SATISFIED if rng.random() < 0.68 else EvaluationResult.BASICALLY
        self.evaluate(s, evaluated, result)
        if target == Status.EVALUATED:
            return
        closed = min(evaluated + datetime.timedelta(days=rng.randint(3, 12)), self.today)
        with self.day(closed):
            services.close(s, staff, "")
        s.refresh_from_db()
        reply = s.replies.order_by("-round").first()
        if reply.answer_class.needs_follow_up:
            on = closed
            for _ in range(rng.randint(1, 2)):
                on = min(on + datetime.timedelta(days=rng.randint(30, 90)), self.today)
                with self.day(on):
                    services.add_follow_up(
                        s, staff, progress=pick(rng, FOLLOW_UPS), completed=rng.random() < 0.3
                    )


def _dates_for(rng, target, sessions, today):
    """(session, period, submitted_on, assigned_on) that let *target* be reached by today."""
    current = sessions[-1]
    if target == Status.CLOSED or target == Status.EVALUATED:
        session = rng.choice(sessions[1:]) if target == Status.CLOSED else rng.choice(sessions[-2:])
    elif target in (Status.DISSATISFIED, Status.REHANDLING, Status.ANSWERED):
        session = current if today.month >= 8 else sessions[-2]
    else:
        session = current
    during = rng.random() < 0.7
    if target in (Status.ASSIGNED, Status.RETURN_REQUESTED):
        assigned = today - datetime.timedelta(days=rng.randint(0, 4))
        submitted = max(assigned - datetime.timedelta(days=rng.randint(8, 30)), session.start_date)
        return session, Period.BETWEEN, submitted, assigned
    if target == Status.HANDLING:
        assigned = today - datetime.timedelta(days=rng.randint(15, 125))
        submitted = max(assigned - datetime.timedelta(days=rng.randint(10, 30)), session.start_date)
        return (
            session,
            Period.DURING if submitted == session.start_date else Period.BETWEEN,
            submitted,
            assigned,
        )
    if target in (Status.SUBMITTED, Status.REGISTERED, Status.CONVERTED):
        submitted = today - datetime.timedelta(days=rng.randint(5, 40))
        return session, Period.BETWEEN, max(submitted, session.start_date), today
    # answered and later
    latest_assign = today - datetime.timedelta(
        days={
            Status.ANSWERED: 40,
            Status.DISSATISFIED: 70,
            Status.REHANDLING: 100,
            Status.EVALUATED: 60,
        }.get(target, 200)
    )
    if during:
        submitted = session.start_date + datetime.timedelta(days=rng.randint(0, 3))
    else:
        submitted = session.start_date + datetime.timedelta(days=rng.randint(30, 240))
    submitted = min(submitted, latest_assign - datetime.timedelta(days=20))
    assigned = min(submitted + datetime.timedelta(days=rng.randint(12, 30)), latest_assign)
    period = (
        Period.DURING if submitted <= (session.end_date or session.start_date) else Period.BETWEEN
    )
    return session, period, submitted, assigned


def load_demo(stdout=None, today=None):
    today = today or timezone.localdate()
    term = services.setup_term(TERM_NUMBER, start_date=datetime.date(today.year - 4, 1, 10))
    if Suggestion.objects.filter(term=term).count() >= 100:
        load_member_demo(term, stdout)
        return
    from budget.demo import ensure_departments

    ensure_departments()
    User = get_user_model()  # noqa: N806
    staff = User.objects.filter(username="staff", is_active=True).first() or next(
        iter(services.staff_users()), None
    )
    if staff is None or not services.is_staff(staff):
        if stdout is not None:
            stdout.write("代表建议：没有工作人员账号，跳过演示数据\n")
        return
    liaison = User.objects.filter(username="liaison", is_active=True).first()
    deputy_user = User.objects.filter(username="deputy", is_active=True).first()
    rng = random.Random(18_2026)
    with transaction.atomic():
        sessions = _sessions(term, today)
        deputies = _deputies(rng, term, deputy_user)
        own = deputies[0] if deputy_user is not None else None
        categories = {c.name: c for c in Category.objects.filter(term=term)}
        classes = {c.code: c for c in AnswerClass.objects.filter(term=term)}
        units = {d.code: d for d in Department.objects.filter(is_active=True)}
        player = _Player(rng, today, staff, liaison, deputy_user, classes)
        plan = list(STATE_PLAN)
        rng.shuffle(plan)
        made = 0
        titles = set()
        for index, target in enumerate(plan):
            topic = TOPICS[index % len(TOPICS)] if rng.random() < 0.75 else rng.choice(TOPICS)
            # the finance bureau (demo liaison) gets its share of every state
            if index % 9 == 0:
                topic = next(t for t in TOPICS if t["lead"] == "006")
            town = rng.choice(TOWNS)
            title = topic["titles"][rng.randrange(len(topic["titles"]))](rng, town)
            for _ in range(6):
                if title not in titles:
                    break
                town = rng.choice(TOWNS)
                title = topic["titles"][rng.randrange(len(topic["titles"]))](rng, town)
            titles.add(title)
            session, period, submitted, assigned = _dates_for(rng, target, sessions, today)
            lead_deputy = own if own is not None and index % 14 == 3 else rng.choice(deputies)
            others = [d for d in deputies if d != lead_deputy]
            kind = SuggestionKind.SUGGESTION
            co_signer_count = rng.choice([0, 0, 1, 2, 3, 5])
            if target == Status.CONVERTED:
                kind, co_signer_count = SuggestionKind.MOTION, rng.randint(4, 7)
            elif index % 37 == 5 and target != Status.SUBMITTED:
                kind, co_signer_count = SuggestionKind.MOTION, rng.randint(10, 14)
            elif rng.random() < 0.08:
                kind = rng.choice([SuggestionKind.CRITICISM, SuggestionKind.OPINION])
            co_signers = rng.sample(others, co_signer_count)
            if own is not None and lead_deputy != own and index % 17 == 6:
                co_signers = [*co_signers, own]
            lead = units.get(topic["lead"])
            co_units = [
                units[c]
                for c in rng.sample(topic["co"], rng.choice([0, 1, 1, 2]))
                if c in units and c != topic["lead"]
            ]
            if lead is None:
                continue
            if kind == SuggestionKind.MOTION:
                title = title.removesuffix("的建议") + "的议案"
            with services.as_of(submitted):
                s = services.submit(
                    staff,
                    term=term,
                    session=session,
                    title=title,
                    content=_content(rng, topic, town),
                    category=categories[topic["category"]],
                    kind=kind,
                    period=period,
                    lead_deputy=lead_deputy,
                    co_signers=co_signers,
                    is_public=rng.random() < 0.3,
                    submitted_on=submitted,
                )
                if rng.random() < 0.12:
                    text = f"{s.title}\n\n领衔代表：{lead_deputy.name}\n\n{s.content}\n"
                    services.add_attachment(
                        s, staff, SimpleUploadedFile("代表建议原文.txt", text.encode("utf-8"))
                    )
            made += 1
            if target != Status.SUBMITTED:
                player.play(s, target, assigned, (lead, co_units))
    load_member_demo(term, stdout)
    if stdout is not None:
        counts = {Status(k).label: v for k, v in _status_counts(term).items()}
        stdout.write(f"代表建议：{term} 登记 {made} 件演示建议（{counts}）\n")


# The two demo deputies who write online (accounts member1 and member2 in cms.demo).
MEMBERS = {
    "member1": {
        "name": "杨丽华",
        "delegation": "甘庄街道代表团",
        "phone": "13988770231",
        "id_number": "530428198204120026",
        "employer": "甘庄街道中心小学",
        "address": "甘庄街道干坝社区8号",
    },
    "member2": {
        "name": "普文忠",
        "delegation": "因远镇代表团",
        "phone": "13887650418",
        "id_number": "530428197509230031",
        "employer": "因远镇安仁村民委员会",
        "address": "因远镇安仁村46号",
    },
}
MEMBER_TEXTS = {
    "draft": (
        "关于加快甘庄街道老旧小区雨污分流改造的建议",
        "甘庄街道干坝、红星等小区建成于上世纪九十年代，雨污合流，雨季污水外溢。"
        "建议县住建局将上述小区纳入明年老旧小区改造计划，分期实施雨污分流。",
    ),
    "invite": (
        "关于提高农村学校营养餐补助标准的建议",
        "近年食材价格上涨，现行营养餐补助标准难以保证学生每餐的肉蛋奶供应。"
        "建议县教育体育局会同县财政局测算成本，争取上级资金并适当提高县级补助。",
    ),
    "returned": (
        "关于改造因远镇农贸市场的建议",
        "因远镇农贸市场设施陈旧，赶集日拥堵。建议改造市场。",
    ),
    "letter": (
        "关于解决本人承包地征收补偿款发放问题的建议",
        "本人承包地于前年被征收用于道路建设，部分补偿款至今未发放，请有关部门帮助解决。",
    ),
}
RETURN_REASON = "请补充市场现状、改造规模和资金来源等具体情况，并明确建议的承办方向后再提交。"
LETTER_REASON = "所提为个人补偿诉求，不属于代表建议范围，按人民来信转县自然资源局办理。"


def _member_deputies(term) -> dict:
    """The two demo deputies' accounts linked to the register (created if missing)."""
    from cms.demo import create_demo_accounts

    create_demo_accounts(list(MEMBERS))
    User = get_user_model()  # noqa: N806
    linked = {}
    for username, details in MEMBERS.items():
        user = User.objects.get(username=username)
        deputy = Deputy.objects.filter(user=user).first()
        if deputy is None:
            deputy = Deputy.objects.filter(name=details["name"], user__isnull=True).first()
            if deputy is None:
                deputy = Deputy.objects.create(**details)
            deputy.user = user
            deputy.save(update_fields=["user"])
        deputy.terms.add(term)
        linked[username] = (user, deputy)
    return linked


def load_member_demo(term, stdout=None) -> None:
    """member1 and member2 write online (domain.md §11): a draft, a draft with a 联名
    invitation from one to the other, a suggestion returned for revision and one turned into
    a letter. Runs through the services; idempotent (skipped once member1 has suggestions)."""
    staff = next(iter(services.staff_users()), None)
    if staff is None:
        return
    with transaction.atomic():
        members = _member_deputies(term)
        (user1, deputy1), (user2, deputy2) = members["member1"], members["member2"]
        if Suggestion.objects.filter(lead_deputy__in=[deputy1, deputy2]).exists():
            return
        session = Session.objects.filter(term=term).order_by("-number").first()
        categories = {c.name: c for c in Category.objects.filter(term=term)}

        def write(user, key, category, period=Period.BETWEEN):
            title, content = MEMBER_TEXTS[key]
            return services.create_draft(
                user,
                session=session,
                title=title,
                content=content,
                category=categories.get(category),
                period=period,
            )

        write(user1, "draft", "城建环资")
        invited = write(user1, "invite", "教科文卫")
        services.invite(invited, user1, [deputy2])
        returned = write(user2, "returned", "财政经济")
        services.deputy_submit(returned, user2)
        services.return_for_revision(returned, staff, RETURN_REASON)
        letter = write(user2, "letter", "农业农村")
        services.deputy_submit(letter, user2)
        services.turn_into_letter(letter, staff, LETTER_REASON)
    if stdout is not None:
        stdout.write(
            f"代表建议：{deputy1.name}（member1）、{deputy2.name}（member2）在线撰写的演示建议 4 件"
            "（草稿、联名邀请、退回修改、转为来信）\n"
        )


def _status_counts(term) -> dict:
    from django.db.models import Count

    rows = Suggestion.objects.filter(term=term).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}
