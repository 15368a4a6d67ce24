"""English and Chinese labels for structures, shocks, metrics and UI words, and matplotlib
set-up for Chinese text.

``label("mean_satisfaction", "zh")`` gives ``"满意度"``; an unknown key is returned as it is.
``use_language("zh")`` points matplotlib at an installed CJK font.
"""

from __future__ import annotations

import matplotlib as mpl
from matplotlib import font_manager

from model.errors import ConfigError

LANGUAGES = ("en", "zh")

STRUCTURES = {
    "bureaucratic": ("bureaucratic", "科层制"),
    "party_led": ("party-led", "党建引领"),
    "grid": ("grid management", "网格化"),
    "sanshe": ("three-society linkage", "三社联动"),
    "decentralised": ("decentralised", "重心下移"),
    "co_governance": ("co-governance", "共建共治共享"),
    "canonical_pgg": ("canonical public goods game", "经典公共物品博弈"),
    "beijing_2019": ("Beijing, January 2019", "北京(2019年1月)"),
    "beijing_reform": ("Beijing after the reform", "北京接诉即办改革后"),
}

SHOCKS = {
    "none": ("no shock", "无冲击"),
    "epidemic": ("epidemic", "疫情"),
    "disaster": ("disaster", "灾害"),
}

_SPENDING_LINES = {
    "department_staff": ("department staff", "部门人员"),
    "workstation_staff": ("workstation staff", "社区工作站人员"),
    "grid_workers": ("grid workers", "网格员"),
    "digital_platform": ("digital platform", "数字平台"),
    "data_sharing": ("data sharing", "数据共享"),
    "building_leaders": ("building leaders' stipends", "楼栋长补贴"),
    "purchase_of_services": ("purchase of services", "政府购买服务"),
    "social_org_grants": ("grants to social organisations", "社会组织孵化资助"),
    "points_rewards": ("points rewards", "积分奖励"),
}

METRICS = {
    "participation_rate": ("participation rate", "参与率"),
    "problem_resolution_rate": ("problems solved, share", "问题解决率"),
    "problems_solved": ("problems solved", "已解决问题数"),
    "problems_unsolved": ("problems left unsolved", "未解决问题数"),
    "callback_resolved_rate": ("solved at the return call", "回访解决率"),
    "callback_satisfied_rate": ("satisfied at the return call", "回访满意率"),
    "on_time_rate": ("closed within the deadline", "按时办结率"),
    "time_to_close_median": ("median days to close", "办结时间中位数(天)"),
    "time_to_close_mean": ("mean days to close (restricted)", "平均办结时间(天)"),
    "time_to_close_single": ("days to close, one department", "单部门诉求办结时间(天)"),
    "time_to_close_complex": ("days to close, complex issues", "跨部门诉求办结时间(天)"),
    "time_to_close_service": ("days to close, service needs", "服务需求办结时间(天)"),
    "abandoned_share": ("abandoned share", "放弃诉求占比"),
    "recurrence_rate": ("fixes that failed", "整改反弹率"),
    "backlog": ("backlog", "积压诉求"),
    "undiscovered": ("undiscovered issues", "未发现诉求"),
    "undiscovered_share": ("undiscovered share of open issues", "未发现诉求占比"),
    "department_queue": ("department queue", "部门待办"),
    "workstation_queue": ("workstation queue", "社区工作站待办"),
    "social_org_queue": ("social-organisation queue", "社会组织待办"),
    "mean_trust": ("institutional trust", "制度信任"),
    "mean_satisfaction": ("satisfaction", "满意度"),
    "satisfaction_gini_households": ("satisfaction Gini across households", "住户间满意度基尼系数"),
    "satisfaction_gini_communities": (
        "satisfaction Gini across communities",
        "社区间满意度基尼系数",
    ),
    **{
        f"spending_{k}": (f"spending: {en}", f"支出: {zh}")
        for k, (en, zh) in _SPENDING_LINES.items()
    },
    "spending_today": ("daily spending", "当日总支出"),
    "predicted": ("predicted", "模型预测"),
    "regret": ("regret", "遗憾值"),
    "best_share": ("share of futures best", "最优情景占比"),
    "coverage": ("coverage", "覆盖率"),
    "density": ("density", "密度"),
    "box": ("box limits (share of range)", "情景框范围(占取值区间)"),
    "always": ("yes in every future", "所有情景均成立"),
    "never": ("yes in no future", "无情景成立"),
    "observed": ("observed", "观测值"),
    "spending_window": ("spending after the burn-in (staff-days)", "预热期后支出(人日)"),
    "spending_total": ("total spending", "累计总支出"),
    "total_budget": ("total budget", "总预算"),
    "unspent": ("budget unspent", "未支出预算"),
    "cost_per_problem_solved": (
        "cost per problem solved (staff-days)",
        "每解决一个问题的成本(人日)",
    ),
    "utilisation_department": ("department utilisation", "部门工作负荷率"),
    "utilisation_workstation": ("workstation utilisation", "社区工作站负荷率"),
    "utilisation_social_org": ("social-organisation utilisation", "社会组织负荷率"),
    "utilisation_grid": ("grid workers' time on casework", "网格员案件工作占比"),
    "n_social_orgs": ("social organisations", "社会组织数量"),
    "social_org_capacity": ("social workers", "社会组织社工人数"),
    "social_org_service_share": ("share of services run by social orgs", "社会组织承接服务占比"),
    "joint_dispatches": ("joint dispatches (whistle)", "吹哨联合派单次数"),
    "discovered_by_self_report": ("found by residents' reports", "居民自报发现"),
    "discovered_by_building_leader": ("found by building leaders", "楼栋长上报发现"),
    "discovered_by_grid_patrol": ("found by grid patrols", "网格巡查发现"),
    "discovered_by_digital_sensing": ("found by digital sensing", "数字感知发现"),
    "requests_per_household_year": ("requests per household and year", "每户每年诉求数"),
    "pressure_share": ("offices under assessment pressure", "受考核压力的部门占比"),
    "time_party_mobilising": ("party member-days mobilising", "党员动员人日"),
    "time_party_contacting": ("party member-days contacting residents", "党员联系群众人日"),
    "time_party_coordinating": ("party member-days blowing the whistle", "党员吹哨协调人日"),
    "time_party_detecting": ("party member-days in the super grid", "党员超级网格巡查人日"),
    "time_department_reporting": ("department staff-days reporting", "部门报到人日"),
    "time_workstation_training": ("workstation staff-days training", "社区工作站培训人日"),
    "time_accountability_effort": ("extra staff-days under assessment", "考核压力下加班人日"),
    "issues_created": ("issues raised", "诉求总数"),
    "issues_resolved": ("issues resolved", "已办结诉求"),
    "issues_open": ("open issues", "未解决诉求"),
    "issues_abandoned": ("issues abandoned", "放弃诉求数"),
    "peak_backlog": ("peak backlog", "积压峰值"),
    "recovery_days": ("days to recover", "恢复天数"),
}

HIGHER_IS_BETTER = {
    "participation_rate",
    "problem_resolution_rate",
    "problems_solved",
    "callback_resolved_rate",
    "callback_satisfied_rate",
    "on_time_rate",
    "mean_trust",
    "mean_satisfaction",
    "social_org_service_share",
}
"""Metrics where more is better; :data:`LOWER_IS_BETTER` the opposite; others are neither."""

LOWER_IS_BETTER = {
    "problems_unsolved",
    "time_to_close_median",
    "time_to_close_mean",
    "time_to_close_single",
    "time_to_close_complex",
    "time_to_close_service",
    "abandoned_share",
    "recurrence_rate",
    "backlog",
    "undiscovered_share",
    "satisfaction_gini_households",
    "satisfaction_gini_communities",
    "cost_per_problem_solved",
    "peak_backlog",
    "recovery_days",
}

LEVERS = {
    "residents.synergy": ("co-production synergy r", "共建协同系数 r"),
    "government.devolution.authority": ("devolved authority", "下放事权"),
    "government.devolution.resources": ("devolved resources", "下沉资源"),
    "government.data_sharing": ("data sharing", "数据共享"),
    "party.whistle": ("whistle: joint dispatch", "吹哨报到"),
    "government.fix_quality": ("chance a fix holds", "整改一次到位概率"),
    "residents.satisfaction_baseline": ("baseline satisfaction", "基础满意度"),
    "discovery.channel_ease": ("reporting channel ease", "诉求渠道便利度"),
    "issues.problems_per_household_year": ("problems per household and year", "每户每年问题数"),
    "government.dispatch_delay": ("days to pass an order up", "上报派单天数"),
    "government.budget": ("budget (staff per 10,000 residents)", "预算(每万居民人员)"),
    "issues.work_spread": ("spread of service times", "办理用时离散度"),
    "social_orgs.incubation_grant": ("grant to found a social organisation", "社会组织孵化资助"),
    "accountability.gaming": ("gaming under assessment", "考核应付行为"),
}

WORDS = {
    "title": ("cogov: urban co-governance", "cogov: 城市多元共治"),
    "day": ("day", "天"),
    "structure": ("structure", "治理结构"),
    "shock": ("shock", "冲击"),
    "seed": ("seed", "随机种子"),
    "mean": ("mean", "均值"),
    "colour_by": ("colour by", "着色"),
    "participation": ("participation", "参与"),
    "trust": ("trust", "信任"),
    "open_issues": ("open issues", "未解决诉求"),
    "co_producer": ("co-producer", "共建者"),
    "free_rider": ("free rider", "搭便车者"),
    "households": ("households", "居民户"),
    "shares": ("shares", "比例"),
    "custom_levers": ("override the structure's levers", "自定义杠杆(覆盖结构预设)"),
    "apply_hint": ("Press Reset to apply new parameters.", "按 Reset 应用新参数。"),
    "levers_in_use": ("levers in use", "当前杠杆"),
    "on": ("on", "开"),
    "off": ("off", "关"),
    "controls": ("controls", "运行控制"),
    "next_run": ("parameters of the next run", "下一次运行的参数"),
    "play_interval": ("pause (ms)", "间隔(毫秒)"),
    "trust_scale": (
        "colours span the 2nd to 98th percentile of today's trust",
        "颜色覆盖当日信任的第2至第98百分位",
    ),
    "shock_ahead": ("{shock} from day {start} to day {end}", "{shock}: 第{start}天至第{end}天"),
    "shock_under_way": (
        "{shock} under way: day {day} of {days} (days {start} to {end})",
        "{shock}进行中: 第{day}/{days}天(第{start}天至第{end}天)",
    ),
    "shock_over": ("{shock} over (days {start} to {end})", "{shock}已结束(第{start}天至第{end}天)"),
    "higher_is_better": ("higher is better", "越高越好"),
    "lower_is_better": ("lower is better", "越低越好"),
    "arrows": ("↑ higher is better, ↓ lower is better", "↑ 越高越好, ↓ 越低越好"),
    "table_note": (
        "mean ± half-width of the 95% confidence interval (Student t), {runs} runs each",
        "均值 ± 95%置信区间半宽(t分布), 每组{runs}次运行",
    ),
    "difference_from": ("difference from {reference}", "与{reference}之差"),
}

LABELS: dict[str, dict[str, str]] = {
    key: {"en": en, "zh": zh}
    for table in (STRUCTURES, SHOCKS, METRICS, LEVERS, WORDS)
    for key, (en, zh) in table.items()
}
"""Internal name -> {"en": ..., "zh": ...}."""

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Droid Sans Fallback",
    "Noto Serif CJK SC",
)
"""CJK font families matplotlib may find, best first."""


def check_language(lang: str) -> str:
    """``lang`` if it is a supported language, else a one-line ``ValueError``."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r} is not allowed; expected one of {', '.join(LANGUAGES)}")
    return lang


def label(key: str, lang: str = "en") -> str:
    """The label of ``key`` in ``lang`` ("en" or "zh"); ``key`` itself when unknown."""
    check_language(lang)
    return LABELS.get(key, {}).get(lang, key)


def arrow(metric: str) -> str:
    """``↑`` when more of ``metric`` is better, ``↓`` when less is, ``""`` when neither."""
    if metric in HIGHER_IS_BETTER:
        return "↑"
    return "↓" if metric in LOWER_IS_BETTER else ""


def _known_cjk_font() -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def cjk_font() -> str | None:
    """The family name of an installed CJK font matplotlib can use, or None.

    Fonts installed after matplotlib cached its font list are found by rescanning once.
    """
    found = _known_cjk_font()
    if found is None:
        known = {font.fname for font in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue  # a font file matplotlib cannot read
        found = _known_cjk_font()
    return found


def require_font(lang: str) -> str | None:
    """The font ``lang`` needs (a CJK font for "zh", None for "en"); a one-line
    :class:`ConfigError` when it is not installed. The ``cogov`` command checks this before
    any run."""
    check_language(lang)
    if lang != "zh":
        return None
    font = cjk_font()
    if font is None:
        raise ConfigError(
            "lang",
            "lang=zh needs a CJK font for Chinese labels; install one, e.g. "
            "`apt-get install fonts-noto-cjk` (or fonts-wqy-zenhei)",
        )
    return font


def use_language(lang: str) -> None:
    """Set matplotlib up to draw text in ``lang``: for "zh" a CJK font first (the default
    sans-serif fonts stay as fallback) and an ASCII minus sign, which CJK fonts lack."""
    font = require_font(lang)
    fonts = mpl.rcParamsDefault["font.sans-serif"]
    if font is not None:
        fonts = [font, *fonts]
    mpl.rcParams.update(
        {"font.family": "sans-serif", "font.sans-serif": fonts, "axes.unicode_minus": lang == "en"}
    )
